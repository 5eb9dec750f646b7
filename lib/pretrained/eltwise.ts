// Element-wise weighted sum of equally shaped inputs, y = Σ c_i x_i: the "+" of a residual block
// (He et al. 2016), Caffe's Eltwise SUM (with its optional `coeff`) and ONNX's Add of two
// activations. Since ∂y/∂x_i = c_i, backward hands each input c_i · dy.
import {
  ShapeError,
  addInPlace,
  checkUpstream,
  copy,
  requireCache,
  sameShape,
  scaleInPlace,
  type Param,
  type Tensor,
} from '../core/index.js';
import type { MergeLayer } from './merge.js';

/** y = Σ_i c_i x_i over inputs of one shape (coefficients default to 1). */
export class EltwiseSum implements MergeLayer {
  readonly name: string;
  readonly coefficients: readonly number[] | undefined;
  #count: number | undefined;
  #yShape: number[] = [];

  /** @param options.coefficients c_i per input (Caffe `eltwise_param.coeff`); default all 1 */
  constructor({
    name = 'sum',
    coefficients,
  }: { name?: string; coefficients?: readonly number[] } = {}) {
    this.name = name;
    this.coefficients = coefficients === undefined ? undefined : [...coefficients];
  }

  #coeff(i: number): number {
    return this.coefficients === undefined ? 1 : this.coefficients[i]!;
  }

  forward(xs: readonly Tensor[]): Tensor {
    const first = xs[0];
    if (first === undefined) throw new Error(`EltwiseSum(${this.name}) needs at least one input`);
    if (this.coefficients !== undefined && this.coefficients.length !== xs.length) {
      throw new Error(
        `EltwiseSum(${this.name}) has ${this.coefficients.length} coefficients for ${xs.length} inputs`,
      );
    }
    xs.forEach((x, i) => {
      if (!sameShape(x.shape, first.shape)) {
        throw new ShapeError(`EltwiseSum(${this.name}) input ${i}`, x.shape, first.shape);
      }
    });
    const y = copy(first);
    scaleInPlace(y, this.#coeff(0));
    for (let i = 1; i < xs.length; i++) {
      const term = copy(xs[i]!, y.data instanceof Float32Array ? 'float32' : 'float64');
      scaleInPlace(term, this.#coeff(i));
      addInPlace(y, term);
    }
    this.#count = xs.length;
    this.#yShape = [...first.shape];
    return y;
  }

  backward(dy: Tensor): Tensor[] {
    const count = requireCache(this.#count, `EltwiseSum(${this.name})`);
    checkUpstream(dy, this.#yShape, `EltwiseSum(${this.name})`);
    return Array.from({ length: count }, (_, i) => {
      const dx = copy(dy);
      scaleInPlace(dx, this.#coeff(i));
      return dx;
    });
  }

  params(): Param[] {
    return [];
  }
}
