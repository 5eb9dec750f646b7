// The one shape every trainable piece of nnzero has (DESIGN.md "A layer"): forward keeps what
// backward needs, backward returns dx fresh and ADDS into each parameter's gradient, and params()
// lists the named {value, grad} pairs an optimizer updates.
import { zeros, fill, sameShape, dtypeOf, type DType, type Tensor } from './ndarray.js';
import { ShapeError } from './errors.js';

/** A named parameter and its gradient, of the same shape (e.g. `fc1.weight`). */
export interface Param {
  readonly name: string;
  readonly value: Tensor;
  readonly grad: Tensor;
}

/** A differentiable layer: forward, backward (dL/dx out, dL/dθ accumulated), params. */
export interface Layer {
  /** Compute the output and remember what backward needs. */
  forward(x: Tensor): Tensor;
  /** Given dL/dy, return a fresh dL/dx and add dL/dθ into each param's grad. */
  backward(dy: Tensor): Tensor;
  /** The layer's parameters; [] for parameter-free layers (ReLU, pooling, flatten). */
  params(): Param[];
}

/** Make a parameter with a zero value and a zero gradient of the given shape. */
export function makeParam(name: string, shape: readonly number[], dtype: DType = 'float64'): Param {
  return paramOf(name, zeros(shape, dtype));
}

/**
 * A named parameter around an existing value tensor. Its gradient (zeros of the same shape and
 * dtype) is allocated on first use: a frozen layer's backward never reads it, so pretrained
 * weights used only as a fixed feature extractor (VGG-19 in style transfer: 548 MiB of float32)
 * do not pay for a second copy.
 */
export function paramOf(name: string, value: Tensor): Param {
  let grad: Tensor | undefined;
  return {
    name,
    value,
    get grad(): Tensor {
      grad ??= zeros(value.shape, dtypeOf(value));
      return grad;
    },
  };
}

/** Set every gradient to zero (call before each backward, since gradients accumulate). */
export function zeroGrad(params: readonly Param[]): void {
  for (const p of params) fill(p.grad, 0);
}

/** Throw naming the layer when backward is called with nothing cached from forward. */
export function requireCache<T>(cached: T | undefined, layer: string): T {
  if (cached === undefined) throw new Error(`${layer}.backward called before forward`);
  return cached;
}

/** Throw a ShapeError unless dy has the shape of the output forward produced. */
export function checkUpstream(dy: Tensor, yShape: readonly number[], layer: string): void {
  if (!sameShape(dy.shape, yShape)) throw new ShapeError(`${layer}.backward dy`, dy.shape, yShape);
}
