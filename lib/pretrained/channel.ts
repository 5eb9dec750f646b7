// Per-channel affine maps and reductions over x [N, C, …] (any trailing dims), shared by batch
// normalization and Caffe's Scale layer: y = a_c x + b_c, and the sums Σ dy, Σ dy ⊙ x per channel
// that their parameter gradients need. Inputs may be any view (copied to row-major once).
import { ShapeError, contiguous, isContiguous, type Tensor } from '../core/index.js';

function channelDims(x: Tensor, C: number, context: string): { N: number; S: number } {
  if (x.shape.length < 2 || x.shape[1] !== C) {
    throw new ShapeError(context, x.shape, [-1, C, -1, -1], `expected ${C} channels on axis 1`);
  }
  return { N: x.shape[0]!, S: x.size / (x.shape[0]! * C) };
}

/**
 * out[n, c, …] = a[c] · x[n, c, …] + b[c] (overwrites out).
 * @param out row-major, shape of x; @param x [N, C, …]; @param a, b length C
 */
export function channelAffine(
  out: Tensor,
  x: Tensor,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): Tensor {
  const C = a.length;
  const { N, S } = channelDims(x, C, 'channelAffine input x');
  if (!isContiguous(out) || out.size !== x.size) {
    throw new ShapeError('channelAffine out (row-major)', out.shape, x.shape);
  }
  const xd = contiguous(x).data;
  const od = out.data;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const ac = a[c]!;
      const bc = b[c]!;
      const base = (n * C + c) * S;
      for (let s = base; s < base + S; s++) od[s] = ac * xd[s]! + bc;
    }
  }
  return out;
}

/**
 * Per-channel sums of dy and of dy ⊙ x over every axis but the channel (accumulated in doubles).
 * @param dy, x [N, C, …] of one shape; @returns { sumDy, sumDyX }, each length C
 */
export function channelSums(
  dy: Tensor,
  x: Tensor,
  C: number,
): { sumDy: Float64Array; sumDyX: Float64Array } {
  const { N, S } = channelDims(dy, C, 'channelSums dy');
  channelDims(x, C, 'channelSums x');
  const gd = contiguous(dy).data;
  const xd = contiguous(x).data;
  const sumDy = new Float64Array(C);
  const sumDyX = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * S;
      let g = 0;
      let gx = 0;
      for (let s = base; s < base + S; s++) {
        g += gd[s]!;
        gx += gd[s]! * xd[s]!;
      }
      sumDy[c] += g;
      sumDyX[c] += gx;
    }
  }
  return { sumDy, sumDyX };
}
