// nnzero/cnn: chapter 4, convolutional networks. Kernels (naive and fast twins with one
// signature), their geometry, and the layers built on them.
export {
  type Pair,
  type Padding,
  type ConvOptions,
  type ConvGeometry,
  type PoolOptions,
  type PoolGeometry,
  convGeometry,
  poolGeometry,
} from './geometry.js';
export {
  conv2dNaiveForward,
  conv2dNaiveBackwardInput,
  conv2dNaiveBackwardWeights,
} from './conv2d-naive.js';
export {
  type ConvGemm,
  type ConvAlgorithm,
  conv2dForward,
  conv2dBackwardInput,
  conv2dBackwardWeights,
  setConvGemm,
  setConvAlgorithm,
} from './conv2d.js';
export {
  conv2dWinogradForward,
  conv2dWinogradBackwardInput,
  winogradEligible,
  F2x2,
  F4x4,
  type WinogradScheme,
} from './winograd.js';
export { im2col, col2im } from './im2col.js';
export { reluForwardResident, reluBackwardResident, addIntoResident } from './elementwise-wasm.js';
export {
  maxPool2dForward,
  maxPool2dBackward,
  maxPool2dNaiveForward,
  maxPool2dNaiveBackward,
  avgPool2dForward,
  avgPool2dBackward,
  avgPool2dNaiveForward,
  avgPool2dNaiveBackward,
  globalAvgPool2dForward,
  globalAvgPool2dBackward,
} from './pool.js';
export { Conv2d, type Conv2dOptions, type Conv2dWeights } from './conv-layer.js';
export { MaxPool2d, AvgPool2d, GlobalAvgPool2d, type PoolLayerOptions } from './pool-layers.js';
export { Flatten } from './flatten.js';
export { Sequential, type TapForwardOptions, type TapBackwardOptions } from './sequential.js';
export { randomShift, type Augmentation } from './augment.js';
export {
  Trainer,
  type TrainerOptions,
  type EpochReport,
  type LabelledSet,
  type ScheduledOptimizer,
} from './trainer.js';
// Chapter 3's ReLU works on any shape (NCHW included); the CNN uses it as is.
export { ReLU } from '../mlp/index.js';
