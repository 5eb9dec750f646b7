// What the GEMM pool (gemm-pool.ts) and its helper threads (gemm-worker.ts) share: one Int32Array
// control block, one Float64Array holding the current job, and the rule for claiming a block of
// it. A job is a GEMM (blocks of C), a wake-up of the helpers (one empty block each), a batch of GEMMs (one product per block), an im2col / col2im pass (blocks of input channels), a
// channel pass such as a Winograd transform (blocks of channels) or a fused Winograd conv (blocks
// of bands of tile rows), told apart by its kind. Blocks
// are handed out dynamically, so a helper the OS has not scheduled yet simply gets fewer of
// them; nobody waits for an idle thread.
import { CHANNEL_PASSES } from './gemm-wasm.js';
import type { GemmKernelExports, Im2colArgs, KernelArgs, WinogradBandArgs } from './gemm-wasm.js';

/** Control word: the current job's tag; helpers sleep on it, STOP tells them to exit. */
export const SEQ = 0;
/** Control word: (tag << 16) | index of the next unclaimed block. */
export const NEXT = 1;
/** Control word: blocks of the current job that are finished. */
export const FINISHED = 2;
/** Control word: set to 1 if any block of the current job threw. */
export const FAILED = 3;
/** Control word: number of blocks in the current job. */
export const BLOCKS = 4;
/** Words in the control block. */
export const CONTROL_WORDS = 5;
/** The SEQ value that tells helpers to exit. */
export const STOP = -1;

/** What a job computes; slot JOB.kind holds one of these. */
export const KIND = {
  gemm: 0,
  im2col: 1,
  col2im: 2,
  channels: 3,
  gemmBatch: 4,
  winogradBands: 5,
  wake: 6,
} as const;

/** Most blocks a GEMM job is cut into (see guidedBounds); the job holds their bounds. */
export const MAX_GEMM_BLOCKS = 64;

/**
 * Job slots. A GEMM job holds the 14 kernel arguments before `scratch` in slots 0–13, then how
 * it is cut into blocks; an im2col / col2im job holds the 16 Im2colArgs of image 0 in slots
 * 0–15, then the image count, the byte steps between images, the units per block and what a
 * unit is; a channel pass holds its arguments from slot 0, which pass it is, and each
 * argument's byte step per channel.
 */
export const JOB = {
  split: 14, // GEMM: 1: blocks of rows; 0: blocks of columns
  batchWhole: 15, // GEMM batch: products taken whole, one per block (the rest in row parts)
  scratch: 16, // GEMM: byte address of scratch region 0 (the calling thread's)
  scratchBytes: 17, // GEMM: bytes per scratch region
  kind: 18, // a KIND value
  images: 19, // conv: images in the pass
  imageStep: 20, // conv: bytes from one image to the next
  colsStep: 21, // conv: bytes from one image's columns to the next
  unitSize: 22, // conv: units (see convUnits) per block
  rows: 23, // conv: 1 if im2col units are single kernel rows, 0 if whole channels
  pass: 24, // channels: index into CHANNEL_PASSES
  argc: 25, // channels: number of arguments, in slots 0 …
  channelsPerBlock: 26, // channels: channels per block
  steps: 27, // channels: byte step per channel of each argument, slots 27 … 27 + argc − 1
  aStep: 39, // GEMM batch: bytes from one product's A to the next
  bStep: 40, // GEMM batch: … B …
  cStep: 41, // GEMM batch: … C …
  packed: 42, // GEMM: byte address of the shared operand packed whole (B for rows, A for columns)
  bands: 43, // Winograd bands: bands of the image (its 15 WinogradBandArgs are in slots 0–14)
  bandsPerBlock: 44, // Winograd bands: bands per block
  vm: 45, // Winograd bands: byte address of region 0's V and M
  vmBytes: 46, // Winograd bands: bytes from one region's V and M to the next
  batchParts: 47, // GEMM batch: row parts each product after the whole ones is cut into
  im2col: 48, // GEMM, batch: byte address of B's Im2colDescriptor when B is implicit, else 0
  bounds: 49, // GEMM: first row (or column) of each block, then M (or N): blocks + 1 slots
  length: 49 + MAX_GEMM_BLOCKS + 1,
} as const;

