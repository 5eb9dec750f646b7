// The style-transfer objective and loop (Gatys et al. 2016, eq. 7): L = α·L_content + β·L_style
// + γ·L_TV as a function of the pixels, with its gradient carried down through the feature
// network's backward (weights frozen) and the preprocessing, then minimized by L-BFGS or Adam.
import {
  ShapeError,
  Rng,
  assertShape,
  contiguous,
  dtypeOf,
  bufferZeros,
  reuseTensor,
  zeros,
  type DType,
  type Tensor,
  type Tensor32,
} from '../core/index.js';
import { addIntoResident } from '../cnn/index.js';
import { Adam } from './adam.js';
import { LBFGS, type IterationInfo, type Minimizer, type Objective } from './lbfgs.js';
import {
  blendStyleTargets,
  contentLoss,
  contentTargetNorm,
  styleLoss,
  styleTarget,
  totalVariation,
  type LossNormalization,
  type StyleStatistic,
  type StyleTarget,
} from './losses.js';
import {
  initialImage,
  blendedStyleImage,
  preprocess,
  preprocessBackward,
  resizeImage,
  type InitKind,
  type Preprocessing,
} from './image.js';

/**
 * A network whose intermediate activations ("taps") style transfer reads, with weights frozen:
 * forward keeps what backward needs; backward takes the loss gradients at the taps and returns
 * the gradient at the input (no weight gradients are computed).
 */
export interface FeatureNet {
  /** What the network expects of its input (channel order, scale, mean, std). */
  readonly preprocessing: Preprocessing;
  /** Names of the layers that can be tapped, in network order. */
  readonly layerNames: readonly string[];
  /**
   * Run x [1, 3, H, W] up to the deepest tap; returns the activations at `taps` by name. They may
   * live in buffers the network reuses, so they are valid until the next forward.
   */
  forward(x: Tensor, taps: readonly string[]): Map<string, Tensor>;
  /** dL/dx [1, 3, H, W] from the gradients at the taps of the last forward (valid until the next backward). */
  backward(tapGradients: ReadonlyMap<string, Tensor>): Tensor;
}

/** A layer name with its weight in a sum of per-layer losses. */
export interface LayerWeight {
  readonly layer: string;
  readonly weight: number;
}

/** A style image and its weight when several styles are blended. */
export interface StyleImage {
  /** [3, H, W] RGB in [0, 1]. */
  readonly image: Tensor;
  readonly weight: number;
}

/** The weights and layers of the objective. */
export interface StyleLossOptions {
  /** Layers whose features must match the content image's, with weights. */
  contentLayers: readonly LayerWeight[];
  /** Layers whose statistics must match the style images', with weights. */
  styleLayers: readonly LayerWeight[];
  /** α of eq. 7 (default 1). */
  contentWeight?: number;
  /** β of eq. 7 (default 1e3). */
  styleWeight?: number;
  /** Weight of total variation (default 0). */
  tvWeight?: number;
  /** 'gram' (the paper) or 'centred' (covariance + mean). */
  statistic?: StyleStatistic;
  /** 'paper' constants, or each layer's loss divided by its target's squared norm. */
  normalize?: LossNormalization;
  /** Element type of the network's tensors (float32 for speed, float64 for gradient checks). */
  dtype?: DType;
}

/** The value of the objective and its parts (each already multiplied by its weight). */
export interface LossParts {
  readonly total: number;
  readonly content: number;
  readonly style: number;
  readonly tv: number;
}

/**
 * The objective of eq. 7 over an image's pixels. Targets (content features, style statistics)
 * are computed once, in the constructor.
 */
export class StyleTransferLoss {
  readonly net: FeatureNet;
  readonly shape: readonly [number, number, number];
  readonly #contentWeight: number;
  readonly #styleWeight: number;
  readonly #tvWeight: number;
  readonly #contentLayers: readonly LayerWeight[];
  readonly #styleLayers: readonly LayerWeight[];
  readonly #normalize: LossNormalization;
  readonly #dtype: DType;
  readonly #taps: string[];
  readonly #contentTargets = new Map<string, Tensor>();
  // Σ P² of each content target, taken once (contentLoss would take it on every call).
  readonly #contentNorms = new Map<string, number>();
  readonly #styleTargets = new Map<string, StyleTarget>();
  // The network input and every loss gradient, by role: reused by each evaluation (same shapes).
  readonly #buffers = new Map<string, Tensor>();

  // The network's input and the tap gradients are kept from call to call; float32 ones live in
  // the kernel's memory (kernelZeros), so the network reads them there without copies.
  #buffer(key: string, shape: readonly number[], dtype: DType): Tensor {
    return reuseTensor(this.#buffers, key, shape, dtype, bufferZeros);
  }
  /** Evaluations so far. */
  evaluations = 0;

