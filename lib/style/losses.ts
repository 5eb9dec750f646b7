// The three losses of neural style transfer (Gatys, Ecker & Bethge, CVPR 2016), each returning its
// value and its hand-written gradient: content (eq. 1–2), style through Gram matrices (eq. 3–6),
// and total variation on the pixels. Features are one image's activations, [C, H, W] or
// [1, C, H, W]; inside, they are read as the paper's matrix F of shape [N, M] = [C, H·W].
import {
  ShapeError,
  contiguous,
  dtypeOf,
  isContiguous,
  zeros,
  type Tensor,
} from '../core/index.js';
import { gramProduct, rowCombination } from './products.js';
import { addToRows, centre, rowMeans } from './rows.js';

/** A loss value and its gradient with respect to the features (same shape and dtype). */
export interface FeatureLoss {
  readonly loss: number;
  readonly dF: Tensor;
}

/** A loss value and its gradient with respect to the image (same shape and dtype). */
export interface ImageLoss {
  readonly loss: number;
  readonly dImage: Tensor;
}

/** How a loss is scaled: the paper's constants, or divided by the target's own squared norm. */
export type LossNormalization = 'paper' | 'target';

/** Which second-order statistic describes style: the paper's Gram matrix or centred covariance. */
export type StyleStatistic = 'gram' | 'centred';

interface FeatureMatrix {
  readonly data: Tensor['data'];
  readonly C: number;
  readonly M: number;
}

// The paper's F: N = C filters (rows) by M = H·W positions (columns), contiguous.
function featureMatrix(F: Tensor, context: string): FeatureMatrix {
  const s = F.shape;
  if (!(s.length === 3 || (s.length === 4 && s[0] === 1))) {
    throw new ShapeError(context, s, [1, -1, -1, -1], 'features must be [C, H, W] or [1, C, H, W]');
  }
  const c = contiguous(F);
  const C = s[s.length - 3]!;
  return { data: c.data, C, M: c.size / C };
}

/**
 * Gram matrix of features, G = F Fᵀ / M (eq. 3 divided by the number of positions M = H·W, so it
 * does not grow with image size); `centred` subtracts each channel's mean first (a covariance).
 * @param F features, [C, H, W] or [1, C, H, W]
 * @returns G, [C, C] float64
 */
export function gram(F: Tensor, { centred = false }: { centred?: boolean } = {}): Tensor {
  const { data, C, M } = featureMatrix(F, 'gram');
  const src = centred ? centre(data, C, M, rowMeans(data, C, M)) : data;
  const G = zeros([C, C]);
  gramProduct(G.data, src, C, M, 1 / M);
  return G;
}

// Where a loss writes its gradient: the caller's `out` (reused across iterations, so the loop
// allocates nothing), checked to be contiguous with the shape and dtype of `like`; else a new tensor.
function gradientBuffer(out: Tensor | undefined, like: Tensor, context: string): Tensor {
  if (out === undefined) return zeros(like.shape, dtypeOf(like));
  if (out.shape.join() !== like.shape.join() || dtypeOf(out) !== dtypeOf(like)) {
    throw new ShapeError(`${context} out`, out.shape, like.shape, `must be ${dtypeOf(like)}`);
  }
  if (!isContiguous(out)) throw new Error(`${context}: out must be contiguous`);
  return out;
}

function squaredNorm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return s;
}

/** Σ P² of content features P, as contentLoss's `targetSquaredNorm` (the same sum it would take). */
export function contentTargetNorm(P: Tensor): number {
  return squaredNorm(contiguous(P).data);
}

/**
 * Content loss at one layer (eq. 1): L = ½ Σ (F − P)², with gradient dL/dF = F − P (eq. 2; the
 * ReLU mask of eq. 2 is applied by the network's own backward). With `normalize: 'target'` the
 * loss is Σ (F − P)² / Σ P², which does not depend on the layer's size or the features' scale.
 * @param F features of the image being optimized, [C, H, W] or [1, C, H, W]
 * @param P features of the content image, same shape
 * @param out where to write dF (same shape and dtype as F); a new tensor when omitted
 * @param gradientScale dF comes out multiplied by this (the layer's weight in the objective,
 *   saving the caller a pass over dF); the loss does not
 * @param targetSquaredNorm Σ P² (contentTargetNorm(P)), for a caller that compares with the same
 *   P every iteration: computed here otherwise, a pass over P per call
 */
