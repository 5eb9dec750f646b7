// Test helpers for the CNN kernels: random tensors laid out as awkward views (offset, strided,
// transposed, reversed), so fast kernels are held to the naive ones on every layout, and a
// relative-difference measure for "fast equals naive".
import { Rng, copy, tensor, toArray, type DType, type Tensor } from '../../lib/core/index.js';

/** How a random test tensor is laid out in its storage. */
export type Layout = 'contiguous' | 'offset-strided' | 'transposed' | 'reversed';
/** Every layout, for fast-check to choose from. */
export const layouts: readonly Layout[] = [
  'contiguous',
  'offset-strided',
  'transposed',
  'reversed',
];

/** A tensor of `shape` with normal random values, laid out as the given kind of view. */
export function randomTensor(
  rng: Rng,
  shape: readonly number[],
  layout: Layout = 'contiguous',
  dtype: DType = 'float64',
): Tensor {
  const d = shape.length;
  const n = shape.reduce((a, b) => a * b, 1);
  const alloc = (len: number): Float32Array | Float64Array =>
    dtype === 'float32' ? new Float32Array(len) : new Float64Array(len);
  let t: Tensor;
  if (layout === 'offset-strided') {
    // Every axis spaced twice as far as needed, starting 3 elements into the storage.
    const stride = new Array<number>(d);
    let s = 2;
    for (let i = d - 1; i >= 0; i--) {
      stride[i] = s;
      s *= 2 * shape[i]!;
    }
    t = tensor(alloc(3 + s), shape, stride, 3);
  } else if (layout === 'transposed' && d >= 2) {
    // Stored with the last two axes swapped, then viewed back.
    const stored = [...shape];
    [stored[d - 2], stored[d - 1]] = [shape[d - 1]!, shape[d - 2]!];
    const axes = Array.from({ length: d }, (_, i) => i);
    [axes[d - 2], axes[d - 1]] = [d - 1, d - 2];
    t = tensor(alloc(n), stored).transpose(...axes) as Tensor;
  } else if (layout === 'reversed') {
    // Negative strides on every axis: the view starts at the end of its storage.
    const steps = new Array<number>(d).fill(-1);
    t = tensor(alloc(n), shape).step(...steps) as Tensor;
  } else {
    t = tensor(alloc(n), shape);
  }
  return rng.fillNormal(t);
}

/** max |a − b| / max |b| over all elements (0 when both are all zero). */
export function relativeDifference(a: Tensor, b: Tensor): number {
  const av = toArray(a);
  const bv = toArray(b);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < av.length; i++) {
    diff = Math.max(diff, Math.abs(av[i]! - bv[i]!));
    scale = Math.max(scale, Math.abs(bv[i]!));
  }
  return diff === 0 ? 0 : diff / Math.max(scale, 1e-300);
}

/** A copy of `t` laid out as `layout` (same values, same dtype). */
export function relayout(t: Tensor, layout: Layout, rng: Rng): Tensor {
  const dtype: DType = t.data instanceof Float32Array ? 'float32' : 'float64';
  const view = randomTensor(rng, t.shape, layout, dtype);
  const src = copy(t);
  const idx = new Array<number>(t.shape.length).fill(0);
  for (let k = 0; k < src.size; k++) {
    let r = k;
    for (let i = idx.length - 1; i >= 0; i--) {
      idx[i] = r % t.shape[i]!;
      r = Math.floor(r / t.shape[i]!);
    }
    view.set(...idx, src.data[k]!);
  }
  return view;
}
