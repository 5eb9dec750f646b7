// Shared fixtures for the GEMM tests: a tiny seeded generator (mulberry32, so these tests need
// nothing from the rest of core), random matrices, and a comparison against gemmNaive.
import ndarray from 'ndarray';
import type { NdArray } from 'ndarray';
import { gemmNaive } from '../../lib/core/gemm.js';
import type { GemmMatrix } from '../../lib/core/gemm.js';

/** Any of the GEMM entry points with the ndarray signature. */
export type Gemm = (
  c: GemmMatrix,
  a: GemmMatrix,
  b: GemmMatrix,
  alpha: number,
  beta: number,
) => unknown;

export type Float = Float32Array | Float64Array;
export type DType = 'float32' | 'float64';

export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function random(dtype: DType, shape: [number, number], rand: () => number): NdArray<Float> {
  const n = shape[0] * shape[1];
  const data = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = rand() * 2 - 1;
  return ndarray<Float>(data, shape);
}

// max |x − y| / max(1, max |y|): relative to the scale of the result.
export function relativeError(x: NdArray<Float>, y: NdArray<Float>): number {
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < x.shape[0]!; i++) {
    for (let j = 0; j < x.shape[1]!; j++) {
      diff = Math.max(diff, Math.abs(x.get(i, j) - y.get(i, j)));
      scale = Math.max(scale, Math.abs(y.get(i, j)));
    }
  }
  return Number.isNaN(diff) ? Infinity : diff / scale;
}

export const tolerance = (dtype: DType): number => (dtype === 'float64' ? 1e-12 : 1e-5);

/** Options for one comparison: transposed views of A or B, alpha, beta and the data seed. */
export interface CompareOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
  seed?: number;
}

// Compare an implementation to gemmNaive on fresh data, returning the relative error. With
// beta = 0 the output starts as NaN, which must not leak through.
export const compareToNaive =
  (impl: Gemm) =>
  (
    dtype: DType,
    M: number,
    N: number,
    K: number,
    { transA = false, transB = false, alpha = 1, beta = 0, seed = 1 }: CompareOptions = {},
  ): number => {
    const rand = mulberry32(seed);
    const a = transA ? random(dtype, [K, M], rand).transpose(1, 0) : random(dtype, [M, K], rand);
    const b = transB ? random(dtype, [N, K], rand).transpose(1, 0) : random(dtype, [K, N], rand);
    const c0 = random(dtype, [M, N], rand);
    if (beta === 0) c0.data.fill(NaN);
    const fast = ndarray<Float>(c0.data.slice(), [M, N]);
    const slow = ndarray<Float>(c0.data.slice(), [M, N]);
    impl(fast, a, b, alpha, beta);
    gemmNaive(slow, a, b, alpha, beta);
    return relativeError(fast, slow);
  };