/**
 * How long a thread polls before it sleeps: a helper after its last block, for the next job; the
 * calling thread for the helpers' last blocks. Waking a sleeping thread took 44–156 µs (median)
 * here and up to several ms after its core had idled, while a Winograd transform pass takes
 * 0.2–1 ms and one conv posts five jobs in a row; two threads over one went from 1.45 to 1.53
 * on average over the VGG conv shapes (forward and backward-input, alternating runs).
 */
export const SPIN_MS = 2;

/** Poll until `done()` or SPIN_MS have passed (then the caller sleeps on the word as before). */
export function spinUntil(done: () => boolean): void {
  const t0 = performance.now();
  while (!done() && performance.now() - t0 < SPIN_MS);
}

/** Arguments a channel pass may have (the slots JOB.steps … hold one step for each). */
export const MAX_CHANNEL_ARGS = 12;

/**
 * Claim the next block of job `tag`, or return -1 when the job is over or has been replaced.
 * A successful claim also guarantees the job (and so its slots) stays put until that block is
 * counted in FINISHED, because the caller waits for every block before it posts another job.
 */
export function claimBlock(ctl: Int32Array, tag: number): number {
  for (;;) {
    const next = Atomics.load(ctl, NEXT);
    if (next >>> 16 !== tag) return -1;
    const index = next & 0xffff;
    if (index >= Atomics.load(ctl, BLOCKS)) return -1;
    if (Atomics.compareExchange(ctl, NEXT, next, next + 1) === next) return index;
  }
}

// Slots 0 … count − 1 of the job as a new array (the arguments a block adjusts and passes on).
function jobArgs(job: Float64Array, count: number): number[] {
  const args = new Array<number>(count);
  for (let i = 0; i < count; i++) args[i] = job[i]!;
  return args;
}

/**
 * Where to cut `extent` rows (or columns) of C into blocks, by guided self-scheduling
 * (Polychronopoulos & Kuck, 1987): each block takes a share of what is left, ⌈left / (2·threads)⌉
 * whole units, but at least `least` rows (columns), so blocks shrink toward the end of the job.
 * Blocks are claimed dynamically, and a thread that finds none left waits for the others' last
 * ones: equal blocks left that wait as long as half a block on average, and a last block smaller
 * than the rest (577 columns as 7 × 80 + 17) made one thread do a whole block more. On the VGG
 * backward-to-weights products on two threads the calling thread waited 0.6–1.8 ms per call with
 * eight equal blocks and 0.2–0.55 ms guided, and the calls took 17.5–21 ms against 18.3–22 ms
 * (alternating runs, one process); square GEMMs of 512–2048 ran alike. Returns the
 * bounds 0 = s₀ < s₁ < … = extent (block i is rows s_i … s_{i+1} − 1), at most MAX_GEMM_BLOCKS
 * blocks.
 */
export function guidedBounds(
  extent: number,
  unit: number,
  threads: number,
  least: number,
): number[] {
  const units = Math.ceil(extent / unit);
  const leastUnits = Math.max(1, Math.ceil(least / unit), Math.ceil(units / MAX_GEMM_BLOCKS));
  const bounds = [0];
  for (let done = 0; done < units;) {
    done += Math.min(units - done, Math.max(leastUnits, Math.ceil((units - done) / (2 * threads))));
    bounds.push(Math.min(extent, done * unit));
  }
  return bounds;
}

/**
 * Block `index` of a batch job: which product, and which of its rows (row0 … row0 + rows − 1).
 * The first JOB.batchWhole products are one block each; every later one is JOB.batchParts
 * blocks of whole 4-row register tiles (the last may be shorter, or empty).
 */
