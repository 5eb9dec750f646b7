// nnzero/pretrained: the layers real pretrained networks need beyond chapter 4 (LRN, Concat,
// Dropout, batch normalization, Caffe's Scale, element-wise sum), the Graph container that joins
// them into inception and residual blocks, the Caffe and ONNX importers, DeepDream, open_nsfw and
// GoogLeNet for style transfer. index.browser.ts is this list without the Node-only file readers
// (files.ts, googlenet-cli.ts, listed last); cli.ts (the commands) is not exported.
export {
  type LrnOptions,
  type LrnLayerOptions,
  lrnWindow,
  lrnForward,
  lrnBackward,
  lrnNaiveForward,
  lrnNaiveBackward,
  LRN,
} from './lrn.js';
export { type MergeLayer, checkMergeGradients } from './merge.js';
export { sliceAxis, concatShape, Concat } from './concat.js';
export { EltwiseSum } from './eltwise.js';
export { type Mode, type DropoutOptions, Dropout } from './dropout.js';
export { channelAffine, channelSums } from './channel.js';
export {
  type BatchNormOptions,
  type ChannelScaleOptions,
  BatchNorm2d,
  ChannelScale,
  setCaffeBatchNormStats,
} from './batch-norm.js';
export {
  type LayerNode,
  type MergeNode,
  type GraphNode,
  type GraphOptions,
  type GraphRun,
  type GraphRow,
  type GraphBackwardOptions,
  nodeInputs,
  topologicalOrder,
  Graph,
} from './graph.js';
export { Softmax } from './softmax.js';
export { FlattenFrom, Reshape } from './reshape.js';
export { type ConvSpec, type PoolSpec, type LayerKit } from './kit.js';
export {
  type CaffeImportOptions,
  type ImportedNet,
  ImportError,
  loadBlob,
  caffeToGraph,
  layersUntil,
  importCaffe,
  parameterCount,
} from './caffe-import.js';
export { type Pads, samePadding, Pad2d } from './pad.js';
export { AddConstant } from './add-constant.js';
export {
  type OnnxImportOptions,
  ONNX_OPERATORS,
  onnxToGraph,
  importOnnx,
  nodesUntil,
} from './onnx-import.js';
export {
  type TappableNet,
  type DreamOptions,
  roll2d,
  resizeBilinear,
  octaveSizes,
  dreamStep,
  dream,
  caffePreprocess,
  caffeDeprocess,
  caffeClip,
} from './dream.js';
export { NSFW_MEAN, resizePillowBilinear, nsfwPreprocess, nsfwScore } from './nsfw.js';
export { cnnKit } from './cnn-kit.js';
export { type CaffeLayerWeights, encodeCaffeModel } from './caffe-writer.js';
export { type GraphFeatureNetOptions, GraphFeatureNet } from './graph-feature-net.js';
export {
  GOOGLENET_CONTENT_LAYERS,
  GOOGLENET_STYLE_LAYERS,
  GOOGLENET_STYLE_WEIGHT,
  GOOGLENET_DREAM_LAYER,
  GOOGLENET_PREPROCESSING,
  GOOGLENET_ONNX_NAMES,
  GOOGLENET_DEFAULTS,
  googlenetFeatureNet,
  hasGooglenetLayers,
  importUntil,
} from './googlenet.js';
// Node only: read weight files from paths.
export { loadCaffe, loadOnnx } from './files.js';
export { loadCaffeForTaps, loadGooglenet, googlenetNetwork } from './googlenet-cli.js';
