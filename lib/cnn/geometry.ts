// The shape arithmetic of convolution and pooling, in one place: every kernel takes a frozen
// geometry object instead of re-deriving sizes, so the size formula is written (and validated,
// with errors that name the numbers) exactly once.
import { ShapeError, formatShape } from '../core/index.js';

/** A number for both axes, or `[height, width]`. */
export type Pair = number | readonly [number, number];
/** Padding: one number for all sides, `[pH, pW]`, or `[top, bottom, left, right]`. */
export type Padding =
  number | readonly [number, number] | readonly [number, number, number, number];

/** Options of a convolution: stride, zero padding per side, dilation of the kernel. */
export interface ConvOptions {
  stride?: Pair;
  pad?: Padding;
  dilation?: Pair;
}

/**
 * Everything a conv kernel needs to know about the shapes, frozen. For x `[N, C, H, W]` and
 * w `[F, C, kH, kW]`:
 *   outH = ⌊(H + padTop + padBottom − dilationH·(kH − 1) − 1) / strideH⌋ + 1  (same for W),
 * which is the tutorial's out = ⌊(in + 2·pad − kernel) / stride⌋ + 1 when dilation is 1.
 */
export interface ConvGeometry {
  readonly N: number;
  readonly C: number;
  readonly H: number;
  readonly W: number;
  readonly F: number;
  readonly kH: number;
  readonly kW: number;
  readonly outH: number;
  readonly outW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padTop: number;
  readonly padBottom: number;
  readonly padLeft: number;
  readonly padRight: number;
  readonly dilationH: number;
  readonly dilationW: number;
}

function pair(v: Pair, what: string, min: number): [number, number] {
  const [a, b] = typeof v === 'number' ? [v, v] : v;
  for (const n of [a, b]) {
    if (!Number.isInteger(n) || n < min) {
      throw new RangeError(`${what} must be integers ≥ ${min}, got ${String(v)}`);
    }
  }
  return [a, b];
}

function padding(p: Padding): [number, number, number, number] {
  const sides: number[] =
    typeof p === 'number' ? [p, p, p, p] : p.length === 2 ? [p[0], p[0], p[1], p[1]] : [...p];
  for (const n of sides) {
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`padding must be integers ≥ 0, got [${sides.join(', ')}]`);
    }
  }
  return sides as [number, number, number, number];
}

// Output length of one axis; throws naming the numbers when the window does not fit.
function outLength(
  axis: 'height' | 'width',
  size: number,
  padA: number,
  padB: number,
  k: number,
  dilation: number,
  stride: number,
  ceilMode = false,
): number {
  const span = dilation * (k - 1) + 1; // the extent a dilated kernel covers
  const padded = size + padA + padB;
  const steps = (padded - span) / stride;
  let out = (ceilMode ? Math.ceil(steps) : Math.floor(steps)) + 1;
  // In ceil mode the last window must still start inside the input or its leading padding
  // (the rule Caffe and PyTorch share); otherwise it would cover padding only.
  if (ceilMode && out > 1 && (out - 1) * stride >= size + padA) out--;
  if (span > padded || out <= 0) {
    throw new RangeError(
      `kernel ${axis} ${span} (size ${k}, dilation ${dilation}) is larger than the padded input ` +
        `${axis} ${padded} (${size} + pad ${padA} + ${padB}); output ${axis} would be ${out}`,
    );
  }
  return out;
}

/**
 * Check and freeze the geometry of a convolution of x `[N, C, H, W]` with w `[F, C, kH, kW]`.
 * Throws a ShapeError naming both shapes when the channels differ.
 */
