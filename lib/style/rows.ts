// The row passes of the centred style statistic over a feature matrix F [C, M] (C channels of M
// positions, row-major): channel means μ, the centred features F − μ1ᵀ, and a number added to
// every entry of a row (the gradient of the mean term). Each is a plain loop, and where the
// arrays are resident float32 (lib/core/resident.ts) the same arithmetic runs in the WebAssembly
// kernel instead (assembly/elementwise.ts), four entries per instruction and split over the
// thread pool by rows, with the same bits. A VGG-19 style iteration at 256 px runs each over
// 8M entries; in JavaScript on the calling thread they were the largest serial part of it after
// L-BFGS.
import {
  channelPassStaged,
  kernelZeros,
  residentAddress,
  residentAddress64,
  residentAlloc64,
  type Tensor,
} from '../core/index.js';

// Per-row float64 numbers (sums, means, constants) handed to the kernel, in kernel memory: grown
// to the widest layer and reused.
let numbers64: Float64Array | null = null;

// Byte address of that buffer (with `values` copied in, for a pass that reads them; none for
// one that writes sums there), or null where kernel memory has no room for it.
function kernelNumbers(C: number, values?: Float64Array): number | null {
  if (numbers64 === null || numbers64.length < C) numbers64 = residentAlloc64(C);
  if (numbers64 === null) return null;
  if (values !== undefined) numbers64.set(values.subarray(0, C));
  return residentAddress64(numbers64, 0);
}

// Byte address of f when it is resident float32 storage holding at least C·M entries.
function kernelRows(f: Tensor['data'], C: number, M: number): number | null {
  return f.length >= C * M ? residentAddress(f, 0) : null;
}

/** μ[i] = (1/M) Σₖ F[i, k], the channel means of F [C, M] (rowSum's order). */
export function rowMeans(f: Tensor['data'], C: number, M: number): Float64Array {
  const mu = new Float64Array(C);
  const fAt = kernelRows(f, C, M);
  const sumsAt = fAt === null ? null : kernelNumbers(C);
  if (fAt !== null && sumsAt !== null) {
    channelPassStaged('rowSums', [fAt, C, sumsAt, M], [4 * M, 0, 8, 0], C * M);
    for (let i = 0; i < C; i++) mu[i] = numbers64![i]! / M;
    return mu;
  }
  for (let i = 0; i < C; i++) mu[i] = rowSum(f, i * M, M) / M;
  return mu;
}

// f[start] + … + f[start + M − 1], in four running sums (entries k ≡ 0, 1, 2, 3 mod 4, added at
// the end as (s0 + s1) + (s2 + s3)), then the last M mod 4 entries: one running sum waits an
// add's latency per entry, four do not.
function rowSum(f: Tensor['data'], start: number, M: number): number {
  const end = start + M - (M % 4);
  let [s0, s1, s2, s3] = [0, 0, 0, 0];
  for (let k = start; k < end; k += 4) {
    s0 += f[k]!;
    s1 += f[k + 1]!;
    s2 += f[k + 2]!;
    s3 += f[k + 3]!;
  }
  let s = s0 + s1 + (s2 + s3);
  for (let k = end; k < start + M; k++) s += f[k]!;
  return s;
}

// The centred features F − μ1ᵀ, in the features' own dtype so float32 layers stay on the SIMD
// GEMM. One scratch buffer per dtype, grown to the largest layer and reused: callers read the
// result before they return, so an iteration allocates nothing here. The float32 one lives in the
// kernel's memory where it can (kernelZeros), so the Gram products read it without a copy.
let centred32: Float32Array = new Float32Array(0);
let centred64: Float64Array = new Float64Array(0);

/** F − μ1ᵀ for F [C, M], in a scratch buffer reused by the next call (read it before then). */
export function centre(f: Tensor['data'], C: number, M: number, mu: Float64Array): Tensor['data'] {
  let out: Tensor['data'];
  if (f instanceof Float32Array) {
    if (centred32.length < C * M) centred32 = kernelZeros([C * M]).data;
    out = centred32;
  } else {
    if (centred64.length < C * M) centred64 = new Float64Array(C * M);
    out = centred64;
  }
  const [fAt, outAt] = [kernelRows(f, C, M), kernelRows(out, C, M)];
  const muAt = fAt === null || outAt === null ? null : kernelNumbers(C, mu);
  if (fAt !== null && outAt !== null && muAt !== null) {
    channelPassStaged('centreRows', [fAt, C, muAt, outAt, M], [4 * M, 0, 8, 4 * M, 0], 2 * C * M);
    return out;
  }
  for (let i = 0; i < C; i++) {
    const m = mu[i]!;
    for (let k = 0; k < M; k++) out[i * M + k] = f[i * M + k]! - m;
  }
  return out;
}

/** d[i, k] += g[i] for every position k of each row i of d [C, M]. */
export function addToRows(d: Tensor['data'], g: Float64Array, C: number, M: number): void {
  const dAt = kernelRows(d, C, M);
  const gAt = dAt === null ? null : kernelNumbers(C, g);
  if (dAt !== null && gAt !== null) {
    channelPassStaged('addRowConstants', [dAt, C, gAt, M], [4 * M, 0, 8, 0], C * M);
    return;
  }
  for (let i = 0; i < C; i++) {
    const gi = g[i]!;
    for (let k = 0; k < M; k++) d[i * M + k] += gi;
  }
}
