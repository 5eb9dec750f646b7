// The vector operations of L-BFGS's two-loop recursion (lbfgs.ts) on float64 vectors: a dot
// product, y ← y + a·x, and the fused passes that do both at once. Each dot product is summed in
// blocks of BLOCK entries, and each block in four running sums (entries k ≡ 0, 1, 2, 3 mod 4,
// added as (s0 + s1) + (s2 + s3), then the block's last entries); the blocks' sums are added in
// order. Four running sums, because one waits a floating-point add's latency per entry; blocks,
// because then the WebAssembly kernel (assembly/vectors.ts) can run them, two lanes per
// instruction and split over the thread pool by blocks, with the same bits as these loops.
// It does when every vector is resident (vectorZeros); otherwise the loops here run.
import { channelPassStaged, residentAddress64, residentAlloc64 } from '../core/index.js';
import type { ChannelPass } from '../core/index.js';

/** Entries per block of a dot product (128 KiB of float64): 12 blocks at 256 px (196k entries). */
export const BLOCK = 16384;

/** A float64 vector of n zeros, in kernel memory where it can be, so the kernel runs on it. */
export function vectorZeros(n: number): Float64Array {
  return residentAlloc64(n) ?? new Float64Array(n);
}

// The blocks' sums from the kernel, in kernel memory: grown as needed and reused.
let partials: Float64Array | null = null;

// What each argument of a kernel pass is: a vector (moves BLOCK entries per block), a number, or
// the blocks' sums (one entry per block).
type Arg = ['vector', Float64Array] | ['number', number] | ['sums'];

// Run `pass` on the kernel over the n entries of its vectors (whole blocks, then the rest as one
// short block) and return the sum of the blocks' sums (0 if it writes none); null, doing
// nothing, where a vector or the sums are not in kernel memory.
function onKernel(pass: ChannelPass, n: number, args: readonly Arg[]): number | null {
  const blocks = Math.ceil(n / BLOCK);
  if (partials === null || partials.length < blocks) partials = residentAlloc64(blocks);
  if (partials === null) return null;
  const at: number[] = [];
  for (const a of args) {
    const p = a[0] === 'vector' ? residentAddress64(a[1], 0) : null;
    if (a[0] === 'vector' && (p === null || a[1].length !== n)) return null;
    at.push(a[0] === 'vector' ? p! : a[0] === 'number' ? a[1] : residentAddress64(partials, 0)!);
  }
  const steps = args.map((a) => (a[0] === 'vector' ? 8 * BLOCK : a[0] === 'sums' ? 8 : 0));
  const vectors = args.filter((a) => a[0] === 'vector').length;
  // [first argument, block count, the rest…, block length], as the kernel takes them.
  const call = (from: readonly number[], count: number, length: number): number[] => [
    from[0]!,
    count,
    ...from.slice(1),
    length,
  ];
  const noSteps = call(steps, 0, 0);
  const whole = Math.floor(n / BLOCK);
  if (whole > 0) channelPassStaged(pass, call(at, whole, BLOCK), noSteps, 2 * vectors * n);
  const rest = n - whole * BLOCK;
  if (rest > 0) {
    const moved = at.map((p, i) => p + whole * steps[i]!);
    channelPassStaged(pass, call(moved, 1, rest), noSteps, 2 * vectors * rest);
  }
  let total = 0;
  for (let i = 0; i < blocks; i++) total += partials[i]!;
  return total;
}

// The block sum of a·b over entries [start, end), in the four running sums.
function dotBlock(a: Float64Array, b: Float64Array, start: number, end: number): number {
  const stop = end - ((end - start) % 4);
  let [s0, s1, s2, s3] = [0, 0, 0, 0];
  for (let i = start; i < stop; i += 4) {
    s0 += a[i]! * b[i]!;
    s1 += a[i + 1]! * b[i + 1]!;
    s2 += a[i + 2]! * b[i + 2]!;
    s3 += a[i + 3]! * b[i + 3]!;
  }
  let s = s0 + s1 + (s2 + s3);
  for (let i = stop; i < end; i++) s += a[i]! * b[i]!;
  return s;
}

/** aᵀb. */
export function dotProduct(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  const fast = onKernel('dotBlocks', n, [['vector', a], ['vector', b], ['sums']]);
  if (fast !== null) return fast;
  let total = 0;
  for (let start = 0; start < n; start += BLOCK) {
    total += dotBlock(a, b, start, Math.min(n, start + BLOCK));
  }
  return total;
}

/** y ← y + a·x. */
export function axpy(y: Float64Array, a: number, x: Float64Array): void {
  if (
    onKernel('axpyBlocks', y.length, [
      ['vector', y],
      ['number', a],
      ['vector', x],
    ]) !== null
  ) {
    return;
  }
  for (let i = 0, n = y.length; i < n; i++) y[i] += a * x[i]!;
}

/**
 * y ← γ·(y + a·x), returning zᵀy of the result (as dotProduct(z, y) would sum it) in the same
 * pass over y. γ = 1 (axpyDot) multiplies by one, which is exact.
 */
export function axpyScaleDot(
  y: Float64Array,
  a: number,
  x: Float64Array,
  gamma: number,
  z: Float64Array,
): number {
  const n = y.length;
  const fast = onKernel('axpyScaleDotBlocks', n, [
    ['vector', y],
    ['number', a],
    ['vector', x],
    ['number', gamma],
    ['vector', z],
    ['sums'],
  ]);
  if (fast !== null) return fast;
  let total = 0;
  for (let start = 0; start < n; start += BLOCK) {
    total += axpyScaleDotBlock(y, a, x, gamma, z, start, Math.min(n, start + BLOCK));
  }
  return total;
}

// axpyScaleDot over entries [start, end): each new y[i] is added into its running sum as it is
// written (one pass over the block, where updating and then calling dotBlock took two, 1.6×
// the time), in dotBlock's order.
function axpyScaleDotBlock(
  y: Float64Array,
  a: number,
  x: Float64Array,
  gamma: number,
  z: Float64Array,
  start: number,
  end: number,
): number {
  const stop = end - ((end - start) % 4);
  let [s0, s1, s2, s3] = [0, 0, 0, 0];
  for (let i = start; i < stop; i += 4) {
    const v0 = (y[i]! + a * x[i]!) * gamma;
    const v1 = (y[i + 1]! + a * x[i + 1]!) * gamma;
    const v2 = (y[i + 2]! + a * x[i + 2]!) * gamma;
    const v3 = (y[i + 3]! + a * x[i + 3]!) * gamma;
    y[i] = v0;
    y[i + 1] = v1;
    y[i + 2] = v2;
    y[i + 3] = v3;
    s0 += z[i]! * v0;
    s1 += z[i + 1]! * v1;
    s2 += z[i + 2]! * v2;
    s3 += z[i + 3]! * v3;
  }
  let s = s0 + s1 + (s2 + s3);
  for (let i = stop; i < end; i++) {
    const v = (y[i]! + a * x[i]!) * gamma;
    y[i] = v;
    s += z[i]! * v;
  }
  return s;
}

/** y ← y + a·x, returning zᵀy of the updated y in the same pass (axpyScaleDot with γ = 1). */
export function axpyDot(y: Float64Array, a: number, x: Float64Array, z: Float64Array): number {
  return axpyScaleDot(y, a, x, 1, z);
}
