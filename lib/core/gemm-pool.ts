// A pool of worker threads for the WebAssembly GEMM (Node only; the compute code in
// gemm-wasm.ts stays browser-neutral and reaches this only through `setPoolRunners`). The kernel's
// memory is a shared WebAssembly.Memory, so helpers read the operands the calling thread staged
// and write their blocks of C in place: nothing is copied per call. A large product is cut into
// blocks of rows (or of columns, when C is wide) that shrink toward its end, claimed dynamically; the
// calling thread claims blocks too and then waits with Atomics until all are done, so gemmWasm
// stays synchronous. The conv's im2col and col2im passes go through the same jobs, cut by input
// channels instead (see convUnits). Threads are created once; NNZERO_THREADS=1 turns the pool off.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  CHANNEL_PASSES,
  freeRegion,
  gemmKernel,
  reserveScratch,
  scratchBase,
  setPoolRunners,
  type ChannelPass,
} from './gemm-wasm.js';
import type {
  ConvPass,
  GemmKernel,
  Im2colArgs,
  StagedOperand,
  WinogradBandArgs,
} from './gemm-wasm.js';
import {
  BLOCKS,
  claimBlock,
  CONTROL_WORDS,
  convUnits,
  FAILED,
  FINISHED,
  guidedBounds,
  JOB,
  KIND,
  MAX_CHANNEL_ARGS,
  NEXT,
  runBlock,
  SEQ,
  spinUntil,
  STOP,
} from './gemm-pool-protocol.js';

// Below this many multiply-adds (about 0.1 ms on one core) waking a helper costs more than it
// saves.
const PARALLEL_MIN = 128 * 128 * 128;

// Below this many column-matrix entries an im2col / col2im pass stays on the calling thread:
// 1M floats (4 MiB) take about 0.4 ms on one core, and below that waking a helper and the
// memory bandwidth the two threads share ate the gain (measured on the VGG shapes).
const CONV_PARALLEL_MIN = 1 << 20;

// Below this many floats touched a channel pass (a Winograd transform, an element-wise or row
// pass) stays on the calling thread. A conv posts its passes back to back, and helpers poll
// SPIN_MS for the next job, so handing one over costs microseconds: with 128K instead of 1M, the
// Winograd pad, input and output passes of the VGG shapes split too, and two threads took
// 0.1–0.35 ms less per conv (64 → 64 at 112 px … 512 → 512 at 14 px: the passes went from
// 0.25–0.44 to 0.16–0.33 ms each; alternating runs). A VGG-19 style evaluation at 256 px ran alike.
const CHANNEL_PARALLEL_MIN = 1 << 17;

// Blocks per thread of a conv or channel pass: enough that a thread the OS delays leaves its
// share to the others. (A GEMM's blocks shrink toward its end instead: see guidedBounds.)
const BLOCKS_PER_THREAD = 4;

// Rows (or columns) of C a block has at least, unless that would leave a thread without one.
const MIN_BLOCK = 32;

// Row blocks each of a batch's last products is cut into (see runBatch).
const BATCH_PARTS = 4;

interface Pool {
  workers: Worker[];
  ctl: Int32Array;
  job: Float64Array;
  tag: number;
  ready: Promise<number>;
  /** Milliseconds each thread (index 0: the calling one, then the helpers) spent in blocks. */
  busy: Float64Array;
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
  const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
  const job = new SharedArrayBuffer(JOB.length * 8);
  const busy = new SharedArrayBuffer(threads * 8);
  const workers: Worker[] = [];
  const started: Promise<void>[] = [];
  for (let region = 1; region < threads; region++) {
    const worker = spawn({ module: k.module, memory: k.memory, control, job, busy, region });
    worker.unref();
    workers.push(worker);
    started.push(
      new Promise((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
      }),
    );
  }
  const ready = Promise.all(started).then(() => threads);
  pool = {
    workers,
    ctl: new Int32Array(control),
    job: new Float64Array(job),
    tag: 0,
    ready,
    busy: new Float64Array(busy),
  };
  setPoolRunners(RUNNERS);
  return ready;
}

