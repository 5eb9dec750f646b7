// Flatten: the hinge between the convolutional part of a network and its fully connected part.
// [N, C, H, W] → [N, C·H·W] in row-major order, so feature (c, h, w) becomes column (c·H + h)·W + w.
import {
  checkUpstream,
  copy,
  requireCache,
  reshape,
  type Layer,
  type Param,
  type Tensor,
} from '../core/index.js';

/** Flatten every axis after the first: x [N, ...] → y [N, product of the rest]. */
export class Flatten implements Layer {
  readonly name: string;
  frozen = false;
  #shape: number[] | undefined;

  /** @param options optional name (default `flatten`) */
  constructor(options: { name?: string } = {}) {
    this.name = options.name ?? 'flatten';
  }

  /** y = x reshaped to [N, size / N] (a fresh contiguous copy, so y never aliases x). */
  forward(x: Tensor): Tensor {
    this.#shape = [...x.shape];
    const N = x.shape[0]!;
    return reshape(copy(x), [N, x.size / N]);
  }

  /** dx = dy reshaped back to the input's shape (a fresh copy). */
  backward(dy: Tensor): Tensor {
    const shape = requireCache(this.#shape, `Flatten(${this.name})`);
    const N = shape[0]!;
    checkUpstream(dy, [N, shape.reduce((a, b) => a * b, 1) / N], `Flatten(${this.name})`);
    return reshape(copy(dy), shape);
  }

  /** No parameters. */
  params(): Param[] {
    return [];
  }
}
