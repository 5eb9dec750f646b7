// y = x + c for a constant c broadcast the NumPy way (ONNX Add with an initializer, e.g. the bias
// after a MatMul). The constant is not a parameter: it came with the file and stays fixed.
import {
  ShapeError,
  checkUpstream,
  contiguous,
  copy,
  requireCache,
  type Layer,
  type Param,
  type Tensor,
} from '../core/index.js';

/** x [… any shape] + c, where c's shape, right-aligned, has each dim equal to x's or 1. */
export class AddConstant implements Layer {
  readonly name: string;
  readonly constant: Tensor;
  #shape: number[] | undefined;

  /** @param constant the broadcast operand (kept, not copied) */
  constructor(constant: Tensor, { name = 'add' }: { name?: string } = {}) {
    this.name = name;
    this.constant = constant;
  }

  forward(x: Tensor): Tensor {
    const cs = this.constant.shape;
    const pad = x.shape.length - cs.length;
    const fits = pad >= 0 && cs.every((d, i) => d === 1 || d === x.shape[pad + i]);
    if (!fits) {
      throw new ShapeError(
        `AddConstant(${this.name}) cannot broadcast the constant onto x`,
        cs,
        x.shape,
      );
    }
    const y = copy(x);
    const c = contiguous(this.constant).data;
    // Walk y in row-major order, carrying the matching index into c (stride 0 on broadcast dims).
    const cStride = new Array<number>(x.shape.length).fill(0);
    let s = 1;
    for (let i = cs.length - 1; i >= 0; i--) {
      cStride[pad + i] = cs[i] === 1 ? 0 : s;
      s *= cs[i]!;
    }
    const index = new Array<number>(x.shape.length).fill(0);
    let at = 0;
    for (let k = 0, end = y.size; k < end; k++) {
      y.data[k] = y.data[k]! + c[at]!;
      for (let d = x.shape.length - 1; d >= 0; d--) {
        at += cStride[d]!;
        if (++index[d]! < x.shape[d]!) break;
        at -= cStride[d]! * x.shape[d]!;
        index[d] = 0;
      }
    }
    this.#shape = [...x.shape];
    return y;
  }

  /** ∂(x + c)/∂x is the identity. */
  backward(dy: Tensor): Tensor {
    const shape = requireCache(this.#shape, `AddConstant(${this.name})`);
    checkUpstream(dy, shape, `AddConstant(${this.name})`);
    return copy(dy);
  }

  params(): Param[] {
    return [];
  }
}
