// The image side of style transfer: resizing to a target size, the preprocessing each source of
// weights expects (channel order, scale, mean, std) and its exact backward, initial images, and
// the post-processing (clipping, original colours). Images are RGB [3, H, W] in [0, 1] throughout;
// only the network sees preprocessed values, so bounds, TV and outputs all live in pixel units.
import {
  Rng,
  ShapeError,
  assertShape,
  contiguous,
  dtypeOf,
  isContiguous,
  zeros,
  type DType,
  type Tensor,
  type Tensor32,
} from '../core/index.js';

/** Size [H, W] whose longest side is `longest`, keeping the aspect ratio (each side ≥ 1). */
export function fitLongestSide(H: number, W: number, longest: number): [number, number] {
  const s = longest / Math.max(H, W);
  return [Math.max(1, Math.round(H * s)), Math.max(1, Math.round(W * s))];
}

// Triangle-filter weights for resampling n inputs onto m outputs along one axis. When shrinking,
// the triangle is widened by the shrink factor, so every input pixel contributes (no aliasing).
function resampleWeights(n: number, m: number): { start: Int32Array; weights: Float64Array[] } {
  const scale = n / m;
  const radius = Math.max(1, scale);
  const start = new Int32Array(m);
  const weights: Float64Array[] = [];
  for (let j = 0; j < m; j++) {
    const centre = (j + 0.5) * scale - 0.5;
    const lo = Math.max(0, Math.ceil(centre - radius));
    const hi = Math.min(n - 1, Math.floor(centre + radius));
    const w = new Float64Array(Math.max(1, hi - lo + 1));
    let total = 0;
    for (let i = lo; i <= hi; i++) {
      const v = Math.max(0, 1 - Math.abs(i - centre) / radius);
      w[i - lo] = v;
      total += v;
    }
    if (total > 0) for (let k = 0; k < w.length; k++) w[k]! /= total;
    else w[0] = 1;
    start[j] = hi >= lo ? lo : Math.min(n - 1, Math.max(0, Math.round(centre)));
    weights.push(w);
  }
  return { start, weights };
}

/**
 * Resize a CHW image with an antialiased bilinear (triangle) filter, separably: rows, then columns.
 * @param image [C, H, W]
 * @returns [C, outH, outW] float32
 */
export function resizeImage(image: Tensor, outH: number, outW: number): Tensor32 {
  if (image.shape.length !== 3) throw new ShapeError('resizeImage', image.shape, [-1, -1, -1]);
  if (!(Number.isInteger(outH) && Number.isInteger(outW) && outH >= 1 && outW >= 1)) {
    throw new RangeError(`resizeImage: size must be positive integers, got ${outH}×${outW}`);
  }
  const [C, H, W] = image.shape as [number, number, number];
  const src = contiguous(image).data;
  const ry = resampleWeights(H, outH);
  const rx = resampleWeights(W, outW);
  const mid = new Float64Array(C * H * outW);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < H; i++) {
      const row = (c * H + i) * W;
      for (let j = 0; j < outW; j++) {
        const w = rx.weights[j]!;
        const s0 = row + rx.start[j]!;
        let acc = 0;
        for (let k = 0; k < w.length; k++) acc += w[k]! * src[s0 + k]!;
        mid[(c * H + i) * outW + j] = acc;
      }
    }
  }
  const out = zeros([C, outH, outW], 'float32');
  const o = out.data;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < outH; i++) {
      const w = ry.weights[i]!;
      const r0 = ry.start[i]!;
      for (let j = 0; j < outW; j++) {
        let acc = 0;
        for (let k = 0; k < w.length; k++) acc += w[k]! * mid[(c * H + r0 + k) * outW + j]!;
        o[(c * outH + i) * outW + j] = acc;
      }
    }
  }
  return out;
}

/** Resize so the longest side is `longest` pixels (see `resizeImage`). */
export function resizeLongestSide(image: Tensor, longest: number): Tensor32 {
  const [, H, W] = image.shape as [number, number, number];
  const [h, w] = fitLongestSide(H, W, longest);
  return resizeImage(image, h, w);
}

