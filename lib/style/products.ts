// The two matrix products style transfer needs, on raw row-major storage: the Gram product
// F Fᵀ (Gatys et al. 2016, eq. 3) and its backward (G − A) F (eq. 6). Kept private to lib/style
// behind these two functions so a faster GEMM can replace the loops without touching the losses.
import type { FloatArray } from '../core/index.js';

/**
 * out ← alpha · F Fᵀ for F of shape [C, M] (row-major, rows at `f`), out of shape [C, C].
 * Only the upper triangle is computed and then mirrored: a Gram matrix is symmetric.
 */
export function gramProduct(
  out: Float64Array,
  f: FloatArray,
  C: number,
  M: number,
  alpha: number,
): Float64Array {
  for (let i = 0; i < C; i++) {
    const oi = i * M;
    let j = i;
    // Four rows of the result at a time: one pass over row i serves four dot products.
    for (; j + 3 < C; j += 4) {
      const o0 = j * M;
      const o1 = o0 + M;
      const o2 = o1 + M;
      const o3 = o2 + M;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < M; k++) {
        const a = f[oi + k]!;
        s0 += a * f[o0 + k]!;
        s1 += a * f[o1 + k]!;
        s2 += a * f[o2 + k]!;
        s3 += a * f[o3 + k]!;
      }
      out[i * C + j] = alpha * s0;
      out[i * C + j + 1] = alpha * s1;
      out[i * C + j + 2] = alpha * s2;
      out[i * C + j + 3] = alpha * s3;
    }
    for (; j < C; j++) {
      const oj = j * M;
      let s = 0;
      for (let k = 0; k < M; k++) s += f[oi + k]! * f[oj + k]!;
      out[i * C + j] = alpha * s;
    }
  }
  for (let i = 0; i < C; i++) for (let j = 0; j < i; j++) out[i * C + j] = out[j * C + i]!;
  return out;
}

/**
 * out ← alpha · D F for D of shape [C, C] and F of shape [C, M]; out has shape [C, M] and is
 * overwritten. Row by row: out[i, :] = alpha Σ_j D[i, j] F[j, :], a sum of scaled rows of F.
 */
export function rowCombination(
  out: FloatArray,
  d: Float64Array,
  f: FloatArray,
  C: number,
  M: number,
  alpha: number,
): FloatArray {
  const row = new Float64Array(M);
  for (let i = 0; i < C; i++) {
    row.fill(0);
    for (let j = 0; j < C; j++) {
      const dij = d[i * C + j]!;
      if (dij === 0) continue;
      const oj = j * M;
      for (let k = 0; k < M; k++) row[k] += dij * f[oj + k]!;
    }
    const oi = i * M;
    for (let k = 0; k < M; k++) out[oi + k] = alpha * row[k]!;
  }
  return out;
}
