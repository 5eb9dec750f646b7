// Feature networks for style transfer, run on lib/cnn's kernels with frozen weights: a network is
// a list of named conv / ReLU / pool layers; forward keeps each layer's output, and backward walks
// the layers in reverse from the deepest tap, adding each tap's loss gradient where it was read,
// and computes input gradients only (conv2dBackwardInput, never conv2dBackwardWeights).
import {
  conv2dBackwardInput,
  conv2dForward,
  convGeometry,
  maxPool2dBackward,
  maxPool2dForward,
  avgPool2dBackward,
  avgPool2dForward,
  poolGeometry,
  reluBackwardResident,
  reluForwardResident,
  addIntoResident,
  type ConvGeometry,
  type PoolGeometry,
} from '../cnn/index.js';
import {
  Rng,
  ShapeError,
  contiguous,
  copy,
  dtypeOf,
  bufferZeros,
  residentZeros,
  reuseTensor,
  zeros,
  type DType,
  type FloatArray,
  type Tensor,
} from '../core/index.js';
import { RANDOM_PREPROCESSING, type Preprocessing } from './image.js';
import type { FeatureNet } from './transfer.js';

/** One layer of a feature network: a 2-D convolution (stride 1), a ReLU, or a 2×2-style pooling. */
export type NetLayer =
  | {
      readonly kind: 'conv';
      readonly name: string;
      /** [F, C, kH, kW] */
      readonly weight: Tensor;
      /** [F] or null */
      readonly bias: Tensor | null;
      readonly pad: number;
    }
  | { readonly kind: 'relu'; readonly name: string }
  | {
      readonly kind: 'pool';
      readonly name: string;
      readonly mode: 'max' | 'avg';
      readonly kernel: number;
      readonly stride: number;
    };

// A conv layer with float32 weights gets its own copy of them in the kernel's memory
// (residentZeros), where the conv kernels read them in place; other layers, other weights, and
// weights the kernel's memory cannot hold stay as they are. The weights are frozen, so one copy
// serves every call: staged call by call, they were copied in twice per evaluation (forward and
// backward-to-input), 103 MB for VGG-19 to relu5_1, serially on the calling thread.
function inKernelMemory(layer: NetLayer): NetLayer {
  if (layer.kind !== 'conv' || dtypeOf(layer.weight) !== 'float32') return layer;
  const weight = residentZeros(layer.weight.shape);
  if (weight === null) return layer;
  weight.data.set(copy(layer.weight, 'float32').data);
  return { ...layer, weight };
}

/** Pooling of a feature network: the paper prefers average pooling, the random net max. */
export type Pooling = 'max' | 'avg';

interface Cached {
  readonly layer: NetLayer;
  readonly input: Tensor;
  readonly output: Tensor;
  readonly geom?: ConvGeometry | PoolGeometry;
  readonly argmax?: Int32Array;
}

/** The size of a forward pass (see `SequentialFeatureNet.cost`). */
export interface NetCost {
  /** Multiply-adds of the convolutions. */
  readonly macs: number;
  /** Activation values kept for backward. */
  readonly activations: number;
  /** [channels, positions] of every layer run, by name. */
  readonly tapSizes: ReadonlyMap<string, [number, number]>;
}

/** A feature network over lib/cnn's kernels (weights frozen; see `FeatureNet`). */
export class SequentialFeatureNet implements FeatureNet {
  /** The layers as run: float32 conv weights are this network's copies in kernel memory. */
  readonly layers: readonly NetLayer[];
  readonly preprocessing: Preprocessing;
  readonly layerNames: readonly string[];
  #cache: Cached[] = [];
  // Every activation, gradient and argmax buffer, by role and layer index, kept between calls:
  // an iteration of style transfer runs the same shapes again, so after the first one forward
  // and backward allocate no tensors (the kernels overwrite their outputs).
  readonly #buffers = new Map<string, Tensor>();

  // Activations and gradients are kept from call to call; float32 ones live in the kernel's
  // memory (kernelZeros), where the conv, ReLU and sum kernels work on them without copies.
  #buffer(key: string, shape: readonly number[], dtype: DType): Tensor {
    return reuseTensor(this.#buffers, key, shape, dtype, bufferZeros);
  }
  readonly #argmaxes = new Map<number, Int32Array>();

  /**
   * @param layers in order; names must be unique (float32 conv weights are copied, see
   * inKernelMemory); @param preprocessing what the weights expect
   */
  constructor(layers: readonly NetLayer[], preprocessing: Preprocessing) {
    const names = layers.map((l) => l.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) throw new Error(`SequentialFeatureNet: layer name '${dup}' used twice`);
    this.layers = layers.map(inKernelMemory);
    this.preprocessing = preprocessing;
    this.layerNames = names;
  }

