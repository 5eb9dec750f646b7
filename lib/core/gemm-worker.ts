// One helper thread of the GEMM pool (gemm-pool.ts). It instantiates the SIMD kernel on the
// pool's shared memory, then sleeps on its control word; each job is a block of C computed
// from operands the main thread already staged in that memory, so nothing is copied per call.
import { parentPort, workerData } from 'node:worker_threads';
import { kernelExports } from './gemm-wasm.js';
import type { KernelArgs } from './gemm-wasm.js';
import { DONE, FAILED, READY, SEQ, STOP } from './gemm-pool-protocol.js';

interface Setup {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  args: SharedArrayBuffer;
}

const { module, memory, control, args } = workerData as Setup;
const kernel = kernelExports(new WebAssembly.Instance(module, { env: { memory } }));
const ctl = new Int32Array(control);
const job = new Float64Array(args);

Atomics.store(ctl, READY, 1);
parentPort?.postMessage('ready');
let seen = 0;
for (;;) {
  Atomics.wait(ctl, SEQ, seen);
  seen = Atomics.load(ctl, SEQ);
  if (seen === STOP) break;
  try {
    kernel.gemm(...(Array.from(job) as KernelArgs));
  } catch {
    Atomics.store(ctl, FAILED, 1);
  }
  Atomics.store(ctl, DONE, seen);
  Atomics.notify(ctl, DONE);
}
