// VGG-19 (Simonyan & Zisserman 2015, configuration E) as a feature network: only the 16 conv
// layers with their ReLUs and the 4 poolings between blocks (the fully connected layers are never
// needed), and the mapping from the blobs of a Caffe model or a PyTorch state dict onto them.
import { FileFormatError, formatShape, tensor, type Tensor } from '../core/index.js';
import { SequentialFeatureNet, type NetLayer, type Pooling } from './feature-net.js';
import type { Preprocessing } from './image.js';

/** An array of weights as a file parser hands it over: row-major float32 values and a shape. */
export interface WeightBlob {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** The weights of one conv layer: w [F, C, 3, 3] and b [F]. */
export interface ConvWeights {
  readonly weight: WeightBlob;
  readonly bias: WeightBlob;
}

/** Output channels of VGG-19's conv layers, block by block (configuration E). */
export const VGG19_BLOCKS: readonly (readonly number[])[] = [
  [64, 64],
  [128, 128],
  [256, 256, 256, 256],
  [512, 512, 512, 512],
  [512, 512, 512, 512],
];

/** Names of VGG-19's conv layers in order: conv1_1, conv1_2, conv2_1, …, conv5_4. */
export function vgg19ConvNames(): string[] {
  return VGG19_BLOCKS.flatMap((block, b) => block.map((_, i) => `conv${b + 1}_${i + 1}`));
}

/** Options of `vgg19`. */
export interface Vgg19Options {
  /** 'avg' (the paper's choice for synthesis, default) or 'max' (as trained). */
  pooling?: Pooling;
  /** Build only up to this layer (e.g. `relu4_2`): the rest costs memory and is never run. */
  upTo?: string | undefined;
  /** The weights file, named in errors. */
  file?: string;
}

/**
 * VGG-19's conv part as a feature network, from conv weights by layer name (conv1_1 … conv5_4).
 * Layers are named conv1_1, relu1_1, conv1_2, relu1_2, pool1, conv2_1, … like the Caffe model.
 */
export function vgg19(
  convs: ReadonlyMap<string, ConvWeights>,
  preprocessing: Preprocessing,
  options: Vgg19Options = {},
): SequentialFeatureNet {
  const { pooling = 'avg', upTo, file = 'weights' } = options;
  const layers: NetLayer[] = [];
  let C = 3;
  let done = false;
  VGG19_BLOCKS.forEach((block, b) => {
    if (done) return;
    // pool1 … pool4 sit between the blocks; the net ends at block 5 (pool5 feeds only fc6).
    if (b > 0) {
      layers.push({ kind: 'pool', name: `pool${b}`, mode: pooling, kernel: 2, stride: 2 });
      if (upTo === `pool${b}`) {
        done = true;
        return;
      }
    }
    block.forEach((F, i) => {
      if (done) return;
      const name = `conv${b + 1}_${i + 1}`;
      const w = convs.get(name);
      if (w === undefined) {
        throw new FileFormatError(
          file,
          `no weights for VGG-19 layer ${name} (found: ${[...convs.keys()].join(', ') || 'none'})`,
        );
      }
      const weight = checked(w.weight, [F, C, 3, 3], `${name} weight`, file);
      const bias = checked(w.bias, [F], `${name} bias`, file);
      layers.push({ kind: 'conv', name, weight, bias, pad: 1 });
      if (upTo === name) {
        done = true;
        return;
      }
      layers.push({ kind: 'relu', name: `relu${b + 1}_${i + 1}` });
      if (upTo === `relu${b + 1}_${i + 1}`) done = true;
      C = F;
    });
  });
  if (upTo !== undefined && !done) throw new Error(`vgg19: no layer named '${upTo}'`);
  return new SequentialFeatureNet(layers, preprocessing);
}

// A blob as a tensor of the expected shape; leading 1s (old Caffe biases are [1, 1, 1, F]) are fine.
function checked(blob: WeightBlob, shape: readonly number[], what: string, file: string): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const squeezed = blob.shape.filter((d, i) => !(d === 1 && i < blob.shape.length - shape.length));
  if (blob.data.length !== size || squeezed.join() !== shape.join()) {
    throw new FileFormatError(
      file,
      `${what} has shape ${formatShape(blob.shape)}, VGG-19 needs ${formatShape(shape)} — is this a VGG-19 file?`,
    );
  }
  return tensor(blob.data, shape);
}

/**
 * The conv weights of a Caffe VGG_ILSVRC_19 model: layers conv1_1 … conv5_4, each with blobs
 * [weight, bias]. Other layers are ignored.
 */
export function vgg19ConvsFromCaffe(
  layers: readonly { readonly name: string; readonly blobs: readonly WeightBlob[] }[],
  file = 'caffemodel',
): Map<string, ConvWeights> {
  const wanted = new Set(vgg19ConvNames());
  const out = new Map<string, ConvWeights>();
  for (const layer of layers) {
    if (!wanted.has(layer.name)) continue;
    const [weight, bias] = layer.blobs;
    if (weight === undefined || bias === undefined) {
      throw new FileFormatError(
        file,
        `layer ${layer.name} has ${layer.blobs.length} blobs, expected weight and bias`,
      );
    }
    out.set(layer.name, { weight, bias });
  }
  return out;
}

// torchvision's vgg19().features indices of the conv layers, in order.
const TORCH_CONV_INDICES = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34];

/**
 * The conv weights of a PyTorch VGG-19 state dict: torchvision's `features.<i>.weight/bias`
 * (i = 0, 2, 5, …, 34), or keys named after the layers (`conv1_1.weight`), optionally prefixed.
 */
export function vgg19ConvsFromStateDict(
  tensors: ReadonlyMap<string, WeightBlob>,
  file = 'state dict',
): Map<string, ConvWeights> {
  const names = vgg19ConvNames();
  const find = (suffix: string): WeightBlob | undefined => {
    for (const [key, t] of tensors) if (key === suffix || key.endsWith(`.${suffix}`)) return t;
    return undefined;
  };
  const out = new Map<string, ConvWeights>();
  names.forEach((name, k) => {
    for (const base of [`features.${TORCH_CONV_INDICES[k]}`, name]) {
      const weight = find(`${base}.weight`);
      const bias = find(`${base}.bias`);
      if (weight !== undefined && bias !== undefined) {
        out.set(name, { weight, bias });
        return;
      }
    }
  });
  if (out.size === 0) {
    const some = [...tensors.keys()].slice(0, 5).join(', ');
    throw new FileFormatError(
      file,
      `no VGG-19 conv weights found (expected features.0.weight …; file has ${some || 'no tensors'})`,
    );
  }
  return out;
}
