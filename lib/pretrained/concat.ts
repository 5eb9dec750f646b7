// Concatenation along one axis (the channel axis by default): how an inception block joins its
// 1×1, 3×3, 5×5 and pooling branches into one tensor. Forward copies each input into its slab of
// the output; backward hands each input the matching slab of dy. No arithmetic, so no naive twin.
import {
  ShapeError,
  assign,
  copy,
  dtypeOf,
  formatShape,
  requireCache,
  checkUpstream,
  zeros,
  type Param,
  type Tensor,
} from '../core/index.js';
import type { MergeLayer } from './merge.js';

/** The view of `t` covering [start, start + length) along `axis` (no copy). */
export function sliceAxis(t: Tensor, axis: number, start: number, length: number): Tensor {
  const lo = t.shape.map((_, i) => (i === axis ? start : 0));
  const hi = t.shape.map((d, i) => (i === axis ? length : d));
  return t.lo(...lo).hi(...hi) as Tensor;
}

/** Output shape of concatenating `shapes` along `axis`; throws naming the first misfit. */
export function concatShape(shapes: readonly (readonly number[])[], axis: number): number[] {
  const first = shapes[0];
  if (first === undefined) throw new Error('concat needs at least one input');
  if (!Number.isInteger(axis) || axis < 0 || axis >= first.length) {
    throw new RangeError(`concat axis ${axis} is out of range for shape ${formatShape(first)}`);
  }
  const out = [...first];
  out[axis] = 0;
  shapes.forEach((s, k) => {
    const ok = s.length === first.length && s.every((d, i) => i === axis || d === first[i]);
    if (!ok) {
      const expected = first.map((d, i) => (i === axis ? -1 : d));
      throw new ShapeError(`concat input ${k} (axis ${axis})`, s, expected);
    }
    out[axis]! += s[axis]!;
  });
  return out;
}

/** Concatenate `[N, C_k, H, W]` inputs into `[N, ΣC_k, H, W]` (or along another axis). */
export class Concat implements MergeLayer {
  readonly name: string;
  readonly axis: number;
  #sizes: number[] | undefined;
  #yShape: number[] = [];

  /** @param options.axis axis to join along (default 1, channels; Caffe `concat_param.axis`) */
  constructor({ name = 'concat', axis = 1 }: { name?: string; axis?: number } = {}) {
    this.name = name;
    this.axis = axis;
  }

  forward(xs: readonly Tensor[]): Tensor {
    const shape = concatShape(
      xs.map((x) => x.shape),
      this.axis,
    );
    const dtype = dtypeOf(xs[0]!);
    const y = zeros(shape, dtype);
    let start = 0;
    for (const x of xs) {
      const n = x.shape[this.axis]!;
      assign(sliceAxis(y, this.axis, start, n), x);
      start += n;
    }
    this.#sizes = xs.map((x) => x.shape[this.axis]!);
    this.#yShape = shape;
    return y;
  }

  backward(dy: Tensor): Tensor[] {
    const sizes = requireCache(this.#sizes, `Concat(${this.name})`);
    checkUpstream(dy, this.#yShape, `Concat(${this.name})`);
    let start = 0;
    return sizes.map((n) => {
      const dx = copy(sliceAxis(dy, this.axis, start, n));
      start += n;
      return dx;
    });
  }

  params(): Param[] {
    return [];
  }
}