export function batchBlock(
  job: Float64Array,
  index: number,
): { product: number; row0: number; rows: number } {
  const M = job[0]!;
  const whole = job[JOB.batchWhole]!;
  if (index < whole) return { product: index, row0: 0, rows: M };
  const parts = job[JOB.batchParts]!;
  const part = (index - whole) % parts;
  const size = Math.ceil(M / parts / 4) * 4;
  const row0 = Math.min(M, part * size);
  return {
    product: whole + Math.floor((index - whole) / parts),
    row0,
    rows: Math.min(size, M - row0),
  };
}

/** Kernel arguments for block `index` of the job in `job`, using scratch region `region`. */
export function blockArgs(job: Float64Array, index: number, region: number): KernelArgs {
  const args = jobArgs(job, 14);
  const byRows = job[JOB.split] === 1;
  const start = job[JOB.bounds + index]!;
  const len = job[JOB.bounds + index + 1]! - start;
  if (byRows) {
    args[0] = len;
    args[4] += start * args[5] * 4; // A pointer moves down `start` rows
    args[11] += start * args[12] * 4; // so does C's
  } else {
    args[1] = len;
    args[7] += start * args[9] * 4; // B pointer moves right `start` columns
    args[11] += start * args[13] * 4; // so does C's
  }
  args.push(job[JOB.scratch] + region * job[JOB.scratchBytes]);
  return args as KernelArgs;
}

/**
 * Units of work in a conv pass, each writing memory no other unit touches: one per (image,
 * channel c), which im2col fills column-matrix rows c·kH·kW … of and col2im zeroes and sums
 * channel c of dx from (so its sums keep the kernel's order). With JOB.rows = 1 (im2col of few
 * channels, which would leave too few units) a unit is one kernel row i of a channel instead,
 * rows (c·kH + i)·kW ….
 */
export function convUnits(job: Float64Array): number {
  return job[JOB.images]! * job[1]! * (job[JOB.rows] === 1 ? job[4]! : 1);
}

/**
 * Kernel arguments that run `count` consecutive units from unit `u` of the conv job in `job` as
 * one call; they must lie in one image (and, for kernel-row units, in one channel). The call
 * sees only those channels (or those kernel rows, their offset i·dilationH folded into padTop),
 * at their own image and column addresses, so it writes exactly what the whole call would have
 * written there: the result is the same to the bit as one call per image.
 */
export function convUnitArgs(job: Float64Array, u: number, count: number): Im2colArgs {
  const args = jobArgs(job, 16) as Im2colArgs;
  const [, C, H, W, kH, kW] = args;
  const ld = args[15];
  const rows = job[JOB.rows] === 1;
  const perImage = rows ? C * kH : C;
  const n = Math.floor(u / perImage);
  const r = u - n * perImage;
  const c = rows ? Math.floor(r / kH) : r;
  const row = rows ? r : c * kH; // first kernel row (c·kH + i) of the call
  args[0] += n * job[JOB.imageStep]! + c * H * W * 4;
  args[14] += n * job[JOB.colsStep]! + row * kW * ld * 4;
  if (rows) {
    args[1] = 1;
    args[4] = count;
    args[10] -= (r - c * kH) * args[12]; // padTop − i·dilationH
  } else {
    args[1] = count;
  }
  return args;
}

/**
 * Run block `index` of the current job on `kernel`, using scratch region `region` for a GEMM;
 * `ctl` is the control block (a wake job's blocks read it).
 */
