// The tensor type of nnzero and the few helpers every chapter needs. It also fences the typing
// gaps of @types/ndarray and @types/ndarray-ops (STYLE.md C9): tensors are narrowly typed views
// over Float64Array or Float32Array, `.T` is forbidden (it is undefined at run time), and the
// in-place `*eq` ops are treated as statements.
import ndarrayFactory from 'ndarray';
import type { NdArray } from 'ndarray';
import ops from 'ndarray-ops';
import { ShapeError } from './errors.js';

/** Float64 or Float32 storage: the two element types every kernel accepts. */
export type FloatArray = Float64Array | Float32Array;
/** The element type name of a tensor. */
export type DType = 'float64' | 'float32';
/** A float64 tensor view (the default for chapters 1–3 and every gradient check). */
export type Tensor64 = Omit<NdArray<Float64Array>, 'T'>;
/** A float32 tensor view (CNN training and style transfer speed). */
export type Tensor32 = Omit<NdArray<Float32Array>, 'T'>;
/** Any tensor: an ndarray view over Float64Array or Float32Array. */
export type Tensor = Tensor64 | Tensor32;

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C order) strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const stride = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    stride[i] = s;
    s *= shape[i]!;
  }
  return stride;
}

/** Element type of a tensor's storage. */
export function dtypeOf(t: Tensor): DType {
  return t.data instanceof Float32Array ? 'float32' : 'float64';
}

/** Allocate storage of the given type and length. */
export function allocate(dtype: DType, length: number): FloatArray {
  return dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

/** Wrap existing storage as a tensor view (row-major unless strides are given). */
export function tensor(
  data: Float64Array,
  shape: readonly number[],
  stride?: readonly number[],
  offset?: number,
): Tensor64;
export function tensor(
  data: Float32Array,
  shape: readonly number[],
  stride?: readonly number[],
  offset?: number,
): Tensor32;
export function tensor(
  data: FloatArray,
  shape: readonly number[],
  stride?: readonly number[],
  offset?: number,
): Tensor;
export function tensor(
  data: FloatArray,
  shape: readonly number[],
  stride?: readonly number[],
  offset = 0,
): Tensor {
  const n = sizeOf(shape);
  if (stride === undefined && offset + n > data.length) {
    throw new ShapeError(
      'tensor',
      shape,
      [data.length],
      `storage holds ${data.length} values, shape needs ${n}`,
    );
  }
  // The overloads above tie the storage type to the tensor type; the factory's own typing is wider.
  return ndarrayFactory(
    data,
    [...shape],
    stride ? [...stride] : stridesOf(shape),
    offset,
  ) as Tensor;
}

/** A new zero-filled tensor (float64 unless asked otherwise). */
export function zeros(shape: readonly number[]): Tensor64;
export function zeros(shape: readonly number[], dtype: 'float64'): Tensor64;
export function zeros(shape: readonly number[], dtype: 'float32'): Tensor32;
export function zeros(shape: readonly number[], dtype: DType): Tensor;
export function zeros(shape: readonly number[], dtype: DType = 'float64'): Tensor {
  return tensor(allocate(dtype, sizeOf(shape)), shape);
}

/** A new tensor of the given shape holding `values` in row-major order. */
export function fromArray(values: ArrayLike<number>, shape: readonly number[]): Tensor64;
export function fromArray(
  values: ArrayLike<number>,
  shape: readonly number[],
  dtype: 'float64',
): Tensor64;
export function fromArray(
  values: ArrayLike<number>,
  shape: readonly number[],
  dtype: 'float32',
): Tensor32;
export function fromArray(
  values: ArrayLike<number>,
  shape: readonly number[],
  dtype: DType,
): Tensor;
export function fromArray(
  values: ArrayLike<number>,
  shape: readonly number[],
  dtype: DType = 'float64',
): Tensor {
  if (values.length !== sizeOf(shape)) {
    throw new ShapeError(
      'fromArray',
      [values.length],
      [sizeOf(shape)],
      `${values.length} values cannot fill shape [${shape.join(', ')}]`,
    );
  }
  const data = allocate(dtype, values.length);
  for (let i = 0; i < values.length; i++) data[i] = values[i]!;
  return tensor(data, shape);
}

/** A new zero-filled, contiguous tensor with the same shape and dtype as `t`. */
export function like<T extends Tensor>(t: T): T;
export function like(t: Tensor): Tensor {
  return zeros(t.shape, dtypeOf(t));
}

/**
 * The tensor kept under `key` in `cache` if it has this shape and dtype, else a new zero-filled
 * one from `allocate` (default zeros) stored there: how a loop that runs the same shapes again
 * reuses its buffers.
 */
export function reuseTensor(
  cache: Map<string, Tensor>,
  key: string,
  shape: readonly number[],
  dtype: DType,
  allocate: (shape: readonly number[], dtype: DType) => Tensor = zeros,
): Tensor {
  const have = cache.get(key);
  if (have !== undefined && dtypeOf(have) === dtype && have.shape.join() === shape.join()) {
    return have;
  }
  const t = allocate(shape, dtype);
  cache.set(key, t);
  return t;
}

/** A contiguous row-major copy of any view (optionally converted to another dtype). */
export function copy<T extends Tensor>(t: T): T;
export function copy(t: Tensor, dtype: 'float64'): Tensor64;
export function copy(t: Tensor, dtype: 'float32'): Tensor32;
export function copy(t: Tensor, dtype: DType): Tensor;
export function copy(t: Tensor, dtype: DType = dtypeOf(t)): Tensor {
  const out = zeros(t.shape, dtype);
  assign(out, t);
  return out;
}

/** True when `t` is a dense row-major view starting at offset 0 of its storage. */
export function isContiguous(t: Tensor): boolean {
  if (t.offset !== 0) return false;
  const expected = stridesOf(t.shape);
  for (let i = 0; i < t.shape.length; i++) {
    if (t.shape[i]! > 1 && t.stride[i] !== expected[i]) return false;
  }
  return true;
}

/** The tensor itself if contiguous, otherwise a contiguous copy. */
export function contiguous<T extends Tensor>(t: T): T {
  return isContiguous(t) ? t : copy(t);
}

/** Reinterpret a contiguous tensor with a new shape of the same size (a view, no copy). */
export function reshape<T extends Tensor>(t: T, shape: readonly number[]): T;
export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  if (sizeOf(shape) !== t.size) throw new ShapeError('reshape', t.shape, shape, 'sizes differ');
  if (!isContiguous(t)) throw new Error('reshape: tensor must be contiguous; copy() it first');
  return tensor(t.data, shape);
}

