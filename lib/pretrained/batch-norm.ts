// Batch normalization at inference (Ioffe & Szegedy 2015), where the statistics are the stored
// running ones: y = γ (x − μ) / √(σ² + ε) + β per channel. Caffe splits this in two — a
// BatchNorm layer (μ, σ² and a `scale_factor` blob, no γ, β) followed by a Scale layer (γ, β) —
// so both pieces are here: BatchNorm2d (affine or not) and ChannelScale.
import {
  ShapeError,
  checkUpstream,
  dtypeOf,
  fill,
  makeParam,
  requireCache,
  zeros,
  type DType,
  type Layer,
  type Param,
  type Tensor,
} from '../core/index.js';
import { channelAffine, channelSums } from './channel.js';

/** Options of BatchNorm2d. */
export interface BatchNormOptions {
  name?: string;
  /** ε under the square root (Caffe and ONNX default 1e-5). */
  eps?: number;
  /** Learn γ and β in this layer (default true); Caffe's BatchNorm leaves them to a Scale. */
  affine?: boolean;
  dtype?: DType;
}

/**
 * Inference batch normalization over channels: x [N, C, …] → y [N, C, …] with
 * y = γ_c (x − μ_c) / √(σ²_c + ε) + β_c. The statistics μ, σ² are buffers, not parameters:
 * only γ (`name.weight`) and β (`name.bias`) learn. Batch statistics (training mode) are not
 * computed: this layer runs pretrained networks and lets γ, β be fine-tuned.
 */
export class BatchNorm2d implements Layer {
  readonly name: string;
  readonly channels: number;
  readonly eps: number;
  /** μ per channel, shape [C] (a buffer; default 0). */
  readonly runningMean: Tensor;
  /** σ² per channel, shape [C] (a buffer; default 1). */
  readonly runningVar: Tensor;
  readonly weight: Param | undefined;
  readonly bias: Param | undefined;
  #cache: { x: Tensor; invStd: Float64Array } | undefined;

  /** @param channels C */
  constructor(
    channels: number,
    { name = 'bn', eps = 1e-5, affine = true, dtype = 'float64' }: BatchNormOptions = {},
  ) {
    this.name = name;
    this.channels = channels;
    this.eps = eps;
    this.runningMean = zeros([channels], dtype);
    this.runningVar = zeros([channels], dtype);
    fill(this.runningVar, 1);
    this.weight = affine ? makeParam(`${name}.weight`, [channels], dtype) : undefined;
    if (this.weight) fill(this.weight.value, 1);
    this.bias = affine ? makeParam(`${name}.bias`, [channels], dtype) : undefined;
  }

  #gamma(c: number): number {
    return this.weight ? this.weight.value.get(c) : 1;
  }

  forward(x: Tensor): Tensor {
    const C = this.channels;
    const invStd = new Float64Array(C);
    const a = new Float64Array(C);
    const b = new Float64Array(C);
    // Fold the four constants into one affine map per channel: y = a_c x + b_c.
    for (let c = 0; c < C; c++) {
      invStd[c] = 1 / Math.sqrt(this.runningVar.get(c) + this.eps);
      a[c] = this.#gamma(c) * invStd[c]!;
      b[c] = (this.bias ? this.bias.value.get(c) : 0) - a[c]! * this.runningMean.get(c);
    }
    const y = channelAffine(zeros(x.shape, dtypeOf(x)), x, a, b);
    this.#cache = { x, invStd };
    return y;
  }

  backward(dy: Tensor): Tensor {
    const { x, invStd } = requireCache(this.#cache, `BatchNorm2d(${this.name})`);
    checkUpstream(dy, x.shape, `BatchNorm2d(${this.name})`);
    const C = this.channels;
    // With fixed statistics the layer is affine in x: dx = dy · γ / √(σ² + ε).
    const a = new Float64Array(C);
    for (let c = 0; c < C; c++) a[c] = this.#gamma(c) * invStd[c]!;
    const dx = channelAffine(zeros(dy.shape, dtypeOf(dy)), dy, a, new Float64Array(C));
    if (this.weight && this.bias) {
      // dγ = Σ dy x̂ = invStd (Σ dy x − μ Σ dy), dβ = Σ dy (sums over all axes but channels).
      const { sumDy, sumDyX } = channelSums(dy, x, C);
      for (let c = 0; c < C; c++) {
        const dGamma = invStd[c]! * (sumDyX[c]! - this.runningMean.get(c) * sumDy[c]!);
        this.weight.grad.set(c, this.weight.grad.get(c) + dGamma);
        this.bias.grad.set(c, this.bias.grad.get(c) + sumDy[c]!);
      }
    }
    return dx;
  }

  params(): Param[] {
    return this.weight && this.bias ? [this.weight, this.bias] : [];
  }
}

