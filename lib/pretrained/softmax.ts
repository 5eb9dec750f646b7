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

/** y = exp(x_c − max) / Σ_c' exp(x_c' − max) along axis 1 of x [N, C, …]. */
export class Softmax implements Layer {
  readonly name: string;
  #y: Tensor | undefined;

  constructor({ name = 'softmax' }: { name?: string } = {}) {
    this.name = name;
  }

  forward(x: Tensor): Tensor {
    if (x.shape.length < 2) throw new ShapeError(`Softmax(${this.name}) input`, x.shape, [-1, -1]);
    const [N, C] = x.shape as [number, number];
    const S = x.size / (N * C);
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
    const [N, C] = y.shape as [number, number];
    const S = y.size / (N * C);
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
