// The two matrix products style transfer needs, on raw row-major storage: the Gram product
// F Fᵀ (Gatys et al. 2016, eq. 3) and its backward (G − A) F (eq. 6). Both are core's GEMM with
// the right strides: Fᵀ is F read with its strides swapped, so no transpose is ever copied.
// Float32 features go to the WebAssembly SIMD kernel; float64 (gradient checks) to plain GEMM.
import { gemmStrided, gemmWasmStrided, type FloatArray } from '../core/index.js';

// Float32 staging for the SIMD kernel (the Gram matrix itself is kept in float64), grown to the
// largest layer and reused, so a style-transfer iteration allocates nothing here.
let gram32: Float32Array = new Float32Array(0);
let diff32: Float32Array = new Float32Array(0);

function scratch32(buffer: Float32Array, n: number): Float32Array {
  return buffer.length >= n ? buffer : new Float32Array(n);
}

/** out ← alpha · F Fᵀ for F of shape [C, M] (row-major at `f`); out has shape [C, C]. */
export function gramProduct(
  out: Float64Array,
  f: FloatArray,
  C: number,
  M: number,
  alpha: number,
): Float64Array {
  // A = F (row stride M, column stride 1), B = Fᵀ (row stride 1, column stride M).
  if (f instanceof Float32Array) {
    const g = (gram32 = scratch32(gram32, C * C));
    gemmWasmStrided(C, C, M, alpha, f, 0, M, 1, f, 0, 1, M, 0, g, 0, C, 1);
    for (let i = 0; i < C * C; i++) out[i] = g[i]!;
  } else {
    gemmStrided(C, C, M, alpha, f, 0, M, 1, f, 0, 1, M, 0, out, 0, C, 1);
  }
  return out;
}

/** out ← alpha · D F for D of shape [C, C] and F of shape [C, M]; out ([C, M]) is overwritten. */
export function rowCombination(
  out: FloatArray,
  d: Float64Array,
  f: FloatArray,
  C: number,
  M: number,
  alpha: number,
): FloatArray {
  if (f instanceof Float32Array && out instanceof Float32Array) {
    const d32 = (diff32 = scratch32(diff32, C * C));
    for (let i = 0; i < C * C; i++) d32[i] = d[i]!;
    gemmWasmStrided(C, M, C, alpha, d32, 0, C, 1, f, 0, M, 1, 0, out, 0, M, 1);
  } else {
    gemmStrided(C, M, C, alpha, d, 0, C, 1, f, 0, M, 1, 0, out, 0, M, 1);
  }
  return out;
}
