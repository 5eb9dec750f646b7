// DeepDream (Mordvintsev, Olah & Tyka, 2015): gradient ASCENT on the image so that one layer's
// activations grow, L = ½ Σ a² (so ∂L/∂a = a, the notebook's objective_L2). Each step shifts the
// image by a random jitter, takes a step normalized by the mean |gradient|, and shifts back; the
// image is processed at several octaves, small to large, carrying the details made so far up to
// the next scale. Defaults are those of Google's published notebook (GoogLeNet, inception_4c).
import { ShapeError, copy, dtypeOf, reshape, zeros, type Rng, type Tensor } from '../core/index.js';

/** What dreaming needs of a network: Graph and chapter 4's Sequential both have it. */
export interface TappableNet {
  forwardWithTaps(
    x: Tensor,
    names: readonly string[],
    options?: { stopAtDeepestTap?: boolean },
  ): { y: Tensor; taps: Map<string, Tensor> };
  backward(dy: Tensor | null, options?: { tapGradients?: ReadonlyMap<string, Tensor> }): Tensor;
}

/** Options of `dream` (defaults: Google's deepdream notebook). */
export interface DreamOptions {
  /** The layer whose activations grow (default `inception_4c/output`). */
  layer?: string;
  /** Number of scales (default 4). */
  octaves?: number;
  /** Ratio between successive scales (default 1.4). */
  octaveScale?: number;
  /** Ascent steps per octave (default 10). */
  iterations?: number;
  /** Step size relative to the mean |gradient| (default 1.5). */
  stepSize?: number;
  /** Largest random shift in pixels, each axis (default 32). */
  jitter?: number;
  /** Clip each channel to [lo, hi] after each step (the notebook clips to [−mean, 255 − mean]). */
  clip?: { readonly lo: readonly number[]; readonly hi: readonly number[] };
  /** Random stream for the jitter (required when jitter > 0). */
  rng?: Rng;
  /** Called after each step with the octave (0 = smallest), the step, and the objective. */
  onStep?: (octave: number, step: number, objective: number) => void;
}

/**
 * Circular shift of x [C, H, W] by dy rows and dx columns (NumPy's np.roll on the last two axes):
 * out[c, (i + dy) mod H, (j + dx) mod W] = x[c, i, j]. Returns a new tensor.
 */
export function roll2d(x: Tensor, dy: number, dx: number): Tensor {
  const [C, H, W] = x.shape as [number, number, number];
  const out = zeros(x.shape, dtypeOf(x));
  const mod = (a: number, n: number): number => ((a % n) + n) % n;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) out.set(c, mod(i + dy, H), mod(j + dx, W), x.get(c, i, j));
    }
  }
  return out;
}

/**
 * Bilinear resize of x [C, H, W] to [C, outH, outW] with corners aligned, which is what the
 * notebook's scipy.ndimage.zoom(order = 1) computes: source = i · (H − 1) / (outH − 1).
 */
export function resizeBilinear(x: Tensor, outH: number, outW: number): Tensor {
  const [C, H, W] = x.shape as [number, number, number];
  const out = zeros([C, outH, outW], dtypeOf(x));
  const scaleH = outH > 1 ? (H - 1) / (outH - 1) : 0;
  const scaleW = outW > 1 ? (W - 1) / (outW - 1) : 0;
  for (let i = 0; i < outH; i++) {
    const si = i * scaleH;
    const i0 = Math.min(Math.floor(si), H - 1);
    const i1 = Math.min(i0 + 1, H - 1);
    const fi = si - i0;
    for (let j = 0; j < outW; j++) {
      const sj = j * scaleW;
      const j0 = Math.min(Math.floor(sj), W - 1);
      const j1 = Math.min(j0 + 1, W - 1);
      const fj = sj - j0;
      for (let c = 0; c < C; c++) {
        const top = x.get(c, i0, j0) * (1 - fj) + x.get(c, i0, j1) * fj;
        const bottom = x.get(c, i1, j0) * (1 - fj) + x.get(c, i1, j1) * fj;
        out.set(c, i, j, top * (1 - fi) + bottom * fi);
      }
    }
  }
  return out;
}

/** The octave sizes, smallest first: [H, W] divided by scale^k and rounded, as zoom does. */
export function octaveSizes(
  H: number,
  W: number,
  octaves: number,
  scale: number,
): [number, number][] {
  const sizes: [number, number][] = [[H, W]];
  for (let k = 1; k < octaves; k++) {
    const [h, w] = sizes[k - 1]!;
    sizes.push([Math.round(h / scale), Math.round(w / scale)]);
  }
  return sizes.reverse();
}

/**
 * One ascent step on `image` [C, H, W] (in place): jitter, forward to `layer`, backpropagate
 * ∂(½ Σ a²)/∂a = a, step by stepSize / mean|g| · g, unshift, clip.
 * @returns the objective ½ Σ a² before the step
 */