  /**
   * @param net the feature network (frozen)
   * @param content [3, H, W] RGB in [0, 1]; the optimized image has this size
   * @param styles style images (any sizes) with blend weights
   */
  constructor(
    net: FeatureNet,
    content: Tensor,
    styles: readonly StyleImage[],
    options: StyleLossOptions,
  ) {
    const {
      contentLayers,
      styleLayers,
      contentWeight = 1,
      styleWeight = 1e3,
      tvWeight = 0,
      statistic = 'gram',
      normalize = 'paper',
      dtype = 'float32',
    } = options;
    if (content.shape.length !== 3 || content.shape[0] !== 3) {
      throw new ShapeError('StyleTransferLoss content', content.shape, [3, -1, -1], 'RGB image');
    }
    for (const { layer } of [...contentLayers, ...styleLayers]) {
      if (!net.layerNames.includes(layer)) {
        throw new Error(`unknown layer '${layer}'; this network has: ${net.layerNames.join(', ')}`);
      }
    }
    if (styleLayers.length > 0 && styles.length === 0)
      throw new Error('style layers given but no style image');
    this.net = net;
    this.shape = content.shape as [number, number, number];
    this.#contentWeight = contentWeight;
    this.#styleWeight = styleWeight;
    this.#tvWeight = tvWeight;
    this.#contentLayers = contentLayers;
    this.#styleLayers = styleLayers;
    this.#normalize = normalize;
    this.#dtype = dtype;
    this.#taps = [...new Set([...contentLayers, ...styleLayers].map((l) => l.layer))];

    if (contentLayers.length > 0) {
      const feats = net.forward(
        preprocess(content, net.preprocessing, dtype),
        contentLayers.map((l) => l.layer),
      );
      for (const { layer } of contentLayers) {
        const P = contiguousCopy(feats.get(layer)!);
        this.#contentTargets.set(layer, P);
        this.#contentNorms.set(layer, contentTargetNorm(P));
      }
    }
    if (styleLayers.length > 0) {
      const perStyle = styles.map(({ image }) => {
        const feats = net.forward(
          preprocess(image, net.preprocessing, dtype),
          styleLayers.map((l) => l.layer),
        );
        return new Map(
          styleLayers.map(({ layer }) => [
            layer,
            styleTarget(feats.get(layer)!, { statistic, normalize }),
          ]),
        );
      });
      for (const { layer } of styleLayers) {
        this.#styleTargets.set(
          layer,
          blendStyleTargets(
            perStyle.map((m) => m.get(layer)!),
            styles.map((s) => s.weight),
          ),
        );
      }
    }
  }

  /**
   * The objective at `image` [3, H, W]; writes dL/dimage into `dImage` (same shape) when given.
   */
  evaluate(image: Tensor, dImage?: Tensor): LossParts {
    assertShape(image, this.shape, 'StyleTransferLoss.evaluate image');
    this.evaluations++;
    const [H, W] = [this.shape[1], this.shape[2]];
    const input = this.#buffer('input', [1, 3, H, W], this.#dtype);
    const x = preprocess(image, this.net.preprocessing, this.#dtype, input);
    const feats = this.net.forward(x, this.#taps);
    const grads = new Map<string, Tensor>();
    // Each loss writes its gradient already multiplied by its weight (gradientScale), so a
    // layer's gradient is the first loss's buffer, plus any other loss's at the same layer.
    const addGrad = (layer: string, g: Tensor): void => {
      const acc = grads.get(layer);
      if (acc === undefined) {
        grads.set(layer, g);
      } else if (!addIntoResident(acc.data, g.data)) {
        const [ad, gd] = [acc.data, g.data];
        for (let i = 0, end = gd.length; i < end; i++) ad[i] += gd[i]!;
      }
    };
    let content = 0;
    for (const { layer, weight } of this.#contentLayers) {
      const F = feats.get(layer)!;
      const w = this.#contentWeight * weight;
      const r = contentLoss(F, this.#contentTargets.get(layer)!, {
        normalize: this.#normalize,
        out: this.#buffer(`content ${layer}`, F.shape, dtypeOf(F)),
        gradientScale: w,
        targetSquaredNorm: this.#contentNorms.get(layer)!,
      });
      content += w * r.loss;
      addGrad(layer, r.dF);
    }
    let style = 0;
    for (const { layer, weight } of this.#styleLayers) {
      const F = feats.get(layer)!;
      const out = this.#buffer(`style ${layer}`, F.shape, dtypeOf(F));
      const w = this.#styleWeight * weight;
      const r = styleLoss(F, this.#styleTargets.get(layer)!, out, w);
      style += w * r.loss;
      addGrad(layer, r.dF);
    }
    let tv = 0;
    let dTv: Tensor | undefined;
    if (this.#tvWeight > 0) {
      const r = totalVariation(
        image,
        reuseTensor(this.#buffers, 'tv', image.shape, dtypeOf(image)),
      );
      tv = this.#tvWeight * r.loss;
      dTv = r.dImage;
    }
    if (dImage !== undefined) {
      assertShape(dImage, this.shape, 'StyleTransferLoss.evaluate dImage');
      const dx = this.net.backward(grads);
      preprocessBackward(dImage, dx, this.net.preprocessing);
      if (dTv !== undefined) {
        const d = dImage.data;
        const t = dTv.data;
        for (let i = 0; i < t.length; i++) d[i] += this.#tvWeight * t[i]!;
      }
    }
    return { total: content + style + tv, content, style, tv };
  }

  /** The objective over a flat Float64Array of pixels, for `LBFGS` or `Adam`. */
  objective(): Objective {
    const image = zeros(this.shape, this.#dtype);
    const dImage = zeros(this.shape, this.#dtype);
    return (x, grad) => {
      image.data.set(x);
      const { total } = this.evaluate(image, dImage);
      grad.set(dImage.data);
      return total;
    };
  }
}

function contiguousCopy(t: Tensor): Tensor {
  const c = contiguous(t);
  if (c !== t) return c;
  const out = zeros(t.shape, dtypeOf(t));
  out.data.set(t.data.subarray(0, t.size));
  return out;
}

/** Options of a style-transfer run. */
export interface TransferOptions extends StyleLossOptions {
  /** 'lbfgs' (default) or 'adam'. */
  optimizer?: 'lbfgs' | 'adam';
  /** Iterations (default 150). */
  iterations?: number;
  /** L-BFGS history size (default 10). */
  historySize?: number;
  /** Adam step size in pixel units (default 0.02). */
  learningRate?: number;
  /** Starting image (default 'content'), or a [3, H, W] image (resized to the content's size). */
  init?: InitKind | Tensor;
  /** Seed for the noise of 'noise' initialization (default 0). */
  seed?: number;
  /** Called after each iteration with the current image (for progress and intermediate saves). */
  onIteration?: (info: IterationInfo & { image: () => Tensor32 }) => void;
}

/** The result of a run. */
export interface TransferResult {
  /** [3, H, W] float32 in [0, 1]. */
  readonly image: Tensor32;
  readonly initialLoss: number;
  readonly finalLoss: number;
  readonly iterations: number;
  readonly evaluations: number;
  /** The loss after each iteration (index 0 is the start). */
  readonly losses: number[];
}

/**
 * Run style transfer: build the objective, start from the chosen image, minimize with L-BFGS or
 * Adam keeping pixels in [0, 1], and return the image.
 * @param content [3, H, W] RGB in [0, 1]
 */
export function styleTransfer(
  net: FeatureNet,
  content: Tensor,
  styles: readonly StyleImage[],
  options: TransferOptions,
): TransferResult {
  const [, H, W] = content.shape as [number, number, number];
  // A 'mixed' start needs the style images, which optimizeImage does not see: make it here.
  const start =
    options.init === 'mixed'
      ? {
          ...options,
          init: initialImage(content, 'mixed', new Rng(options.seed ?? 0), {
            style: blendedStyleImage(styles, H, W),
          }),
        }
      : options;
  return optimizeImage(new StyleTransferLoss(net, content, styles, options), content, start);
}

/**
 * Minimize a prepared objective over the image, starting from `init` (see `TransferOptions`).
 * @param content [3, H, W], the image 'content' and 'noise' starts are made from ('mixed' is made by styleTransfer, which has the style images)
 */
export function optimizeImage(
  loss: StyleTransferLoss,
  content: Tensor,
  options: Omit<TransferOptions, keyof StyleLossOptions>,
): TransferResult {
  const {
    optimizer = 'lbfgs',
    iterations = 150,
    historySize = 10,
    learningRate = 0.02,
    init = 'content',
    seed = 0,
    onIteration,
  } = options;
  const [C, H, W] = loss.shape;
  assertShape(content, loss.shape, 'optimizeImage content');
  const start =
    typeof init === 'string' ? initialImage(content, init, new Rng(seed)) : resizeImage(init, H, W);
  const x0 = Float64Array.from(contiguous(start).data);
  const toImage = (x: Float64Array): Tensor32 => {
    const img = zeros([C, H, W], 'float32');
    img.data.set(x);
    return img;
  };
  const callback =
    onIteration &&
    ((info: IterationInfo) => onIteration({ ...info, image: () => toImage(info.x) }));
  const bounds = { lower: 0, upper: 1 };
  const minimizer: Minimizer =
    optimizer === 'adam'
      ? new Adam({
          ...bounds,
          learningRate,
          maxIterations: iterations,
          ...(callback && { onIteration: callback }),
        })
      : new LBFGS({
          ...bounds,
          historySize,
          maxIterations: iterations,
          // ≈1.1 evaluations per iteration in practice; the cap only stops runaway line searches.
          maxEvaluations: Math.ceil(1.5 * iterations) + 5,
          ...(callback && { onIteration: callback }),
        });
  const r = minimizer.minimize(loss.objective(), x0);
  return {
    image: toImage(r.x),
    initialLoss: r.initialLoss,
    finalLoss: r.loss,
    iterations: r.iterations,
    evaluations: r.evaluations,
    losses: r.losses,
  };
}
