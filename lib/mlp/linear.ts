// The fully connected layer y = x Wᵀ + b (the tutorial's eq. "a = f(W·x)" for a whole batch),
// with its backward pass and seeded Xavier/He initialization. All three products (forward, dW,
// dx) are one call each to lib/core's GEMM on views (transposes cost nothing): the WebAssembly
// SIMD kernel for float32 layers, the plain TypeScript kernel for float64.
import {
  ShapeError,
  checkUpstream,
  dtypeOf,
  gemmWasm,
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

/** Weight initialization: Xavier/Glorot for sigmoid/tanh, He for ReLU. */
export type InitScheme = 'xavier' | 'he';

/** Weights for a Linear layer to adopt as its parameters: weight [out, in], bias [out]. */
export interface LinearWeights {
  readonly weight: Tensor;
  readonly bias: Tensor;
}

/** Options of a Linear layer: a seeded `rng` to draw the weights, or `weights` to adopt. */
export type LinearOptions = (
  | {
      /** Seeded generator for the initial weights. */
      rng: Rng;
      weights?: undefined;
    }
  | {
      rng?: undefined;
      /** Tensors that become the parameters as they are: no random draw, no copy (imported weights). */
      weights: LinearWeights;
    }
) & {
  /** Parameter prefix: params are `${name}.weight` and `${name}.bias` (default `fc`). */
  name?: string;
  /** Initialization scheme (default `he`). */
  init?: InitScheme;
  /** Element type of parameters and of the inputs it accepts (default `float64`, or that of `weights`). */
  dtype?: DType;
  /**
   * Compute dx in backward (default true). A first layer fed with data needs no dx; `false`
   * skips the product dy W (a third of the layer's work) and backward returns zeros.
   */
  inputGrad?: boolean;
};

/**
 * Fill a weight tensor [out, in] with seeded normal values of the scheme's variance:
 * Xavier/Glorot var = 2 / (in + out) keeps signal variance steady through sigmoid/tanh;
 * He var = 2 / in makes up for ReLU zeroing half of its inputs.
 */
export function initWeights(w: Tensor, scheme: InitScheme, rng: Rng): Tensor {
  const [fanOut, fanIn] = w.shape as [number, number];
  const std = scheme === 'xavier' ? Math.sqrt(2 / (fanIn + fanOut)) : Math.sqrt(2 / fanIn);
  return rng.fillNormal(w, 0, std);
}

/** Fully connected layer: input [N, in] → output [N, out]; weight [out, in], bias [out]. */
export class Linear implements Layer {
  readonly name: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Param;
  readonly bias: Param;
  readonly inputGrad: boolean;
  /** When true, backward skips ∂L/∂W and ∂L/∂b (weights fixed: style transfer, DeepDream). */
  frozen = false;
  #x: Tensor | undefined;
  // The output buffer is reused while the batch size stays the same (the steady state of a
  // training loop), so the y of the previous call is overwritten. dx is always fresh: the caller
  // may still hold the previous dx, and the layer below may keep it (STYLE.md C2.2).
  #y: Tensor | undefined;

  /** @param inFeatures width of the input; @param outFeatures width of the output */
  constructor(inFeatures: number, outFeatures: number, options: LinearOptions) {
    const { rng, weights, name = 'fc', init = 'he', inputGrad = true } = options;
    const dtype = options.dtype ?? (weights === undefined ? 'float64' : dtypeOf(weights.weight));
    this.name = name;
    this.inputGrad = inputGrad;
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    if (weights === undefined) {
      this.weight = makeParam(`${name}.weight`, [outFeatures, inFeatures], dtype);
      this.bias = makeParam(`${name}.bias`, [outFeatures], dtype);
      initWeights(this.weight.value, init, rng);
    } else {
      this.weight = this.#adopt('weight', weights.weight, [outFeatures, inFeatures], dtype);
      this.bias = this.#adopt('bias', weights.bias, [outFeatures], dtype);
    }
  }

  // A parameter whose value is the given tensor (checked against the shape the layer needs).
  #adopt(part: 'weight' | 'bias', value: Tensor, shape: number[], dtype: DType): Param {
    if (!sameShape(value.shape, shape)) {
      throw new ShapeError(`Linear(${this.name}) ${part} to adopt`, value.shape, shape);
    }
    if (dtypeOf(value) !== dtype) {
      throw new Error(
        `Linear(${this.name}): the ${part} to adopt is ${dtypeOf(value)}, not ${dtype}`,
      );
    }
    return paramOf(`${this.name}.${part}`, value);
  }

  /** y = x Wᵀ + b. @param x input [N, in] (any view) @returns y [N, out] */
  forward(x: Tensor): Tensor {
    if (x.shape.length !== 2 || x.shape[1] !== this.inFeatures) {
      throw new ShapeError(`Linear(${this.name}).forward input`, x.shape, [-1, this.inFeatures]);
    }
    const dtype = dtypeOf(this.weight.value);
    if (dtypeOf(x) !== dtype) {
      throw new Error(
        `Linear(${this.name}).forward: input is ${dtypeOf(x)} but the parameters are ${dtype}; ` +
          `convert with copy(x, '${dtype}')`,
      );
    }
    const N = x.shape[0]!;
    if (this.#y === undefined || this.#y.shape[0] !== N)
      this.#y = zeros([N, this.outFeatures], dtype);
    const y = this.#y;
    // Start every row from the bias, then accumulate x Wᵀ on top (β = 1).
    const b = this.bias.value.data;
    const out = this.outFeatures;
    for (let n = 0; n < N; n++) y.data.set(b.subarray(0, out), n * out);
    gemmWasm(y, x, this.weight.value.transpose(1, 0), 1, 1);
    this.#x = x;
    return y;
  }

  /**
   * Given dy = ∂L/∂y [N, out]: returns a fresh dx = dy W [N, in] and accumulates
   * ∂L/∂W += dyᵀ x [out, in] and ∂L/∂b += Σₙ dy [out] (sums over the batch, so the loss decides
   * whether the batch is averaged). A frozen layer leaves both gradients untouched.
   */
  backward(dy: Tensor): Tensor {
    const x = requireCache(this.#x, `Linear(${this.name})`);
    const N = x.shape[0]!;
    checkUpstream(dy, [N, this.outFeatures], `Linear(${this.name})`);
    if (!this.frozen) {
      gemmWasm(this.weight.grad, dy.transpose(1, 0), x, 1, 1);
      const db = this.bias.grad;
      for (let o = 0; o < this.outFeatures; o++) {
        let s = 0;
        for (let n = 0; n < N; n++) s += dy.get(n, o);
        db.set(o, db.get(o) + s);
      }
    }
    const dx = zeros([N, this.inFeatures], dtypeOf(x));
    return this.inputGrad ? gemmWasm(dx, dy, this.weight.value) : dx;
  }

  /** The weight then the bias. */
  params(): Param[] {
    return [this.weight, this.bias];
  }
}
