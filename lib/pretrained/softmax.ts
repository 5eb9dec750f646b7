// Softmax over the channel axis as a layer, for the `prob` output of a deploy network (Caffe
// Softmax, ONNX Softmax with axis 1). Training uses softmaxCrossEntropy instead, which fuses the
// loss; this layer is for reading probabilities, and for taking gradients of one of them.
import {
  ShapeError,
  checkUpstream,
  contiguous,
  dtypeOf,
  requireCache,
  zeros,
  type Layer,
  type Param,
  type Tensor,
} from '../core/index.js';

// View a shape as [outer, C, inner] around the softmax axis.
function around(shape: readonly number[], axis: number): [number, number, number] {
  const C = shape[axis]!;
  const N = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  return [N, C, shape.slice(axis + 1).reduce((a, b) => a * b, 1)];
}

/**
 * y = exp(x_c − max) / Σ_c' exp(x_c' − max) along one axis of x (default 1, the channels of
 * [N, C, …]; negative axes count from the end, as ONNX's do).
 */
export class Softmax implements Layer {
  readonly name: string;
  readonly axis: number;
  #y: Tensor | undefined;
  #axis = 1;

  constructor({ name = 'softmax', axis = 1 }: { name?: string; axis?: number } = {}) {
    this.name = name;
    this.axis = axis;
  }

  forward(x: Tensor): Tensor {
    const rank = x.shape.length;
    const axis = this.axis < 0 ? this.axis + rank : this.axis;
    if (axis < 0 || axis >= rank) {
      throw new ShapeError(`Softmax(${this.name}) over axis ${this.axis}`, x.shape, [-1, -1]);
    }
    this.#axis = axis;
    const [N, C, S] = around(x.shape, axis);
    const xd = contiguous(x).data;
    const y = zeros(x.shape, dtypeOf(x));
    const yd = y.data;
    for (let n = 0; n < N; n++) {
      for (let s = 0; s < S; s++) {
        const base = n * C * S + s;
        // Subtracting the max leaves the ratios unchanged and keeps exp from overflowing.
        let max = -Infinity;
        for (let c = 0; c < C; c++) max = Math.max(max, xd[base + c * S]!);
        let total = 0;
        for (let c = 0; c < C; c++) total += Math.exp(xd[base + c * S]! - max);
        for (let c = 0; c < C; c++) yd[base + c * S] = Math.exp(xd[base + c * S]! - max) / total;
      }
    }
    this.#y = y;
    return y;
  }

  /** dx_c = y_c (dy_c − Σ_c' dy_c' y_c'), from the Jacobian diag(y) − y yᵀ. */
  backward(dy: Tensor): Tensor {
    const y = requireCache(this.#y, `Softmax(${this.name})`);
    checkUpstream(dy, y.shape, `Softmax(${this.name})`);
    const [N, C, S] = around(y.shape, this.#axis);
    const gd = contiguous(dy).data;
    const yd = y.data;
    const dx = zeros(y.shape, dtypeOf(dy));
    for (let n = 0; n < N; n++) {
      for (let s = 0; s < S; s++) {
        const base = n * C * S + s;
        let inner = 0;
        for (let c = 0; c < C; c++) inner += gd[base + c * S]! * yd[base + c * S]!;
        for (let c = 0; c < C; c++) {
          dx.data[base + c * S] = yd[base + c * S]! * (gd[base + c * S]! - inner);
        }
      }
    }
    return dx;
  }

  params(): Param[] {
    return [];
  }
}