  /**
   * Run x [1, 3, H, W] through the layers up to the deepest of `taps`; returns the taps' outputs.
   * They live in buffers this network reuses: valid until the next `forward` (copy to keep).
   */
  forward(x: Tensor, taps: readonly string[]): Map<string, Tensor> {
    const last = Math.max(...taps.map((t) => this.#index(t)));
    this.#checkSize(x.shape[2]!, x.shape[3]!, last);
    const dtype = dtypeOf(x);
    this.#cache = [];
    let h = x;
    for (let i = 0; i <= last; i++) {
      const layer = this.layers[i]!;
      if (layer.kind === 'conv') {
        const geom = convGeometry(h.shape, layer.weight.shape, { pad: layer.pad });
        const y = this.#buffer(`y${i}`, [geom.N, geom.F, geom.outH, geom.outW], dtype);
        conv2dForward(y, h, layer.weight, layer.bias, geom);
        this.#cache.push({ layer, input: h, output: y, geom });
        h = y;
      } else if (layer.kind === 'relu') {
        const y = this.#buffer(`y${i}`, h.shape, dtype);
        if (!reluForwardResident(y.data, h.data)) reluForward(y.data, h.data);
        this.#cache.push({ layer, input: h, output: y });
        h = y;
      } else {
        const geom = poolGeometry(h.shape, { kernel: layer.kernel, stride: layer.stride });
        const y = this.#buffer(`y${i}`, [geom.N, geom.C, geom.outH, geom.outW], dtype);
        if (layer.mode === 'max') {
          let argmax = this.#argmaxes.get(i);
          if (argmax?.length !== y.size) this.#argmaxes.set(i, (argmax = new Int32Array(y.size)));
          maxPool2dForward(y, argmax, h, geom);
          this.#cache.push({ layer, input: h, output: y, geom, argmax });
        } else {
          avgPool2dForward(y, h, geom);
          this.#cache.push({ layer, input: h, output: y, geom });
        }
        h = y;
      }
    }
    return new Map(taps.map((t) => [t, this.#cache[this.#index(t)]!.output]));
  }

  /**
   * dL/dx from the gradients at the taps of the last forward (weights get no gradient). The
   * result lives in a buffer this network reuses: valid until the next `backward`.
   */
  backward(tapGradients: ReadonlyMap<string, Tensor>): Tensor {
    if (this.#cache.length === 0)
      throw new Error('SequentialFeatureNet.backward called before forward');
    for (const name of tapGradients.keys()) {
      if (this.#index(name) >= this.#cache.length) {
        throw new Error(
          `SequentialFeatureNet.backward: '${name}' was not computed by the last forward`,
        );
      }
    }
    let dy: Tensor | null = null;
    for (let i = this.#cache.length - 1; i >= 0; i--) {
      const { layer, input, output, geom, argmax } = this.#cache[i]!;
      // A tap's gradient joins the chain at the layer it was read from: dy ← dy + dTap.
      const dTap = tapGradients.get(layer.name);
      if (dTap !== undefined) {
        if (dTap.shape.join() !== output.shape.join()) {
          throw new ShapeError(`tap gradient '${layer.name}'`, dTap.shape, output.shape);
        }
        if (dy === null) {
          dy = this.#buffer(`t${i}`, dTap.shape, dtypeOf(dTap));
          dy.data.set(contiguous(dTap).data.subarray(0, dTap.size));
        } else {
          const t = contiguous(dTap).data;
          if (!addIntoResident(dy.data, t)) addInto(dy.data, t);
        }
      }
      if (dy === null) continue; // nothing flows back from above this layer yet
      const dx: Tensor = this.#buffer(`dx${i}`, input.shape, dtypeOf(dy));
      if (layer.kind === 'conv') {
        conv2dBackwardInput(dx, dy, layer.weight, geom as ConvGeometry);
      } else if (layer.kind === 'relu') {
        if (!reluBackwardResident(dx.data, dy.data, output.data)) {
          reluBackward(dx.data, dy.data, output.data);
        }
      } else if (layer.mode === 'max') {
        maxPool2dBackward(dx, dy, argmax!, geom as PoolGeometry);
      } else {
        avgPool2dBackward(dx, dy, geom as PoolGeometry);
      }
      dy = dx;
    }
    if (dy === null) throw new Error('SequentialFeatureNet.backward: no tap gradients given');
    return dy;
  }

  /** Multiply-adds of one forward pass on an [H, W] input up to the deepest of `taps`, the
   * activation values it keeps, and each tap's [C, H·W] size (for the Gram products). */
  cost(H: number, W: number, taps: readonly string[]): NetCost {
    const last = Math.max(...taps.map((t) => this.#index(t)));
    let C = 3;
    let macs = 0;
    let activations = 0;
    const tapSizes = new Map<string, [number, number]>();
    for (let i = 0; i <= last; i++) {
      const layer = this.layers[i]!;
      if (layer.kind === 'conv') {
        const [F, , kH, kW] = layer.weight.shape as [number, number, number, number];
        H = H + 2 * layer.pad - kH + 1;
        W = W + 2 * layer.pad - kW + 1;
        macs += F * C * kH * kW * H * W;
        C = F;
      } else if (layer.kind === 'pool') {
        H = Math.floor((H - layer.kernel) / layer.stride) + 1;
        W = Math.floor((W - layer.kernel) / layer.stride) + 1;
      }
      activations += C * H * W;
      tapSizes.set(layer.name, [C, H * W]);
    }
    return { macs, activations, tapSizes };
  }

  // Each pooling halves the image: say which layer runs out of pixels, before any work is done.
  #checkSize(H: number, W: number, last: number): void {
    let h = H;
    let w = W;
    for (let i = 0; i <= last; i++) {
      const layer = this.layers[i]!;
      if (layer.kind !== 'pool') continue;
      if (h < layer.kernel || w < layer.kernel) {
        throw new Error(
          `an input of ${H}×${W} px is too small for layer ${this.layers[last]!.name}: ` +
            `${layer.name} would get ${h}×${w} (use a larger size or shallower layers)`,
        );
      }
      h = Math.floor((h - layer.kernel) / layer.stride) + 1;
      w = Math.floor((w - layer.kernel) / layer.stride) + 1;
    }
  }

  #index(name: string): number {
    const i = this.layerNames.indexOf(name);
    if (i < 0)
      throw new Error(`unknown layer '${name}'; this network has: ${this.layerNames.join(', ')}`);
    return i;
  }
}

// The element-wise loops live in small functions of their own: V8 optimizes each once and keeps
// it, where the same loops written inline in forward/backward were deoptimized and recompiled
// each time another layer kind showed up.

// Both ReLU loops are written without a branch: the sign of a conv output is a coin flip, so
// `x > 0 ? x : 0` mispredicts half the time and ran 2–4× slower (measured on conv1's output).

// y = max(0, x) = (x + |x|) / 2, element-wise (exact: doubling and halving are exact).
function reluForward(y: FloatArray, x: FloatArray): void {
  for (let k = 0; k < y.length; k++) {
    const v = x[k]!;
    y[k] = (v + Math.abs(v)) * 0.5;
  }
}

// ReLU passes the gradient where its output is positive (subgradient 0 at 0): dy times the
// 0/1 mask [y > 0].
function reluBackward(dx: FloatArray, dy: FloatArray, y: FloatArray): void {
  for (let k = 0; k < dx.length; k++) dx[k] = dy[k]! * +(y[k]! > 0);
}

// d ← d + t: a tap's gradient joining the chain.
function addInto(d: FloatArray, t: FloatArray): void {
  for (let k = 0; k < d.length; k++) d[k] += t[k]!;
}

/** Options of the random VGG-like network. */
export interface RandomVggOptions {
  /** Seed of the weights (default 0). */
  seed?: number;
  /** Output channels of the five 3×3 convs (default 32, 64, 128, 256, 256). */
  widths?: readonly number[];
  /** Pooling between blocks (default 'max', the experiment's most robust choice). */
  pooling?: Pooling;
  /** Element type of the weights (default float32). */
  dtype?: 'float32' | 'float64';
}

/**
 * A VGG-like network with seeded random weights (no download): per block a 3×3 conv (pad 1, no
 * bias, Kaiming normal N(0, 2/(9·C_in)), drawn in layer order) and a ReLU, with 2×2 pooling
 * between blocks. Layers are named conv1, relu1, pool1, …, conv5, relu5.
 */
export function randomVgg(options: RandomVggOptions = {}): SequentialFeatureNet {
  const {
    seed = 0,
    widths = [32, 64, 128, 256, 256],
    pooling = 'max',
    dtype = 'float32',
  } = options;
  const rng = new Rng(seed);
  const layers: NetLayer[] = [];
  let C = 3;
  widths.forEach((F, b) => {
    const k = b + 1;
    if (b > 0) layers.push({ kind: 'pool', name: `pool${b}`, mode: pooling, kernel: 2, stride: 2 });
    const weight = rng.fillNormal(zeros([F, C, 3, 3], dtype), 0, Math.sqrt(2 / (9 * C)));
    layers.push({ kind: 'conv', name: `conv${k}`, weight, bias: null, pad: 1 });
    layers.push({ kind: 'relu', name: `relu${k}` });
    C = F;
  });
  return new SequentialFeatureNet(layers, RANDOM_PREPROCESSING);
}