export function dreamStep(
  net: TappableNet,
  image: Tensor,
  {
    layer,
    stepSize,
    jitter,
    clip,
    rng,
  }: Required<Pick<DreamOptions, 'layer' | 'stepSize' | 'jitter'>> &
    Pick<DreamOptions, 'clip' | 'rng'>,
): number {
  const [C, H, W] = image.shape as [number, number, number];
  if (jitter > 0 && rng === undefined) throw new Error('dream: jitter needs an rng (pass { rng })');
  const oy = jitter > 0 ? rng!.int(2 * jitter + 1) - jitter : 0;
  const ox = jitter > 0 ? rng!.int(2 * jitter + 1) - jitter : 0;
  const shifted = roll2d(image, oy, ox);
  const { taps } = net.forwardWithTaps(reshape(shifted, [1, C, H, W]), [layer], {
    stopAtDeepestTap: true,
  });
  const a = taps.get(layer)!;
  let objective = 0;
  for (let k = 0, end = a.size; k < end; k++) objective += 0.5 * a.data[k]! ** 2;
  const g = reshape(copy(net.backward(null, { tapGradients: new Map([[layer, copy(a)]]) })), [
    C,
    H,
    W,
  ]);
  let meanAbs = 0;
  for (let k = 0, end = g.size; k < end; k++) meanAbs += Math.abs(g.data[k]!);
  meanAbs /= g.size;
  // Normalizing by the mean |g| makes the step size mean the same at every layer and octave.
  const step = meanAbs > 0 ? stepSize / meanAbs : 0;
  for (let k = 0, end = shifted.size; k < end; k++)
    shifted.data[k] = shifted.data[k]! + step * g.data[k]!;
  const back = roll2d(shifted, -oy, -ox);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        let v = back.get(c, i, j);
        if (clip) v = Math.min(clip.hi[c]!, Math.max(clip.lo[c]!, v));
        image.set(c, i, j, v);
      }
    }
  }
  return objective;
}

/**
 * DeepDream on a preprocessed image [C, H, W] (the network's input space, e.g. BGR − mean for
 * Caffe's GoogLeNet). Returns a new image of the same shape.
 * @example const out = dream(net, caffePreprocess(img), { rng: new Rng(0), clip: caffeClip() });
 */
export function dream(net: TappableNet, image: Tensor, options: DreamOptions = {}): Tensor {
  const {
    layer = 'inception_4c/output',
    octaves = 4,
    octaveScale = 1.4,
    iterations = 10,
    stepSize = 1.5,
    jitter = 32,
    clip,
    rng,
    onStep,
  } = options;
  if (image.shape.length !== 3) throw new ShapeError('dream image', image.shape, [-1, -1, -1]);
  const [, H, W] = image.shape as [number, number, number];
  // The base image at each octave, smallest first (the notebook zooms each from the previous).
  const bases: Tensor[] = [copy(image)];
  for (const [h, w] of octaveSizes(H, W, octaves, octaveScale).reverse().slice(1)) {
    bases.push(resizeBilinear(bases[bases.length - 1]!, h, w));
  }
  bases.reverse();
  let detail = zeros(bases[0]!.shape, dtypeOf(image));
  let current = copy(image);
  bases.forEach((base, octave) => {
    const [, h, w] = base.shape as [number, number, number];
    if (octave > 0) detail = resizeBilinear(detail, h, w);
    current = copy(base);
    for (let k = 0, end = current.size; k < end; k++)
      current.data[k] = current.data[k]! + detail.data[k]!;
    for (let step = 0; step < iterations; step++) {
      const objective = dreamStep(net, current, {
        layer,
        stepSize,
        jitter,
        ...(clip ? { clip } : {}),
        ...(rng ? { rng } : {}),
      });
      onStep?.(octave, step, objective);
    }
    // What the network added at this octave, carried up to the next.
    detail = copy(current);
    for (let k = 0, end = detail.size; k < end; k++)
      detail.data[k] = detail.data[k]! - base.data[k]!;
  });
  return current;
}

/** Caffe GoogLeNet/VGG input: RGB [3, H, W] in [0, 1] → BGR · 255 − mean (ImageNet BGR mean). */
export function caffePreprocess(rgb: Tensor, mean: readonly number[] = [104, 116, 122]): Tensor {
  const [C, H, W] = rgb.shape as [number, number, number];
  if (C !== 3) throw new ShapeError('caffePreprocess image', rgb.shape, [3, H, W]);
  const out = zeros([3, H, W], 'float32');
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) out.set(c, i, j, 255 * rgb.get(2 - c, i, j) - mean[c]!);
    }
  }
  return out;
}

/** Inverse of caffePreprocess: BGR − mean → RGB [3, H, W] clipped to [0, 1]. */
export function caffeDeprocess(bgr: Tensor, mean: readonly number[] = [104, 116, 122]): Tensor {
  const [, H, W] = bgr.shape as [number, number, number];
  const out = zeros([3, H, W], 'float32');
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        out.set(2 - c, i, j, Math.min(1, Math.max(0, (bgr.get(c, i, j) + mean[c]!) / 255)));
      }
    }
  }
  return out;
}

/** The notebook's clip range for caffePreprocess'd images: [−mean, 255 − mean] per channel. */
export function caffeClip(mean: readonly number[] = [104, 116, 122]): {
  lo: number[];
  hi: number[];
} {
  return { lo: mean.map((m) => -m), hi: mean.map((m) => 255 - m) };
}
