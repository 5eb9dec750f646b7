// Zero padding as its own layer, and ONNX's `auto_pad` SAME rule that needs it: SAME pads depend
// on the input's size, which an importer does not know, so the padding is worked out at forward
// time and the convolution behind it runs unpadded.
import {
  ShapeError,
  assign,
  checkUpstream,
  copy,
  dtypeOf,
  requireCache,
  zeros,
  type Layer,
  type Param,
  type Tensor,
} from '../core/index.js';

/** Padding [top, bottom, left, right] of an [N, C, H, W] input. */
export type Pads = readonly [number, number, number, number];

/**
 * ONNX auto_pad SAME_UPPER / SAME_LOWER for one axis: out = ⌈in / stride⌉ and
 * total = max(0, (out − 1)·stride + (k − 1)·dilation + 1 − in), split evenly, the odd one at the
 * end (UPPER) or at the beginning (LOWER).
 */
export function samePadding(
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
  mode: 'SAME_UPPER' | 'SAME_LOWER',
): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - size);
  const small = Math.floor(total / 2);
  return mode === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
}

/** Zero padding: [N, C, H, W] → [N, C, H + top + bottom, W + left + right]. */
export class Pad2d implements Layer {
  readonly name: string;
  readonly #pads: (xShape: readonly number[]) => Pads;
  #cache: { xShape: number[]; pads: Pads; yShape: number[] } | undefined;

  /** @param pads fixed [top, bottom, left, right], or a rule computing them from x's shape */
  constructor(
    pads: Pads | ((xShape: readonly number[]) => Pads),
    { name = 'pad' }: { name?: string } = {},
  ) {
    this.name = name;
    this.#pads = typeof pads === 'function' ? pads : () => pads;
  }

  forward(x: Tensor): Tensor {
    if (x.shape.length !== 4)
      throw new ShapeError(`Pad2d(${this.name}) input`, x.shape, [-1, -1, -1, -1]);
    const [N, C, H, W] = x.shape as [number, number, number, number];
    const pads = this.#pads(x.shape);
    const [t, b, l, r] = pads;
    const y = zeros([N, C, H + t + b, W + l + r], dtypeOf(x));
    assign(y.lo(0, 0, t, l).hi(N, C, H, W) as Tensor, x);
    this.#cache = { xShape: [...x.shape], pads, yShape: [...y.shape] };
    return y;
  }

  /** dx is the un-padded window of dy (the padding's gradient goes nowhere). */
  backward(dy: Tensor): Tensor {
    const { xShape, pads, yShape } = requireCache(this.#cache, `Pad2d(${this.name})`);
    checkUpstream(dy, yShape, `Pad2d(${this.name})`);
    const [N, C, H, W] = xShape as [number, number, number, number];
    return copy(dy.lo(0, 0, pads[0], pads[2]).hi(N, C, H, W) as Tensor);
  }

  params(): Param[] {
    return [];
  }
}
