// The convolution layer: parameters (weight [F, C, kH, kW], bias [F]) around the fast kernels of
// conv2d.ts. forward keeps x and its geometry; backward returns dx fresh and adds into the
// parameter gradients, unless the layer is frozen (style transfer), when it skips them entirely.
import {
  checkUpstream,
  dtypeOf,
  makeParam,
  requireCache,
  zeros,
  type DType,
  type Layer,
  type Param,
  type Rng,
  type Tensor,
} from '../core/index.js';
import { conv2dBackwardInput, conv2dBackwardWeights, conv2dForward } from './conv2d.js';
import { convGeometry, type ConvGeometry, type ConvOptions, type Pair } from './geometry.js';

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
  /** Element type of the parameters and of the output (default float64). */
  dtype?: DType;
  /**
   * Compute dx in backward (default true). A first layer fed with data needs no dx: `false`
   * skips conv2dBackwardInput and backward returns zeros (as chapter 3's Linear does).
   */
  inputGrad?: boolean;
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
  readonly weight: Param;
  readonly bias: Param | null;
  readonly options: Readonly<ConvOptions>;
  readonly inputGrad: boolean;
  #x: Tensor | undefined;
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
      dtype = 'float64',
      inputGrad = true,
      ...geometry
    } = options;
    this.inputGrad = inputGrad;
    const [kH, kW] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    this.name = name;
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.options = Object.freeze({ ...geometry });
    this.weight = makeParam(`${name}.weight`, [outChannels, inChannels, kH, kW], dtype);
    this.bias = bias ? makeParam(`${name}.bias`, [outChannels], dtype) : null;
    if (rng !== undefined) {
      // He: var = 2 / fanIn (ReLU zeroes half the signal); Xavier: var = 2 / (fanIn + fanOut).
      const fanIn = inChannels * kH * kW;
      const fanOut = outChannels * kH * kW;
      const std = init === 'he' ? Math.sqrt(2 / fanIn) : Math.sqrt(2 / (fanIn + fanOut));
      rng.fillNormal(this.weight.value, 0, std);
    }
  }

  /** y = conv(x, w) + b. @param x [N, C, H, W] (any view, either dtype) @returns y [N, F, outH, outW] */
  forward(x: Tensor): Tensor {
    const geom = this.#geometryFor(x.shape);
    const y = zeros([geom.N, geom.F, geom.outH, geom.outW], dtypeOf(this.weight.value));
    conv2dForward(y, x, this.weight.value, this.bias?.value ?? null, geom);
    this.#x = x;
    return y;
  }

  /**
   * Given dy [N, F, outH, outW]: returns a fresh dx [N, C, H, W] and, unless frozen, adds
   * ∂L/∂w and ∂L/∂b into the parameter gradients.
   */
  backward(dy: Tensor): Tensor {
    const x = requireCache(this.#x, `Conv2d(${this.name})`);
    const geom = this.#geom!;
    checkUpstream(dy, [geom.N, geom.F, geom.outH, geom.outW], `Conv2d(${this.name})`);
    const dx = zeros(x.shape, dtypeOf(x));
    if (this.inputGrad) conv2dBackwardInput(dx, dy, this.weight.value, geom);
    if (!this.frozen) {
      conv2dBackwardWeights(this.weight.grad, this.bias?.grad ?? null, dy, x, geom);
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
    if (
      g === undefined ||
      g.N !== shape[0] ||
      g.C !== shape[1] ||
      g.H !== shape[2] ||
      g.W !== shape[3] ||
      shape.length !== 4
    ) {
      this.#geom = convGeometry(shape, this.weight.value.shape, this.options);
    }
    return this.#geom!;
  }
}