export function contentLoss(
  F: Tensor,
  P: Tensor,
  {
    normalize = 'paper',
    out,
    gradientScale = 1,
    targetSquaredNorm,
  }: {
    normalize?: LossNormalization;
    out?: Tensor;
    gradientScale?: number;
    targetSquaredNorm?: number;
  } = {},
): FeatureLoss {
  if (F.shape.join() !== P.shape.join())
    throw new ShapeError('contentLoss target', P.shape, F.shape);
  const f = contiguous(F).data;
  const p = contiguous(P).data;
  const scale =
    normalize === 'paper' ? 1 : 2 / Math.max(targetSquaredNorm ?? squaredNorm(p), 1e-30);
  const dF = gradientBuffer(out, F, 'contentLoss');
  const d = dF.data;
  const dScale = scale * gradientScale;
  let loss = 0;
  for (let i = 0; i < f.length; i++) {
    const r = f[i]! - p[i]!;
    loss += r * r;
    d[i] = dScale * r;
  }
  return { loss: (scale * loss) / 2, dF };
}

/** What a style image leaves behind at one layer: its statistic and how to compare with it. */
export interface StyleTarget {
  readonly statistic: StyleStatistic;
  readonly normalize: LossNormalization;
  /** Channels N of the layer. */
  readonly C: number;
  /** Â = F Fᵀ / M (or the centred covariance Σ), [C·C] row-major. */
  readonly gram: Float64Array;
  /** Channel means μ (used by the centred statistic), [C]. */
  readonly mean: Float64Array;
}

/** Options of a style target. */
export interface StyleTargetOptions {
  /** 'gram' (the paper, default) or 'centred' (covariance + mean; better for random weights). */
  statistic?: StyleStatistic;
  /** 'paper' (1/(4N²) on per-position Gram matrices, eq. 4) or 'target' (‖Â‖² = 1). */
  normalize?: LossNormalization;
}

/**
 * Compute the style target of one layer from the style image's features.
 * @param A features of the style image, [C, H, W] or [1, C, H, W] (any H, W)
 */
export function styleTarget(A: Tensor, options: StyleTargetOptions = {}): StyleTarget {
  const { statistic = 'gram', normalize = 'paper' } = options;
  const { data, C, M } = featureMatrix(A, 'styleTarget');
  const mean = rowMeans(data, C, M);
  const src = statistic === 'centred' ? centre(data, C, M, mean) : data;
  const g = gramProduct(new Float64Array(C * C), src, C, M, 1 / M);
  return { statistic, normalize, C, gram: g, mean };
}

/**
 * Blend style targets of several style images with weights (as neural-style does for several
 * style images): Â = Σ wₖ Âₖ / Σ wₖ, and the same for the means.
 */
export function blendStyleTargets(
  targets: readonly StyleTarget[],
  weights: readonly number[],
): StyleTarget {
  const first = targets[0];
  if (first === undefined) throw new Error('blendStyleTargets: no targets');
  if (weights.length !== targets.length) {
    throw new Error(`blendStyleTargets: ${targets.length} targets but ${weights.length} weights`);
  }
  const total = weights.reduce((s, w) => s + w, 0);
  if (!(total > 0)) throw new Error('blendStyleTargets: weights must sum to a positive number');
  const gram = new Float64Array(first.gram.length);
  const mean = new Float64Array(first.C);
  targets.forEach((t, k) => {
    if (t.C !== first.C || t.statistic !== first.statistic || t.normalize !== first.normalize) {
      throw new Error('blendStyleTargets: targets differ in channels, statistic or normalization');
    }
    const w = weights[k]! / total;
    for (let i = 0; i < gram.length; i++) gram[i] += w * t.gram[i]!;
    for (let i = 0; i < mean.length; i++) mean[i] += w * t.mean[i]!;
  });
  return { ...first, gram, mean };
}

// Ĝ − Â of the layer being evaluated, reused by every styleLoss call (read before it returns):
// at VGG-19's widths a fresh one would be 4.7 MB of garbage per iteration.
let diffScratch: Float64Array = new Float64Array(0);
// The mean term's per-row constants, likewise reused.
let meanTermScratch: Float64Array = new Float64Array(0);