export function runBlock(
  kernel: GemmKernelExports,
  job: Float64Array,
  index: number,
  region: number,
  ctl?: Int32Array,
): void {
  const kind = job[JOB.kind];
  if (kind === KIND.wake) {
    // Nothing to compute (see wakePool): hold this helper until every block is claimed, each by
    // another helper now awake, for at most SPIN_MS.
    if (ctl !== undefined) {
      spinUntil(() => (Atomics.load(ctl, NEXT) & 0xffff) >= Atomics.load(ctl, BLOCKS));
    }
    return;
  }
  if (kind === KIND.gemm) {
    // The operand all blocks share was packed whole once (see gemm-pool.ts): B for blocks of
    // rows, A for blocks of columns; this block packs only its own slice of the other.
    const [M, N, K, alpha, a, aRs, aCs, b, bRs, bCs, beta, c, cRs, cCs, scratch] = blockArgs(
      job,
      index,
      region,
    );
    const packed = job[JOB.packed]!;
    const [aPacked, bPacked] = job[JOB.split] === 1 ? [0, packed] : [packed, 0];
    kernel.gemmPacked(
      M,
      N,
      K,
      alpha,
      a,
      aRs,
      aCs,
      aPacked,
      b,
      bRs,
      bCs,
      bPacked,
      beta,
      c,
      cRs,
      cCs,
      scratch,
      job[JOB.im2col]!,
    );
    return;
  }
  if (kind === KIND.gemmBatch) {
    // Rows row0 … of one product of the batch (batchBlock): its A, B, C moved on to that
    // product, and A and C down to row0.
    const { product, row0, rows } = batchBlock(job, index);
    if (rows <= 0) return;
    const args = jobArgs(job, 14);
    args[0] = rows;
    args[4]! += product * job[JOB.aStep]! + row0 * args[5]! * 4;
    args[7]! += product * job[JOB.bStep]!;
    args[11]! += product * job[JOB.cStep]! + row0 * args[12]! * 4;
    const [M, N, K, alpha, a, aRs, aCs, b, bRs, bCs, beta, c, cRs, cCs] = args;
    kernel.gemmPacked(
      ...[M, N, K, alpha, a, aRs, aCs, 0, b, bRs, bCs, 0, beta, c, cRs, cCs],
      job[JOB.scratch]! + region * job[JOB.scratchBytes]!,
      job[JOB.im2col]!,
    );
    return;
  }
  if (kind === KIND.winogradBands) {
    // Bands index·size …, on this thread's own V, M and GEMM scratch.
    const args = jobArgs(job, 15) as WinogradBandArgs;
    const size = job[JOB.bandsPerBlock]!;
    const band0 = index * size;
    kernel.winogradBands(
      ...args,
      band0,
      Math.min(size, job[JOB.bands]! - band0),
      job[JOB.vm]! + region * job[JOB.vmBytes]!,
      job[JOB.scratch]! + region * job[JOB.scratchBytes]!,
    );
    return;
  }
  if (kind === KIND.channels) {
    const pass = kernel[CHANNEL_PASSES[job[JOB.pass]!]!] as (...a: number[]) => void;
    pass(...channelBlockArgs(job, index));
    return;
  }
  if (kind !== KIND.im2col && kind !== KIND.col2im) throw new Error(`gemm pool: job kind ${kind}`);
  const pass = kind === KIND.im2col ? kernel.im2col : kernel.col2im;
  const size = job[JOB.unitSize]!;
  const end = Math.min(convUnits(job), (index + 1) * size);
  // Units that share an image (kernel rows: a channel) run as one call.
  const group = job[JOB.rows] === 1 ? job[4]! : job[1]!;
  for (let u = index * size; u < end;) {
    const stop = Math.min(end, (Math.floor(u / group) + 1) * group);
    pass(...convUnitArgs(job, u, stop - u));
    u = stop;
  }
}

/**
 * Arguments of block `index` of a channel pass: channels index·size … of the call's count
 * (argument 1), every pointer moved on by that many of its per-channel steps.
 */
export function channelBlockArgs(job: Float64Array, index: number): number[] {
  const argc = job[JOB.argc]!;
  const size = job[JOB.channelsPerBlock]!;
  const first = index * size;
  // A plain loop: Array.from over a subarray (a new view, then the iterator protocol) cost more
  // than many small blocks' work (L-BFGS's vector passes run a dozen blocks per call).
  const args = new Array<number>(argc);
  for (let i = 0; i < argc; i++) args[i] = job[i]! + first * job[JOB.steps + i]!;
  args[1] = Math.min(size, args[1]! - first);
  return args;
}
