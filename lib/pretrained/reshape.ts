// Shape-only layers for imported graphs: ONNX Flatten (and the flattening Caffe's InnerProduct
// does implicitly) and ONNX Reshape. Forward is a reshape of a contiguous copy; backward reshapes
// dy back to the input's shape. No arithmetic, so the gradient is exact.
import {
  ShapeError,
  checkUpstream,
  copy,
  reshape,
  sizeOf,
  type Layer,
  type Param,
  type Tensor,
} from '../core/index.js';

/** Shape-only layers share this: forward to `outShape(x.shape)`, backward to x's shape. */
abstract class ShapeLayer implements Layer {
  readonly name: string;
  #xShape: number[] | undefined;
  #yShape: number[] = [];

  constructor(name: string) {
    this.name = name;
  }

  /** The output shape for an input shape (throws naming the layer when it cannot). */
  abstract outShape(xShape: readonly number[]): number[];

  forward(x: Tensor): Tensor {
    const shape = this.outShape(x.shape);
    this.#xShape = [...x.shape];
    this.#yShape = shape;
    return reshape(copy(x), shape);
  }

  backward(dy: Tensor): Tensor {
    const xShape = this.#xShape;
    if (xShape === undefined)
      throw new Error(`${this.constructor.name}(${this.name}).backward called before forward`);
    checkUpstream(dy, this.#yShape, `${this.constructor.name}(${this.name})`);
    return reshape(copy(dy), xShape);
  }

  params(): Param[] {
    return [];
  }
}

/**
 * [d0, …, dk] → [d0·…·d(a−1), da·…·dk] for axis a (ONNX Flatten; Caffe InnerProduct flattens
 * from its `axis`, default 1, the same way).
 */
export class FlattenFrom extends ShapeLayer {
  readonly axis: number;

  /** @param axis first axis of the second output dimension (default 1) */
  constructor({ axis = 1, name = 'flatten' }: { axis?: number; name?: string } = {}) {
    super(name);
    this.axis = axis;
  }

  outShape(xShape: readonly number[]): number[] {
    const a = this.axis < 0 ? this.axis + xShape.length : this.axis;
    if (a < 0 || a > xShape.length) {
      throw new RangeError(
        `FlattenFrom(${this.name}) axis ${this.axis} is out of range for rank ${xShape.length}`,
      );
    }
    return [sizeOf(xShape.slice(0, a)), sizeOf(xShape.slice(a))];
  }
}

/**
 * ONNX Reshape with a constant target: 0 copies the input's dimension at that index (unless
 * `allowZero`), and one −1 is inferred from the size.
 */
export class Reshape extends ShapeLayer {
  readonly target: readonly number[];
  readonly allowZero: boolean;

  /** @param target the ONNX `shape` input's values */
  constructor(
    target: readonly number[],
    { name = 'reshape', allowZero = false }: { name?: string; allowZero?: boolean } = {},
  ) {
    super(name);
    this.target = [...target];
    this.allowZero = allowZero;
  }

  outShape(xShape: readonly number[]): number[] {
    const shape = this.target.map((d, i) => (d === 0 && !this.allowZero ? xShape[i]! : d));
    const unknown = shape.indexOf(-1);
    if (unknown >= 0) {
      const known = sizeOf(shape.filter((d) => d !== -1));
      shape[unknown] = known === 0 ? 0 : sizeOf(xShape) / known;
    }
    if (sizeOf(shape) !== sizeOf(xShape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ShapeError(
        `Reshape(${this.name}) to [${this.target.join(', ')}]`,
        xShape,
        shape,
        'sizes differ',
      );
    }
    return shape;
  }
}