export function convGeometry(
  xShape: readonly number[],
  wShape: readonly number[],
  { stride = 1, pad = 0, dilation = 1 }: ConvOptions = {},
): ConvGeometry {
  if (xShape.length !== 4) throw new ShapeError('conv2d input x', xShape, [-1, -1, -1, -1]);
  if (wShape.length !== 4) throw new ShapeError('conv2d weights w', wShape, [-1, -1, -1, -1]);
  const [N, C, H, W] = xShape as [number, number, number, number];
  const [F, wC, kH, kW] = wShape as [number, number, number, number];
  if (wC !== C) {
    throw new ShapeError(
      'conv2d weights w [F, C, kH, kW]',
      wShape,
      [F, C, kH, kW],
      `input x ${formatShape(xShape)} has ${C} channels, weights expect ${wC}`,
    );
  }
  const [strideH, strideW] = pair(stride, 'stride', 1);
  const [dilationH, dilationW] = pair(dilation, 'dilation', 1);
  const [padTop, padBottom, padLeft, padRight] = padding(pad);
  const outH = outLength('height', H, padTop, padBottom, kH, dilationH, strideH);
  const outW = outLength('width', W, padLeft, padRight, kW, dilationW, strideW);
  return Object.freeze({
    N,
    C,
    H,
    W,
    F,
    kH,
    kW,
    outH,
    outW,
    strideH,
    strideW,
    padTop,
    padBottom,
    padLeft,
    padRight,
    dilationH,
    dilationW,
  });
}

/** Options of a pooling window. */
export interface PoolOptions {
  /** Window size (required). */
  kernel: Pair;
  /** Step between windows (default: the kernel size, so windows tile). */
  stride?: Pair;
  /** Implicit padding per side (at most half the window, so every window sees the input). */
  pad?: Padding;
  /** Round the output size up, as Caffe does (default false: floor, as PyTorch does). */
  ceilMode?: boolean;
  /** Average pooling divides by the window including padding (default true, as Caffe). */
  countPadding?: boolean;
}

/**
 * The frozen geometry of pooling over x `[N, C, H, W]`:
 *   outH = ⌊(H + padTop + padBottom − kH) / strideH⌋ + 1 (⌈…⌉ in ceil mode, dropping a last
 * window that would start in the bottom padding); same for W.
 */
export interface PoolGeometry {
  readonly N: number;
  readonly C: number;
  readonly H: number;
  readonly W: number;
  readonly kH: number;
  readonly kW: number;
  readonly outH: number;
  readonly outW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padTop: number;
  readonly padBottom: number;
  readonly padLeft: number;
  readonly padRight: number;
  readonly ceilMode: boolean;
  readonly countPadding: boolean;
}

/** Check and freeze the geometry of a pooling of x `[N, C, H, W]`. */
export function poolGeometry(xShape: readonly number[], options: PoolOptions): PoolGeometry {
  if (xShape.length !== 4) throw new ShapeError('pool2d input x', xShape, [-1, -1, -1, -1]);
  const { kernel, stride = kernel, pad = 0, ceilMode = false, countPadding = true } = options;
  const [N, C, H, W] = xShape as [number, number, number, number];
  const [kH, kW] = pair(kernel, 'pool kernel', 1);
  const [strideH, strideW] = pair(stride, 'pool stride', 1);
  const [padTop, padBottom, padLeft, padRight] = padding(pad);
  if (Math.max(padTop, padBottom) > kH / 2 || Math.max(padLeft, padRight) > kW / 2) {
    throw new RangeError(
      `pool padding [${padTop}, ${padBottom}, ${padLeft}, ${padRight}] must be at most half ` +
        `the kernel ${kH}×${kW}, so that every window covers part of the input`,
    );
  }
  const outH = outLength('height', H, padTop, padBottom, kH, 1, strideH, ceilMode);
  const outW = outLength('width', W, padLeft, padRight, kW, 1, strideW, ceilMode);
  return Object.freeze({
    N,
    C,
    H,
    W,
    kH,
    kW,
    outH,
    outW,
    strideH,
    strideW,
    padTop,
    padBottom,
    padLeft,
    padRight,
    ceilMode,
    countPadding,
  });
}
