// ndarray-gemm ships no types. It computes out ← alpha·a·b + beta·out over 2-D ndarrays; nnzero
// uses it only as a naive peer in the benchmarks (our own GEMM is lib/core/gemm.ts).
declare module 'ndarray-gemm' {
  import type { NdArray } from 'ndarray';
  function gemm(out: NdArray, a: NdArray, b: NdArray, alpha?: number, beta?: number): void;
  export = gemm;
}