/**
 * Style loss at one layer (eq. 4). With Ĝ = F Fᵀ / M (N = C channels, M = H·W positions):
 * - 'paper': E = Σ (Ĝ − Â)² / (4N²), which is eq. 4's 1/(4N²M²) Σ (G − A)² when both images have
 *   M positions; gradient dE/dF = (Ĝ − Â) F / (N²M) (eq. 6 without the ReLU mask);
 * - 'target': E = ‖Ĝ − Â‖² / ‖Â‖², gradient 4 (Ĝ − Â) F / (M ‖Â‖²).
 * The 'centred' statistic replaces F by F − μ1ᵀ and adds ‖μ − μ̂‖² / ‖μ̂‖² ('target') or
 * ‖μ − μ̂‖² / (2N) ('paper'); the centring needs no extra backward term because the rows of
 * (Σ − Σ̂)(F − μ1ᵀ) already sum to zero.
 * @param F features of the image being optimized, [C, H, W] or [1, C, H, W]
 * @param target from `styleTarget` (computed once from the style image)
 * @param out where to write dF (same shape and dtype as F); a new tensor when omitted
 * @param gradientScale dF comes out multiplied by this (as contentLoss's); the loss does not
 */
export function styleLoss(
  F: Tensor,
  target: StyleTarget,
  out?: Tensor,
  gradientScale = 1,
): FeatureLoss {
  const { data, C, M } = featureMatrix(F, 'styleLoss');
  if (C !== target.C) {
    throw new ShapeError('styleLoss', F.shape, [target.C, -1, -1], 'channels differ from target');
  }
  const centred = target.statistic === 'centred';
  const mean = rowMeans(data, C, M);
  const src = centred ? centre(data, C, M, mean) : data;
  if (diffScratch.length < C * C) diffScratch = new Float64Array(C * C);
  const diff = gramProduct(diffScratch.subarray(0, C * C), src, C, M, 1 / M);
  for (let i = 0; i < diff.length; i++) diff[i] -= target.gram[i]!;
  const sq = squaredNorm(diff);
  // E = a ‖Ĝ − Â‖², so dE/dF = 4a (Ĝ − Â) F / M (Ĝ is symmetric and quadratic in F).
  const a =
    target.normalize === 'paper' ? 1 / (4 * C * C) : 1 / Math.max(squaredNorm(target.gram), 1e-30);
  let loss = a * sq;
  const dF = gradientBuffer(out, F, 'styleLoss');
  rowCombination(dF.data, diff, src, C, M, ((4 * a) / M) * gradientScale);
  if (centred) {
    // Mean term b ‖μ − μ̂‖²: each position gets 2b (μ − μ̂) / M.
    const b =
      target.normalize === 'paper' ? 1 / (2 * C) : 1 / Math.max(squaredNorm(target.mean), 1e-30);
    if (meanTermScratch.length < C) meanTermScratch = new Float64Array(C);
    const g = meanTermScratch.subarray(0, C);
    for (let i = 0; i < C; i++) {
      const r = mean[i]! - target.mean[i]!;
      loss += b * r * r;
      g[i] = ((2 * b * r) / M) * gradientScale;
    }
    addToRows(dF.data, g, C, M);
  }
  return { loss, dF };
}

/**
 * Total variation of an image: the mean squared difference between horizontal neighbours plus
 * the mean squared difference between vertical neighbours (means, so the weight does not change
 * with image size). Penalizes high-frequency noise the optimizer would otherwise add.
 * @param image [C, H, W] or [1, C, H, W]
 * @param out where to write dImage (same shape and dtype); a new tensor when omitted
 */
export function totalVariation(image: Tensor, out?: Tensor): ImageLoss {
  const s = image.shape;
  if (!(s.length === 3 || (s.length === 4 && s[0] === 1))) {
    throw new ShapeError('totalVariation', s, [1, -1, -1, -1], 'image must be [C, H, W]');
  }
  const [C, H, W] = s.slice(-3) as [number, number, number];
  const x = contiguous(image).data;
  const dImage = gradientBuffer(out, image, 'totalVariation');
  const d = dImage.data;
  d.fill(0); // the neighbour terms below add into it
  const nh = C * H * (W - 1);
  const nv = C * (H - 1) * W;
  let lh = 0;
  let lv = 0;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < H; i++) {
      const row = (c * H + i) * W;
      for (let j = 0; j < W; j++) {
        const p = row + j;
        if (j + 1 < W) {
          const r = x[p + 1]! - x[p]!;
          lh += r * r;
          const g = (2 * r) / nh;
          d[p + 1] += g;
          d[p] -= g;
        }
        if (i + 1 < H) {
          const r = x[p + W]! - x[p]!;
          lv += r * r;
          const g = (2 * r) / nv;
          d[p + W] += g;
          d[p] -= g;
        }
      }
    }
  }
  const loss = (nh > 0 ? lh / nh : 0) + (nv > 0 ? lv / nv : 0);
  return { loss, dImage };
}
