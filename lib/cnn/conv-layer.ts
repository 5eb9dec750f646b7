// The convolution layer: parameters (weight [F, C/groups, kH, kW], bias [F]) around the kernels
// of conv2d.ts. forward keeps x and its geometry; backward returns dx fresh and adds into the
// parameter gradients, unless the layer is frozen (style transfer), when it skips them entirely.
// A grouped convolution (AlexNet's two halves, a depthwise conv) runs the same kernels once per
// group on channel-slice views: no copies, since the kernels honour any strides and offset.
import {
  ShapeError,
  checkUpstream,
  dtypeOf,
  formatShape,
  makeParam,
  paramOf,
  requireCache,
  sameShape,
  zeros,
  type DType,
  type Layer,
  type Param,
  type Rng,
  type Tensor,
} from '../core/index.js';
import { conv2dBackwardInput, conv2dBackwardWeights, conv2dForward } from './conv2d.js';
import {
  conv2dNaiveBackwardInput,
  conv2dNaiveBackwardWeights,
  conv2dNaiveForward,
} from './conv2d-naive.js';
import { convGeometry, type ConvGeometry, type ConvOptions, type Pair } from './geometry.js';

/** Weights for a Conv2d to adopt as its parameters: weight [F, C/groups, kH, kW], bias [F]. */
export interface Conv2dWeights {
  readonly weight: Tensor;
  readonly bias?: Tensor;
}

/** Options of a Conv2d layer (geometry options plus naming, bias, initialization, dtype). */
export interface Conv2dOptions extends ConvOptions {
  /** Parameter prefix: params are `${name}.weight` and `${name}.bias` (default `conv`). */
  name?: string;
  /** Learn a bias per output channel (default true). */
  bias?: boolean;
  /** Seeded generator for the initial weights; without it the weights start at zero (to be loaded). */
  rng?: Rng;
  /** He (default, for ReLU nets) or Xavier/Glorot initialization. */
  init?: 'he' | 'xavier';
  /** Element type of the parameters and of the output (default float64, or that of `weights`). */
  dtype?: DType;
  /**
   * Compute dx in backward (default true). A first layer fed with data needs no dx: `false`
   * skips conv2dBackwardInput and backward returns zeros (as chapter 3's Linear does).
   */
  inputGrad?: boolean;
  /**
   * Split the channels into this many independent convolutions (default 1): group g reads input
   * channels [g·C/groups, (g+1)·C/groups) and writes output channels [g·F/groups, (g+1)·F/groups)
   * with its own F/groups filters, so the weight is [F, C/groups, kH, kW] (Caffe's and ONNX's
   * `group`). AlexNet uses 2; a depthwise convolution uses groups = C.
   */
  groups?: number;
  /**
   * Adopt these tensors as the parameters instead of allocating them: no random draw and no copy
   * (imported weights). Without `weights.bias`, a `bias` layer starts with a zero bias.
   */
  weights?: Conv2dWeights;
  /** Run chapter 4's fast kernels (im2col + GEMM, the default) or the naive references. */
  kernels?: 'fast' | 'naive';
}

/** The three kernels a Conv2d calls; the fast and naive sets share one signature. */
interface ConvKernels {
  readonly forward: typeof conv2dForward;
  readonly backwardInput: typeof conv2dBackwardInput;
  readonly backwardWeights: typeof conv2dBackwardWeights;
}

const KERNELS: Readonly<Record<'fast' | 'naive', ConvKernels>> = {
  fast: {
    forward: conv2dForward,
    backwardInput: conv2dBackwardInput,
    backwardWeights: conv2dBackwardWeights,
  },
  naive: {
    forward: conv2dNaiveForward,
    backwardInput: conv2dNaiveBackwardInput,
    backwardWeights: conv2dNaiveBackwardWeights,
  },
};

// Block g of `size` entries along `axis`: a view on the same memory (offset moved, shape cut).
function block(t: Tensor, axis: number, g: number, size: number): Tensor {
  const lo = t.shape.map((_, a) => (a === axis ? g * size : 0));
  const hi = t.shape.map((d, a) => (a === axis ? size : d));
  return t.lo(...lo).hi(...hi) as Tensor;
}

/**
 * 2-D convolution layer: x [N, C, H, W] → y [N, F, outH, outW], with
 * outH = ⌊(H + padTop + padBottom − dilationH·(kH − 1) − 1) / strideH⌋ + 1.
 * @example new Conv2d(1, 20, 5, { name: 'conv1', rng, dtype: 'float32' })
 */
export class Conv2d implements Layer {
  readonly name: string;
  /** When true, backward returns dx only and leaves the parameter gradients untouched. */
  frozen = false;
  readonly inChannels: number;
  readonly outChannels: number;
  /** Number of channel groups (1: an ordinary convolution). */
  readonly groups: number;
  readonly weight: Param;
  readonly bias: Param | null;
  readonly options: Readonly<ConvOptions>;
  readonly inputGrad: boolean;
  readonly #kernels: ConvKernels;
  #x: Tensor | undefined;
  // The geometry of one group: C/groups input and F/groups output channels.
  #geom: ConvGeometry | undefined;

