// The one matrix product of the MLP chapter: C ← α·A·B + β·C on 2-D views of any strides.
// Until the fast GEMM of lib/core lands, this is a packed, register-blocked kernel in plain
// TypeScript; every Linear forward and backward goes through `matmul`, so switching is one line.
import { ShapeError } from '../core/index.js';
import type { Tensor } from '../core/index.js';

// Scratch for the packed operands, grown on demand and reused: the MNIST loop multiplies the
// same shapes thousands of times, and fresh buffers per call would only feed the garbage collector.
let packA = new Float64Array(0);
let packB = new Float64Array(0);

/**
 * C ← α·A·B + β·C (β = 0 overwrites, β = 1 accumulates), the GEMM signature of lib/core.
 * @param c output, shape [M, N] (any strides)
 * @param a shape [M, K] (any strides, e.g. a `.transpose(1, 0)` view)
 * @param b shape [K, N] (any strides)
 */
export function matmul(c: Tensor, a: Tensor, b: Tensor, alpha = 1, beta = 0): Tensor {
  const [M, K] = a.shape as [number, number];
  const [K2, N] = b.shape as [number, number];
  if (a.shape.length !== 2 || b.shape.length !== 2 || K !== K2) {
    throw new ShapeError('matmul B', b.shape, [K ?? -1, -1], `A has shape [${a.shape.join(', ')}]`);
  }
  if (c.shape.length !== 2 || c.shape[0] !== M || c.shape[1] !== N) {
    throw new ShapeError('matmul C', c.shape, [M, N]);
  }
  // Pack A row-major [M, K] and Bᵀ row-major [N, K], so every entry of C is a dot product of two
  // contiguous float64 rows, whatever the views' strides and dtypes were.
  if (packA.length < M * K) packA = new Float64Array(M * K);
  if (packB.length < N * K) packB = new Float64Array(N * K);
  const ap = packA;
  const bp = packB;
  pack(ap, a.data, a.offset, a.stride[0]!, a.stride[1]!, M, K);
  pack(bp, b.data, b.offset, b.stride[1]!, b.stride[0]!, N, K);
  const cd = c.data;
  const c0 = c.offset;
  const cs0 = c.stride[0]!;
  const cs1 = c.stride[1]!;
  const store = (i: number, j: number, s: number): void => {
    const p = c0 + i * cs0 + j * cs1;
    cd[p] = beta === 0 ? alpha * s : alpha * s + beta * cd[p]!;
  };
  // 2 rows of A × 4 rows of Bᵀ per block: 8 accumulators, 6 loads per 8 multiply-adds.
  let i = 0;
  for (; i + 1 < M; i += 2) {
    const a0 = i * K;
    const a1 = a0 + K;
    let j = 0;
    for (; j + 3 < N; j += 4) {
      const b0 = j * K;
      const b1 = b0 + K;
      const b2 = b1 + K;
      const b3 = b2 + K;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0; // prettier-ignore
      for (let k = 0; k < K; k++) {
        const x0 = ap[a0 + k]!;
        const x1 = ap[a1 + k]!;
        const y0 = bp[b0 + k]!;
        const y1 = bp[b1 + k]!;
        const y2 = bp[b2 + k]!;
        const y3 = bp[b3 + k]!;
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
      }
      store(i, j, s00);
      store(i, j + 1, s01);
      store(i, j + 2, s02);
      store(i, j + 3, s03);
      store(i + 1, j, s10);
      store(i + 1, j + 1, s11);
      store(i + 1, j + 2, s12);
      store(i + 1, j + 3, s13);
    }
    for (; j < N; j++) {
      store(i, j, dotRows(ap, a0, bp, j * K, K));
      store(i + 1, j, dotRows(ap, a1, bp, j * K, K));
    }
  }
  for (; i < M; i++) {
    for (let j = 0; j < N; j++) store(i, j, dotRows(ap, i * K, bp, j * K, K));
  }
  return c;
}

function dotRows(x: Float64Array, px: number, y: Float64Array, py: number, K: number): number {
  let s = 0;
  for (let k = 0; k < K; k++) s += x[px + k]! * y[py + k]!;
  return s;
}

// Copy the R×K matrix with element (r, k) at off + r·sr + k·sk into dst, row-major.
function pack(
  dst: Float64Array,
  src: Float64Array | Float32Array,
  off: number,
  sr: number,
  sk: number,
  R: number,
  K: number,
): void {
  let q = 0;
  for (let r = 0; r < R; r++) {
    let p = off + r * sr;
    for (let k = 0; k < K; k++, p += sk) dst[q++] = src[p]!;
  }
}