/**
 * Run `body` with the pool set aside: every kernel call inside runs on the calling thread, as
 * with no pool, while the helpers sleep. Lets a benchmark time one thread against the pool in
 * alternating runs of one process, so both see the same machine.
 */
export function withoutPool<T>(body: () => T): T {
  if (!pool) return body();
  setPoolRunners(undefined);
  try {
    return body();
  } finally {
    if (pool) setPoolRunners(RUNNERS);
  }
}

/** Stop the helper threads; gemmWasm runs on the calling thread again. */
export async function stopGemmPool(): Promise<void> {
  if (!pool) return;
  const { workers, ctl } = pool;
  pool = undefined;
  setPoolRunners(undefined);
  Atomics.store(ctl, SEQ, STOP);
  Atomics.notify(ctl, SEQ);
  await Promise.all(workers.map((w) => w.terminate()));
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
  meanwhile?: () => void,
): void {
  const im2col = b.im2col ?? 0;
  if (!pool || M * N * K < PARALLEL_MIN) {
    meanwhile?.();
    k.exports.gemmPacked(
      ...[M, N, K, alpha, a.ptr, a.rs, a.cs, 0, b.ptr, b.rs, b.cs, 0, beta, c.ptr, c.rs, c.cs],
      scratch,
      im2col,
    );
    return;
  }
  const { job } = pool;
  // Cut the longer side of C into blocks of whole register tiles (4 rows) or whole 64-byte
  // cache lines of C (16 columns), so no two threads write the same line; the blocks shrink
  // toward the end of the job (guidedBounds). They keep at least MIN_BLOCK rows (or columns)
  // unless that leaves a thread without one.
  const byRows = M >= N;
  const extent = byRows ? M : N;
  const unit = byRows ? 4 : 16;
  const threads = pool.workers.length + 1;
  const least = Math.min(MIN_BLOCK, Math.ceil(extent / threads / unit) * unit);
  const bounds = guidedBounds(extent, unit, threads, least);
  // Every block reads the whole of one operand (B for blocks of rows, A for columns). Packed
  // once here into free kernel memory, it is shared; when each block packed it for itself (B
  // eight times for 1024³ on two threads), two threads over one measured 1.29–1.63 on square
  // 512 and 1024, and 1.45–1.88 packed once (same process, alternating runs).
  const packed = freeRegion(
    k,
    4 * k.exports.packedFloats(byRows ? 1 : 0, byRows ? K : M, byRows ? N : K),
  );
  if (byRows) k.exports.packBPanels(K, N, b.ptr, b.rs, b.cs, packed, im2col, scratch);
  else k.exports.packAPanels(M, K, a.ptr, a.rs, a.cs, packed);
  job.set([M, N, K, alpha, a.ptr, a.rs, a.cs, b.ptr, b.rs, b.cs, beta, c.ptr, c.rs, c.cs]);
  job[JOB.packed] = packed;
  job[JOB.im2col] = im2col;
  job[JOB.split] = byRows ? 1 : 0;
  job.set(bounds, JOB.bounds);
  job[JOB.scratch] = scratch;
  job[JOB.scratchBytes] = k.scratchBytes;
  job[JOB.kind] = KIND.gemm;
  share(k, pool, bounds.length - 1, meanwhile);
}

// The runner convPassStaged calls: one im2col / col2im pass over `images` staged images, cut
// into blocks of units (convUnits) when its column matrix is large enough.
function runConv(
  k: GemmKernel,
  pass: ConvPass,
  images: number,
  args: Im2colArgs,
  imageStep: number,
  colsStep: number,
  meanwhile?: () => void,
): void {
  const [, C, , , kH, kW, outH, outW] = args;
  const channels = images * C;
  // Kernel rows as units only where channels alone would leave threads idle (im2col only: the
  // rows of one channel of col2im add into the same pixels).
  const rows = pass === 'im2col' && channels < 2 * (pool?.workers.length ?? 0) + 2;
  if (
    !pool ||
    (rows ? channels * kH : channels) < 2 ||
    channels * kH * kW * outH * outW < CONV_PARALLEL_MIN
  ) {
    meanwhile?.();
    const at = [...args] as Im2colArgs;
    for (let n = 0; n < images; n++) {
      at[0] = args[0] + n * imageStep;
      at[14] = args[14] + n * colsStep;
      k.exports[pass](...at);
    }
    return;
  }
  const { job } = pool;
  job.set(args);
  job[JOB.kind] = pass === 'im2col' ? KIND.im2col : KIND.col2im;
  job[JOB.images] = images;
  job[JOB.imageStep] = imageStep;
  job[JOB.colsStep] = colsStep;
  job[JOB.rows] = rows ? 1 : 0;
  const units = convUnits(job);
  const threads = pool.workers.length + 1;
  const size = Math.ceil(units / (threads * BLOCKS_PER_THREAD));
  job[JOB.unitSize] = size;
  share(k, pool, Math.ceil(units / size), meanwhile);
}