/** All elements in row-major order as a plain array (for tests and printing). */
export function toArray(t: Tensor): number[] {
  const c = contiguous(t);
  return Array.from(c.data.subarray(0, c.size));
}

/** Throw a ShapeError naming both shapes unless `t` has exactly `shape` (-1 matches any size). */
export function assertShape(t: Tensor, shape: readonly number[], context: string): void {
  const ok = t.shape.length === shape.length && shape.every((d, i) => d === -1 || d === t.shape[i]);
  if (!ok) throw new ShapeError(context, t.shape, shape);
}

/** True when two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

// --- element-wise statements over ndarray-ops (not hot; views honoured) -------------------------
// @types/ndarray-ops types the in-place ops as returning boolean; they are statements here.
type AnyNd = NdArray;
const nd = (t: Tensor): AnyNd => t as unknown as AnyNd;

/** out ← a (element-wise copy between views of equal shape). */
export function assign(out: Tensor, a: Tensor): void {
  if (!sameShape(out.shape, a.shape)) throw new ShapeError('assign', a.shape, out.shape);
  ops.assign(nd(out), nd(a));
}
/** out ← out + a. */
export function addInPlace(out: Tensor, a: Tensor): void {
  if (!sameShape(out.shape, a.shape)) throw new ShapeError('addInPlace', a.shape, out.shape);
  ops.addeq(nd(out), nd(a));
}
/** out ← out · s. */
export function scaleInPlace(out: Tensor, s: number): void {
  ops.mulseq(nd(out), s);
}
/** out ← s everywhere. */
export function fill(out: Tensor, s: number): void {
  ops.assigns(nd(out), s);
}
/** Σ of all elements. */
export function sum(t: Tensor): number {
  return ops.sum(nd(t));
}
/** Σ a ⊙ b over all elements (same shapes). */
export function dot(a: Tensor, b: Tensor): number {
  if (!sameShape(a.shape, b.shape)) throw new ShapeError('dot', b.shape, a.shape);
  const ca = contiguous(a);
  const cb = contiguous(b);
  let s = 0;
  for (let i = 0, end = ca.size; i < end; i++) s += ca.data[i]! * cb.data[i]!;
  return s;
}
/** Largest |x| over all elements. */
export function maxAbs(t: Tensor): number {
  return ops.norminf(nd(t));
}
/** True when every element is finite. */
export function allFinite(t: Tensor): boolean {
  const c = contiguous(t);
  for (let i = 0, end = c.size; i < end; i++) if (!Number.isFinite(c.data[i]!)) return false;
  return true;
}
