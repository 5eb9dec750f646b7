// nnzero/style in a browser page: index.ts without its Node-only edges (weights.ts reads weight
// files, cli.ts is the command line). The site's Vite config substitutes this file for index.ts.
export {
  type FeatureLoss,
  type ImageLoss,
  type LossNormalization,
  type StyleStatistic,
  type StyleTarget,
  type StyleTargetOptions,
  gram,
  contentLoss,
  contentTargetNorm,
  styleTarget,
  blendStyleTargets,
  styleLoss,
  totalVariation,
} from './losses.js';
export {
  type Objective,
  type IterationInfo,
  type IterationCallback,
  type OptimizeResult,
  type Minimizer,
  type LBFGSOptions,
  LBFGS,
} from './lbfgs.js';
export { type AdamOptions, Adam } from './adam.js';
export {
  type Preprocessing,
  type InitKind,
  fitLongestSide,
  resizeImage,
  resizeLongestSide,
  RANDOM_PREPROCESSING,
  CAFFE_VGG_PREPROCESSING,
  TORCH_VGG_PREPROCESSING,
  preprocess,
  preprocessBackward,
  clip01,
  originalColors,
  initialImage,
  blendedStyleImage,
} from './image.js';
export {
  type FeatureNet,
  type LayerWeight,
  type StyleImage,
  type StyleLossOptions,
  type LossParts,
  type TransferOptions,
  type TransferResult,
  StyleTransferLoss,
  styleTransfer,
  optimizeImage,
} from './transfer.js';
export {
  type NetLayer,
  type NetCost,
  type Pooling,
  type RandomVggOptions,
  SequentialFeatureNet,
  randomVgg,
} from './feature-net.js';
export {
  type WeightBlob,
  type ConvWeights,
  type Vgg19Options,
  VGG19_BLOCKS,
  vgg19ConvNames,
  vgg19,
  vgg19ConvsFromCaffe,
  vgg19ConvsFromStateDict,
} from './vgg.js';