// The runner gemmWasmStagedBatch calls: one block per product, each on its thread's scratch,
// except the last `threads` products, which go in BATCH_PARTS blocks of rows each, so that the
// job ends in small blocks (as guidedBounds does for one product): with 16 whole products of
// Winograd's separate passes on two threads, the thread that finished first waited for up to a
// whole product. A block of rows packs its product's B for itself; that is 1/M of its work.
function runBatch(
  k: GemmKernel,
  count: number,
  args: readonly number[],
  aStep: number,
  bStep: number,
  cStep: number,
  bIm2col: number,
): void {
  if (!pool) throw new Error('gemm pool: a batch runner without a pool');
  const { job } = pool;
  job.set(args.slice(0, 14));
  job[JOB.aStep] = aStep;
  job[JOB.bStep] = bStep;
  job[JOB.cStep] = cStep;
  job[JOB.im2col] = bIm2col;
  job[JOB.scratch] = scratchBase(k);
  job[JOB.scratchBytes] = k.scratchBytes;
  job[JOB.kind] = KIND.gemmBatch;
  const threads = pool.workers.length + 1;
  const parts = Math.min(BATCH_PARTS, Math.ceil(args[0]! / 4));
  const whole = parts > 1 ? Math.max(0, count - threads) : count;
  job[JOB.batchWhole] = whole;
  job[JOB.batchParts] = parts;
  share(k, pool, whole + (count - whole) * parts);
}

// The runner channelPassStaged calls: one channel pass (a Winograd transform) cut into blocks
// of channels when it touches enough memory to pay for waking the helpers.
function runChannels(
  k: GemmKernel,
  pass: ChannelPass,
  args: readonly number[],
  steps: readonly number[],
  work: number,
): void {
  const channels = args[1]!;
  if (!pool || channels < 2 || work < CHANNEL_PARALLEL_MIN) {
    (k.exports[pass] as (...a: number[]) => void)(...args);
    return;
  }
  if (args.length > MAX_CHANNEL_ARGS || steps.length !== args.length) {
    throw new Error(`gemm pool: ${pass} needs ≤ ${MAX_CHANNEL_ARGS} arguments, one step each`);
  }
  const { job } = pool;
  job.set(args);
  job.set(steps, JOB.steps);
  job[JOB.kind] = KIND.channels;
  job[JOB.pass] = CHANNEL_PASSES.indexOf(pass);
  job[JOB.argc] = args.length;
  const threads = pool.workers.length + 1;
  const size = Math.ceil(channels / (threads * BLOCKS_PER_THREAD));
  job[JOB.channelsPerBlock] = size;
  share(k, pool, Math.ceil(channels / size));
}

// The runner winogradBandsStaged calls: whole bands per block, each thread on its own V and M.
function runBands(
  k: GemmKernel,
  args: WinogradBandArgs,
  bands: number,
  vm: number,
  vmBytes: number,
): void {
  if (!pool) throw new Error('gemm pool: a band runner without a pool');
  const { job } = pool;
  job.set(args);
  job[JOB.bands] = bands;
  // One band per block: a band is 0.2–2 ms of work, and blocks are handed out dynamically.
  job[JOB.bandsPerBlock] = 1;
  job[JOB.vm] = vm;
  job[JOB.vmBytes] = vmBytes;
  job[JOB.scratch] = scratchBase(k);
  job[JOB.scratchBytes] = k.scratchBytes;
  job[JOB.kind] = KIND.winogradBands;
  share(k, pool, bands);
}

