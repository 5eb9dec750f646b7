// One helper thread of the GEMM pool (gemm-pool.ts). It instantiates the SIMD kernel on the
// pool's shared memory and sleeps on the control block (after polling it briefly, see SPIN_MS);
// when a job is posted it claims blocks (of C, of input channels for im2col / col2im, of
// channels for the Winograd transforms) until none are left. Operands were staged in that memory by the calling thread, so nothing is
// copied per call.
import { parentPort, workerData } from 'node:worker_threads';
import { kernelExports } from './gemm-wasm.js';
import {
  claimBlock,
  FAILED,
  FINISHED,
  JOB,
  KIND,
  runBlock,
  SEQ,
  spinUntil,
  STOP,
} from './gemm-pool-protocol.js';

interface Setup {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  job: SharedArrayBuffer;
  busy: SharedArrayBuffer;
  region: number;
}

const { module, memory, control, job, busy, region } = workerData as Setup;
const kernel = kernelExports(new WebAssembly.Instance(module, { env: { memory } }));
const ctl = new Int32Array(control);
const slots = new Float64Array(job);
// This thread's milliseconds in blocks (poolBusyMs), slot `region`; only this thread writes it.
const busyMs = new Float64Array(busy);

// The tag seen last is read before 'ready' goes out: read after it, it could already be the
// first job's (the pool posts jobs once every helper is ready), and that job would be missed.
let tag = Atomics.load(ctl, SEQ);
parentPort?.postMessage('ready');
for (;;) {
  spinUntil(() => Atomics.load(ctl, SEQ) !== tag);
  Atomics.wait(ctl, SEQ, tag);
  tag = Atomics.load(ctl, SEQ);
  if (tag === STOP) break;
  const waking = slots[JOB.kind] === KIND.wake;
  for (let index = claimBlock(ctl, tag); index >= 0; index = claimBlock(ctl, tag)) {
    const t0 = performance.now();
    try {
      runBlock(kernel, slots, index, region, ctl);
    } catch {
      Atomics.store(ctl, FAILED, 1);
    }
    if (!waking) busyMs[region]! += performance.now() - t0;
    Atomics.add(ctl, FINISHED, 1);
    Atomics.notify(ctl, FINISHED);
  }
}