  /** @param inChannels C; @param outChannels F; @param kernelSize k or [kH, kW] */
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: Pair,
    options: Conv2dOptions = {},
  ) {
    const {
      name = 'conv',
      bias = true,
      rng,
      init = 'he',
      inputGrad = true,
      groups = 1,
      weights,
      kernels = 'fast',
      dtype = weights === undefined ? 'float64' : dtypeOf(weights.weight),
      ...geometry
    } = options;
    this.inputGrad = inputGrad;
    const [kH, kW] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    this.name = name;
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    if (!Number.isInteger(groups) || groups < 1) {
      throw new RangeError(`Conv2d(${name}): groups must be an integer ≥ 1, got ${groups}`);
    }
    for (const [what, n] of [
      ['input', inChannels],
      ['output', outChannels],
    ] as const) {
      if (n % groups !== 0) {
        throw new RangeError(
          `Conv2d(${name}): ${n} ${what} channels do not split into ${groups} equal groups`,
        );
      }
    }
    this.groups = groups;
    this.#kernels = KERNELS[kernels];
    this.options = Object.freeze({ ...geometry });
    const wShape = [outChannels, inChannels / groups, kH, kW];
    this.weight =
      weights === undefined
        ? makeParam(`${name}.weight`, wShape, dtype)
        : this.#adopt('weight', weights.weight, wShape, dtype);
    if (!bias && weights?.bias !== undefined) {
      throw new Error(`Conv2d(${name}): weights.bias given to a layer without a bias`);
    }
    this.bias = !bias
      ? null
      : weights?.bias === undefined
        ? makeParam(`${name}.bias`, [outChannels], dtype)
        : this.#adopt('bias', weights.bias, [outChannels], dtype);
    if (rng !== undefined && weights === undefined) {
      // He: var = 2 / fanIn (ReLU zeroes half the signal); Xavier: var = 2 / (fanIn + fanOut).
      // Each output sees only its group's C/groups input channels.
      const fanIn = (inChannels / groups) * kH * kW;
      const fanOut = (outChannels / groups) * kH * kW;
      const std = init === 'he' ? Math.sqrt(2 / fanIn) : Math.sqrt(2 / (fanIn + fanOut));
      rng.fillNormal(this.weight.value, 0, std);
    }
  }

  // A parameter whose value is the given tensor (checked against the shape the layer needs).
  #adopt(part: 'weight' | 'bias', value: Tensor, shape: number[], dtype: DType): Param {
    if (!sameShape(value.shape, shape)) {
      throw new ShapeError(`Conv2d(${this.name}) ${part} to adopt`, value.shape, shape);
    }
    if (dtypeOf(value) !== dtype) {
      throw new Error(
        `Conv2d(${this.name}): the ${part} to adopt is ${dtypeOf(value)}, not ${dtype}`,
      );
    }
    return paramOf(`${this.name}.${part}`, value);
  }

  /** y = conv(x, w) + b. @param x [N, C, H, W] (any view, either dtype) @returns y [N, F, outH, outW] */
  forward(x: Tensor): Tensor {
    const geom = this.#geometryFor(x.shape);
    const y = zeros([geom.N, this.outChannels, geom.outH, geom.outW], dtypeOf(this.weight.value));
    const { C, F } = geom;
    const w = this.weight.value;
    const b = this.bias?.value ?? null;
    for (let g = 0; g < this.groups; g++) {
      const bg = b === null ? null : block(b, 0, g, F);
      this.#kernels.forward(block(y, 1, g, F), block(x, 1, g, C), block(w, 0, g, F), bg, geom);
    }
    this.#x = x;
    return y;
  }

  /**
   * Given dy [N, F, outH, outW]: returns a fresh dx [N, C, H, W] and, unless frozen, adds
   * ∂L/∂w and ∂L/∂b into the parameter gradients. Groups share nothing, so each group's part of
   * dx, dw and db comes from its own slices alone.
   */
  backward(dy: Tensor): Tensor {
    const x = requireCache(this.#x, `Conv2d(${this.name})`);
    const geom = this.#geom!;
    const { C, F } = geom;
    checkUpstream(dy, [geom.N, this.outChannels, geom.outH, geom.outW], `Conv2d(${this.name})`);
    const dx = zeros(x.shape, dtypeOf(x));
    const w = this.weight.value;
    // Read the gradients only when they are wanted: a frozen layer's are never allocated.
    const db = this.frozen ? null : (this.bias?.grad ?? null);
    for (let g = 0; g < this.groups; g++) {
      const dyg = block(dy, 1, g, F);
      if (this.inputGrad) {
        this.#kernels.backwardInput(block(dx, 1, g, C), dyg, block(w, 0, g, F), geom);
      }
      if (!this.frozen) {
        const dbg = db === null ? null : block(db, 0, g, F);
        const dwg = block(this.weight.grad, 0, g, F);
        this.#kernels.backwardWeights(dwg, dbg, dyg, block(x, 1, g, C), geom);
      }
    }
    return dx;
  }

  /** The weight, then the bias (if any). */
  params(): Param[] {
    return this.bias === null ? [this.weight] : [this.weight, this.bias];
  }

  // The geometry depends only on the input shape: recompute it only when that changes.
  #geometryFor(shape: readonly number[]): ConvGeometry {
    const g = this.#geom;
    const G = this.groups;
    if (
      g === undefined ||
      g.N !== shape[0] ||
      g.C * G !== shape[1] ||
      g.H !== shape[2] ||
      g.W !== shape[3] ||
      shape.length !== 4
    ) {
      if (G > 1 && shape.length === 4 && shape[1] !== this.inChannels) {
        throw new ShapeError(
          `Conv2d(${this.name}) input x [N, C, H, W]`,
          shape,
          [shape[0]!, this.inChannels, shape[2]!, shape[3]!],
          `weights ${formatShape(this.weight.value.shape)} in ${G} groups expect ${this.inChannels} channels`,
        );
      }
      const [N, C, H, W] = shape as [number, number, number, number];
      const [F, Cg, kH, kW] = this.weight.value.shape as [number, number, number, number];
      this.#geom =
        G === 1
          ? convGeometry(shape, this.weight.value.shape, this.options)
          : convGeometry([N, C / G, H, W], [F / G, Cg, kH, kW], this.options);
    }
    return this.#geom!;
  }
}
