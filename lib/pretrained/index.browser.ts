// nnzero/pretrained in a browser page: index.ts without its Node-only edges (files.ts and
// googlenet-cli.ts read weight files from paths). A page fetches the files and hands the bytes to
// importCaffe / importOnnx. The site's Vite plugin substitutes this file for index.ts.
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