/**
 * What a source of weights expects of its input, carried with the weights so a BGR/RGB or
 * 0–1/0–255 mix-up cannot happen silently: network channel c reads image channel
 * `order === 'bgr' ? 2 − c : c`, and input = (pixel · scale − mean[c]) / std[c].
 */
export interface Preprocessing {
  /** A label for messages and reports, e.g. `caffe-vgg`. */
  readonly name: string;
  readonly channelOrder: 'rgb' | 'bgr';
  /** Pixels in [0, 1] are multiplied by this first (255 for Caffe weights). */
  readonly scale: number;
  /** Per network channel (in the network's channel order), in scaled units. */
  readonly mean: readonly [number, number, number];
  /** Per network channel (in the network's channel order), in scaled units. */
  readonly std: readonly [number, number, number];
}

/** The random network's input: RGB, mean-centred, divided by 0.25 (the experiment's recipe). */
export const RANDOM_PREPROCESSING: Preprocessing = {
  name: 'random',
  channelOrder: 'rgb',
  scale: 1,
  mean: [0.485, 0.456, 0.406],
  std: [0.25, 0.25, 0.25],
};

/** Caffe VGG_ILSVRC_19: BGR, 0–255, mean pixel subtracted (B 103.939, G 116.779, R 123.68). */
export const CAFFE_VGG_PREPROCESSING: Preprocessing = {
  name: 'caffe-vgg',
  channelOrder: 'bgr',
  scale: 255,
  mean: [103.939, 116.779, 123.68],
  std: [1, 1, 1],
};

