// The layer choices of the original Caffe style-transfer tool for GoogLeNet (fzliu/style-transfer,
// style.py, GOOGLENET_WEIGHTS): content mostly from inception_3a, style spread evenly over five
// depths. Names are bvlc_googlenet's blob names; map them to graph nodes with ImportedNet.tensors.
import type { LayerWeight } from '../style/index.js';

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

/** The layer DeepDream's notebook amplifies by default. */
export const GOOGLENET_DREAM_LAYER = 'inception_4c/output';
