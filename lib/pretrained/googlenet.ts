// The original Caffe style-transfer tool's GoogLeNet (fzliu/style-transfer, style.py): its layer
// choices (GOOGLENET_WEIGHTS: content mostly from inception_3a, style spread evenly over five
// depths), its style-to-content ratio, and its input (caffe.io.Transformer: BGR, 0–255, minus the
// ILSVRC 2012 mean pixel), as data for nnzero-style and a GraphFeatureNet. Names are
// bvlc_googlenet's blob names; a GraphFeatureNet maps them to graph nodes through
// ImportedNet.tensors. Platform neutral: the files are read in googlenet-cli.ts.
import type { CaffeLayer } from '../style/formats/index.js';
import type { LayerWeight, NetworkDefaults, Preprocessing } from '../style/index.js';
import { layersUntil, type ImportedNet } from './caffe-import.js';
import { GraphFeatureNet } from './graph-feature-net.js';

/** Content layers and weights for style transfer on bvlc_googlenet. */
export const GOOGLENET_CONTENT_LAYERS: readonly LayerWeight[] = [
  { layer: 'conv2/3x3', weight: 2e-4 },
  { layer: 'inception_3a/output', weight: 1 - 2e-4 },
];

/** Style layers and weights for style transfer on bvlc_googlenet. */
export const GOOGLENET_STYLE_LAYERS: readonly LayerWeight[] = [
  { layer: 'conv1/7x7_s2', weight: 0.2 },
  { layer: 'conv2/3x3', weight: 0.2 },
  { layer: 'inception_3a/output', weight: 0.2 },
  { layer: 'inception_4a/output', weight: 0.2 },
  { layer: 'inception_5a/output', weight: 0.2 },
];

/**
 * β, the tool's default style-to-content ratio (`-r 1e4`): its losses are the paper's, ½ Σ (F − P)²
 * and Σ (G − A)² / (4N²M²), which chapter 5 calls normalize 'paper' with the Gram statistic.
 */
export const GOOGLENET_STYLE_WEIGHT = 1e4;

const spec = (layers: typeof GOOGLENET_STYLE_LAYERS): string =>
  layers.map(({ layer, weight }) => `${layer}:${weight}`).join(',');

/** The tool's loss: its layers and weights, β = 1e4, the paper's Gram loss, no TV term. */
export const GOOGLENET_DEFAULTS: NetworkDefaults = {
  contentLayers: spec(GOOGLENET_CONTENT_LAYERS),
  styleLayers: spec(GOOGLENET_STYLE_LAYERS),
  styleWeight: GOOGLENET_STYLE_WEIGHT,
  tvWeight: 0,
  statistic: 'gram',
  normalize: 'paper',
};

/** The layer DeepDream's notebook amplifies by default. */
export const GOOGLENET_DREAM_LAYER = 'inception_4c/output';

/**
 * bvlc_googlenet's input as the tool made it: BGR, 0–255, minus the mean pixel of Caffe's
 * ilsvrc_2012_mean.npy (its per-channel average, B 104.007, G 116.669, R 122.679).
 */
export const GOOGLENET_PREPROCESSING: Preprocessing = {
  name: 'caffe-googlenet',
  channelOrder: 'bgr',
  scale: 255,
  mean: [104.00698793, 116.66876762, 122.67891434],
  std: [1, 1, 1],
};

/**
 * The tool's layers under the value names of the ONNX model zoo's bvlc_googlenet (converted from
 * Caffe by onnx-caffe2): each value is named after the Caffe layer that wrote it plus `_1`, so a
 * blob after its in-place ReLU is that ReLU's output.
 */
export const GOOGLENET_ONNX_NAMES: ReadonlyMap<string, string> = new Map([
  ['conv1/7x7_s2', 'conv1/relu_7x7_1'],
  ['conv2/3x3', 'conv2/relu_3x3_1'],
  ['inception_3a/output', 'inception_3a/output_1'],
  ['inception_4a/output', 'inception_4a/output_1'],
  ['inception_5a/output', 'inception_5a/output_1'],
  [GOOGLENET_DREAM_LAYER, 'inception_4c/output_1'],
]);

/** An imported GoogLeNet (Caffe or ONNX) as a style-transfer feature network, frozen. */
export function googlenetFeatureNet(net: ImportedNet): GraphFeatureNet {
  return new GraphFeatureNet(net, GOOGLENET_PREPROCESSING, { aliases: GOOGLENET_ONNX_NAMES });
}

/** True when every layer the tool taps is in the network (by blob name or its ONNX alias). */
export function hasGooglenetLayers(net: { readonly layerNames: readonly string[] }): boolean {
  return [...GOOGLENET_CONTENT_LAYERS, ...GOOGLENET_STYLE_LAYERS].every(({ layer }) =>
    net.layerNames.includes(layer),
  );
}

/**
 * The blob to import up to: the tap written last in file order, when the layers it needs also
 * write every other tap (true of a chain and of GoogLeNet); otherwise the whole net (undefined).
 * Later layers, such as the classifier, are then never decoded.
 */
export function importUntil(
  layers: readonly CaffeLayer[],
  taps: readonly string[],
): string | undefined {
  let last: string | undefined;
  let at = -1;
  layers.forEach((layer, i) => {
    for (const t of taps) {
      if (layer.tops.includes(t) && i > at) {
        at = i;
        last = t;
      }
    }
  });
  if (last === undefined) return undefined;
  const written = new Set(layersUntil(layers, last).flatMap((l) => l.tops));
  return taps.every((t) => written.has(t)) ? last : undefined;
}