const RUNNERS = {
  gemm: run,
  batch: runBatch,
  conv: runConv,
  channels: runChannels,
  bands: runBands,
};

// Post the job now in pool.job as `blocks` blocks, run `meanwhile` (the caller's own serial work,
// if any) while the helpers start on them, then run blocks on this thread too, and wait with
// Atomics until every block is finished. An error here (a block's or meanwhile's) is remembered,
// not rethrown at once: helpers may still be inside this job, and the next job must not start
// under them.
function share(k: GemmKernel, p: Pool, blocks: number, meanwhile?: () => void): void {
  const { ctl, job } = p;
  const tag = post(p, blocks);
  let own: unknown;
  if (meanwhile !== undefined) {
    try {
      meanwhile();
    } catch (e) {
      own = e;
    }
  }
  for (let index = claimBlock(ctl, tag); index >= 0; index = claimBlock(ctl, tag)) {
    const t0 = performance.now();
    try {
      runBlock(k.exports, job, index, 0);
    } catch (e) {
      own ??= e;
    }
    p.busy[0]! += performance.now() - t0;
    Atomics.add(ctl, FINISHED, 1);
  }
  waitFinished(p, blocks);
  if (own !== undefined) throw own;
  if (Atomics.load(ctl, FAILED) !== 0) throw new Error('gemm: a GEMM helper thread failed');
}

// Post the job in p.job as `blocks` blocks under a new tag and wake the helpers; returns the tag.
function post(p: Pool, blocks: number): number {
  const { ctl } = p;
  // Tags run 1..32767 so that (tag << 16) | index fits an int32 with room for 65535 blocks.
  const tag = (p.tag = (p.tag % 32767) + 1);
  Atomics.store(ctl, BLOCKS, blocks);
  Atomics.store(ctl, FINISHED, 0);
  Atomics.store(ctl, FAILED, 0);
  Atomics.store(ctl, NEXT, tag << 16);
  Atomics.store(ctl, SEQ, tag);
  Atomics.notify(ctl, SEQ);
  return tag;
}

// Wait (polling, then sleeping) until `blocks` blocks of the current job are finished.
function waitFinished(p: Pool, blocks: number): void {
  const { ctl } = p;
  spinUntil(() => Atomics.load(ctl, FINISHED) >= blocks);
  for (let done = Atomics.load(ctl, FINISHED); done < blocks; done = Atomics.load(ctl, FINISHED)) {
    Atomics.wait(ctl, FINISHED, done);
  }
}

/**
 * Milliseconds each thread of the pool has spent running blocks of jobs since it started (index
 * 0: the calling thread, then each helper; wake-ups not counted), or null without a pool. A
 * benchmark reads it before and after pooled runs: the threads' busy time over threads × wall
 * time is how fully the pool kept them working, apart from how fast the work ran.
 */
export function poolBusyMs(): number[] | null {
  return pool ? Array.from(pool.busy) : null;
}

/**
 * Wake the helper threads and return once each has taken a block of an empty job (or SPIN_MS
 * has passed; this thread then takes what is left): each is then running, and polls SPIN_MS for
 * the next job before it sleeps again. A benchmark calls it,
 * untimed, before timing a run on the pool right after a run without it, so that the timed run
 * does not include the helpers' wake-up after idling (0.3–0.9 ms after a one-thread conv of
 * 8–30 ms here), which back-to-back kernel calls, as in a network, do not pay.
 */
export function wakePool(): void {
  if (!pool) return;
  const { ctl, job } = pool;
  const blocks = pool.workers.length;
  job[JOB.kind] = KIND.wake;
  const tag = post(pool, blocks);
  // Blocks no helper took within SPIN_MS (one that has not started yet, or never wakes) are
  // taken here, empty, so this returns whatever the helpers do.
  spinUntil(() => (Atomics.load(ctl, NEXT) & 0xffff) >= blocks);
  for (let index = claimBlock(ctl, tag); index >= 0; index = claimBlock(ctl, tag)) {
    Atomics.add(ctl, FINISHED, 1);
  }
  waitFinished(pool, blocks);
}