/**
 * Load Caffe's BatchNorm blobs into `bn`. Caffe stores running sums; the statistics are
 * μ = blob0 · s and σ² = blob1 · s with s = 0 if blob2[0] = 0, else 1 / blob2[0] (the
 * `scale_factor` that counts the moving-average updates).
 * @param mean blob 0, length C; @param variance blob 1, length C; @param scaleFactor blob 2, length 1
 */
export function setCaffeBatchNormStats(
  bn: BatchNorm2d,
  mean: ArrayLike<number>,
  variance: ArrayLike<number>,
  scaleFactor: ArrayLike<number>,
): void {
  const C = bn.channels;
  if (mean.length !== C || variance.length !== C || scaleFactor.length !== 1) {
    throw new ShapeError(
      `BatchNorm(${bn.name}) blobs [mean, variance, scale_factor] lengths`,
      [mean.length, variance.length, scaleFactor.length],
      [C, C, 1],
    );
  }
  const f = scaleFactor[0]!;
  const s = f === 0 ? 0 : 1 / f;
  for (let c = 0; c < C; c++) {
    bn.runningMean.set(c, mean[c]! * s);
    bn.runningVar.set(c, variance[c]! * s);
  }
}

/** Options of ChannelScale. */
export interface ChannelScaleOptions {
  name?: string;
  /** Also learn a β per channel (Caffe `scale_param.bias_term`; default false, as Caffe). */
  bias?: boolean;
  dtype?: DType;
}

/**
 * Caffe's Scale layer over channels: x [N, C, …] → y = γ_c x + β_c, with parameters
 * `name.weight` [C] (initialised to 1) and, with `bias`, `name.bias` [C] (initialised to 0).
 */
export class ChannelScale implements Layer {
  readonly name: string;
  readonly channels: number;
  readonly weight: Param;
  readonly bias: Param | undefined;
  #x: Tensor | undefined;

  /** @param channels C */
  constructor(
    channels: number,
    { name = 'scale', bias = false, dtype = 'float64' }: ChannelScaleOptions = {},
  ) {
    this.name = name;
    this.channels = channels;
    this.weight = makeParam(`${name}.weight`, [channels], dtype);
    fill(this.weight.value, 1);
    this.bias = bias ? makeParam(`${name}.bias`, [channels], dtype) : undefined;
  }

  forward(x: Tensor): Tensor {
    const C = this.channels;
    const a = Array.from({ length: C }, (_, c) => this.weight.value.get(c));
    const b = Array.from({ length: C }, (_, c) => (this.bias ? this.bias.value.get(c) : 0));
    const y = channelAffine(zeros(x.shape, dtypeOf(x)), x, a, b);
    this.#x = x;
    return y;
  }

  backward(dy: Tensor): Tensor {
    const x = requireCache(this.#x, `ChannelScale(${this.name})`);
    checkUpstream(dy, x.shape, `ChannelScale(${this.name})`);
    const C = this.channels;
    const a = Array.from({ length: C }, (_, c) => this.weight.value.get(c));
    const dx = channelAffine(zeros(dy.shape, dtypeOf(dy)), dy, a, new Float64Array(C));
    // dγ = Σ dy ⊙ x, dβ = Σ dy, per channel.
    const { sumDy, sumDyX } = channelSums(dy, x, C);
    for (let c = 0; c < C; c++) {
      this.weight.grad.set(c, this.weight.grad.get(c) + sumDyX[c]!);
      this.bias?.grad.set(c, this.bias.grad.get(c) + sumDy[c]!);
    }
    return dx;
  }

  params(): Param[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }
}
