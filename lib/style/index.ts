// nnzero/style: Gatys neural style transfer on nnzero's own kernels — the losses with their
// hand-written gradients, optimizers on the image, feature networks, the image pipeline and the CLI.
export {
  type FeatureLoss,
  type ImageLoss,
  type LossNormalization,
  type StyleStatistic,
  type StyleTarget,
  type StyleTargetOptions,
  gram,
  contentLoss,
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
