// A pool of worker threads for the WebAssembly GEMM (Node only; the compute code in
// gemm-wasm.ts stays browser-neutral and calls this only through `setGemmRunner`). The kernel's
// memory is a shared WebAssembly.Memory, so helpers read the operands the calling thread
// staged and write their own block of C in place: nothing is copied per call. A large product
// is split into one block of rows (or of columns, when C is wide) per thread; the calling
// thread computes the first block and waits on the others with Atomics, so gemmWasm stays
// synchronous. Threads are created once; NNZERO_THREADS=1 turns the pool off.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { gemmKernel, reserveScratch, setGemmRunner } from './gemm-wasm.js';
import type { GemmKernel, KernelArgs, StagedOperand } from './gemm-wasm.js';
import { ARGS, CONTROL_WORDS, DONE, FAILED, READY, SEQ, STOP } from './gemm-pool-protocol.js';

// Below this many multiply-adds (about 0.1 ms on one core) waking a helper costs more than it
// saves.
const PARALLEL_MIN = 128 * 128 * 128;

interface Helper {
  worker: Worker;
  ctl: Int32Array;
  args: Float64Array;
  seq: number;
}

interface Pool {
  helpers: Helper[];
  ready: Promise<number>;
}

let pool: Pool | undefined;

interface TsxManifest {
  exports: { './esm/api': { import: { default: string } } };
}

/** Threads to use: NNZERO_THREADS if set, else every core the OS offers. */
export function defaultThreads(): number {
  const env = Number.parseInt(process.env['NNZERO_THREADS'] ?? '', 10);
  return Number.isFinite(env) && env >= 1 ? env : availableParallelism();
}

// Under tsx the sources are .ts and a worker must register tsx before it can load one; after
// `tsc` the worker is plain .js beside this file. tsx's ESM API is located through its own
// exports map, from this file, so the pool works whatever the current directory is.
function spawn(workerData: object): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./gemm-worker.js', here), { workerData });
  const require = createRequire(here);
  const manifest = require('tsx/package.json') as TsxManifest;
  const api = new URL(
    manifest.exports['./esm/api'].import.default,
    pathToFileURL(require.resolve('tsx/package.json')),
  );
  const entry = new URL('./gemm-worker.ts', here);
  const boot = `import(${JSON.stringify(api.href)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

/**
 * Start the GEMM thread pool (once; later calls return the same promise). Resolves to the
 * number of threads large gemmWasm calls will use, counting the calling thread.
 */
export function startGemmPool(threads = defaultThreads()): Promise<number> {
  if (pool) return pool.ready;
  const k = gemmKernel();
  if (threads < 2 || !(k.memory.buffer instanceof SharedArrayBuffer)) return Promise.resolve(1);
  reserveScratch(threads - 1);
  const helpers: Helper[] = [];
  const started: Promise<void>[] = [];
  for (let i = 0; i < threads - 1; i++) {
    const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
    const args = new SharedArrayBuffer(ARGS * 8);
    const worker = spawn({ module: k.module, memory: k.memory, control, args });
    worker.unref();
    const helper = { worker, ctl: new Int32Array(control), args: new Float64Array(args), seq: 0 };
    helpers.push(helper);
    started.push(
      new Promise((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
      }),
    );
  }
  pool = { helpers, ready: Promise.all(started).then(() => helpers.length + 1) };
  setGemmRunner(run);
  return pool.ready;
}

/** Stop the helper threads; gemmWasm runs on the calling thread again. */
export async function stopGemmPool(): Promise<void> {
  if (!pool) return;
  const { helpers } = pool;
  pool = undefined;
  setGemmRunner(undefined);
  for (const h of helpers) {
    Atomics.store(h.ctl, SEQ, STOP);
    Atomics.notify(h.ctl, SEQ);
  }
  await Promise.all(helpers.map((h) => h.worker.terminate()));
}

// The runner gemm-wasm.ts calls with operands already staged in kernel memory.
function run(
  k: GemmKernel,
  M: number,
  N: number,
  K: number,
  alpha: number,
  a: StagedOperand,
  b: StagedOperand,
  beta: number,
  c: StagedOperand,
  scratch: number,
): void {
  const ready = pool ? pool.helpers.filter((h) => Atomics.load(h.ctl, READY) === 1) : [];
  if (ready.length === 0 || M * N * K < PARALLEL_MIN) {
    k.exports.gemm(
      M,
      N,
      K,
      alpha,
      a.ptr,
      a.rs,
      a.cs,
      b.ptr,
      b.rs,
      b.cs,
      beta,
      c.ptr,
      c.rs,
      c.cs,
      scratch,
    );
    return;
  }
  // Split the longer side of C; blocks are whole register tiles (4 rows) or whole 64-byte
  // cache lines of C (16 columns), so threads never write the same line.
  const byRows = M >= N;
  const extent = byRows ? M : N;
  const unit = byRows ? 4 : 16;
  const chunk = Math.ceil(extent / (ready.length + 1) / unit) * unit;
  const block = (start: number, region: number): KernelArgs => {
    const len = Math.min(chunk, extent - start);
    const aPtr = byRows ? a.ptr + start * a.rs * 4 : a.ptr;
    const bPtr = byRows ? b.ptr : b.ptr + start * b.cs * 4;
    const cPtr = c.ptr + start * (byRows ? c.rs : c.cs) * 4;
    const [m, n] = byRows ? [len, N] : [M, len];
    return [m, n, K, alpha, aPtr, a.rs, a.cs, bPtr, b.rs, b.cs, beta, cPtr, c.rs, c.cs, region];
  };
  const busy: Helper[] = [];
  for (let i = 0; i < ready.length && (i + 1) * chunk < extent; i++) {
    const h = ready[i]!;
    h.args.set(block((i + 1) * chunk, scratch + (i + 1) * k.scratchBytes));
    h.seq = (h.seq + 1) & 0x3fffffff;
    Atomics.store(h.ctl, SEQ, h.seq);
    Atomics.notify(h.ctl, SEQ);
    busy.push(h);
  }
  k.exports.gemm(...block(0, scratch));
  for (const h of busy) {
    for (let done = Atomics.load(h.ctl, DONE); done !== h.seq; done = Atomics.load(h.ctl, DONE)) {
      Atomics.wait(h.ctl, DONE, done);
    }
    if (Atomics.load(h.ctl, FAILED) !== 0) throw new Error('gemm: a GEMM helper thread failed');
  }
}