/** PyTorch (torchvision) VGG-19: RGB, [0, 1], ImageNet mean and std. */
export const TORCH_VGG_PREPROCESSING: Preprocessing = {
  name: 'torch-vgg',
  channelOrder: 'rgb',
  scale: 1,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

function checkRgb(image: Tensor, context: string): [number, number] {
  const s = image.shape;
  if (s.length !== 3 || s[0] !== 3) throw new ShapeError(context, s, [3, -1, -1], 'RGB image');
  return [s[1]!, s[2]!];
}

/**
 * The network input for an RGB image in [0, 1].
 * @param image [3, H, W]
 * @param out where to write the input ([1, 3, H, W], contiguous, of `dtype`); new when omitted
 * @returns [1, 3, H, W] (float32 unless asked otherwise)
 */
export function preprocess(
  image: Tensor,
  p: Preprocessing,
  dtype: DType = 'float32',
  out?: Tensor,
): Tensor {
  const [H, W] = checkRgb(image, 'preprocess');
  let x: Tensor;
  if (out === undefined) x = zeros([1, 3, H, W], dtype);
  else {
    assertShape(out, [1, 3, H, W], 'preprocess out');
    if (dtypeOf(out) !== dtype || !isContiguous(out)) {
      throw new Error(`preprocess: out must be a contiguous ${dtype} tensor`);
    }
    x = out;
  }
  const src = contiguous(image).data;
  const dst = x.data;
  const M = H * W;
  for (let c = 0; c < 3; c++) {
    const from = (p.channelOrder === 'bgr' ? 2 - c : c) * M;
    const a = p.scale / p.std[c]!;
    const b = p.mean[c]! / p.std[c]!;
    for (let k = 0; k < M; k++) dst[c * M + k] = a * src[from + k]! - b;
  }
  return x;
}

/**
 * Backward of `preprocess`: the gradient with respect to the image's pixels, given the gradient
 * with respect to the network input (the chain rule through one affine map per channel).
 * @param dx [1, 3, H, W]
 * @param dImage [3, H, W], overwritten
 */
export function preprocessBackward(dImage: Tensor, dx: Tensor, p: Preprocessing): Tensor {
  const [H, W] = checkRgb(dImage, 'preprocessBackward');
  assertShape(dx, [1, 3, H, W], 'preprocessBackward dx');
  const src = contiguous(dx).data;
  if (!isContiguous(dImage)) throw new Error('preprocessBackward: dImage must be contiguous');
  const dst = dImage.data;
  const M = H * W;
  for (let c = 0; c < 3; c++) {
    const to = (p.channelOrder === 'bgr' ? 2 - c : c) * M;
    const a = p.scale / p.std[c]!;
    for (let k = 0; k < M; k++) dst[to + k] = a * src[c * M + k]!;
  }
  return dImage;
}

/** Clip every value of an image into [0, 1] in place; returns it. */
export function clip01<T extends Tensor>(image: T): T {
  if (!isContiguous(image)) throw new Error('clip01: image must be contiguous');
  const d = image.data;
  for (let i = 0, end = image.size; i < end; i++) d[i] = Math.min(1, Math.max(0, d[i]!));
  return image;
}

// YIQ (NTSC) weights: Y is luminance, I and Q carry the colour.
const YIQ = [
  [0.299, 0.587, 0.114],
  [0.595716, -0.274453, -0.321263],
  [0.211456, -0.522591, 0.311135],
] as const;
const RGB_FROM_YIQ = [
  [1, 0.9563, 0.621],
  [1, -0.2721, -0.6474],
  [1, -1.107, 1.7046],
] as const;

/**
 * Original colours (Gatys et al. 2016, "Preserving colour"): keep the luminance Y of the stylized
 * image and the colour (I, Q) of the content image, so only brightness patterns are transferred.
 * @param stylized [3, H, W] in [0, 1]
 * @param content [3, H, W] in [0, 1], same size
 * @returns a new [3, H, W] float32 image, clipped to [0, 1]
 */
export function originalColors(stylized: Tensor, content: Tensor): Tensor32 {
  const [H, W] = checkRgb(stylized, 'originalColors');
  assertShape(content, [3, H, W], 'originalColors content');
  const s = contiguous(stylized).data;
  const c = contiguous(content).data;
  const out = zeros([3, H, W], 'float32');
  const o = out.data;
  const M = H * W;
  for (let k = 0; k < M; k++) {
    const yiq = [0, 0, 0];
    for (let r = 0; r < 3; r++) {
      const src = r === 0 ? s : c;
      yiq[r] = YIQ[r]![0] * src[k]! + YIQ[r]![1] * src[M + k]! + YIQ[r]![2] * src[2 * M + k]!;
    }
    for (let ch = 0; ch < 3; ch++) {
      const m = RGB_FROM_YIQ[ch]!;
      const v = m[0] * yiq[0]! + m[1] * yiq[1]! + m[2] * yiq[2]!;
      o[ch * M + k] = Math.min(1, Math.max(0, v));
    }
  }
  return out;
}

/** How the optimization starts. */
export type InitKind = 'content' | 'noise' | 'mixed';

/**
 * The starting image: the content image, uniform noise in [0.4, 0.6) (seeded), or "mixed" as
 * the original tool made it: (1 − ratio) · content + ratio · style, with the style image (or a
 * blend of several) already resized to the content's size.
 * @param content [3, H, W]
 * @param options.style [3, H, W], required for 'mixed'
 */
export function initialImage(
  content: Tensor,
  init: InitKind,
  rng: Rng,
  { ratio = 0.05, style }: { ratio?: number; style?: Tensor } = {},
): Tensor32 {
  const c = contiguous(content).data;
  const out = zeros(content.shape, 'float32');
  const o = out.data;
  if (init === 'mixed') {
    if (style === undefined) {
      throw new Error(
        "initialImage: 'mixed' blends the content with the style image; pass { style }",
      );
    }
    assertShape(style, content.shape, "initialImage 'mixed' style image");
    const s = contiguous(style).data;
    for (let i = 0; i < o.length; i++) o[i] = (1 - ratio) * c[i]! + ratio * s[i]!;
    return out;
  }
  for (let i = 0; i < o.length; i++) o[i] = init === 'content' ? c[i]! : rng.uniform(0.4, 0.6);
  return out;
}

/**
 * The blend of several style images for a 'mixed' start: each resized to [3, H, W] and averaged
 * with the style blend weights.
 */
export function blendedStyleImage(
  styles: readonly { readonly image: Tensor; readonly weight: number }[],
  H: number,
  W: number,
): Tensor32 {
  if (styles.length === 0) throw new Error("a 'mixed' start needs at least one style image");
  const out = zeros([3, H, W], 'float32');
  const total = styles.reduce((t, s) => t + s.weight, 0);
  for (const { image, weight } of styles) {
    const r = resizeImage(image, H, W).data;
    for (let i = 0; i < out.data.length; i++) out.data[i]! += (weight / total) * r[i]!;
  }
  return out;
}
