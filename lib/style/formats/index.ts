// The format layer of lib/style: readers (and small writers) for the weight files people already
// have — Caffe .caffemodel + deploy.prototxt, .safetensors, ONNX — into plain typed records.
// parse* functions are platform-neutral over Uint8Array/string; read*/write* (files.ts) use node:fs.

export { FormatError, FloatList, ProtoReader, ProtoWriter, WireType } from './protobuf.js';
export { decodeFields, float32View, float64ToFloat32 } from './protobuf.js';
export type {
  ByteSource,
  FieldSpec,
  FieldValue,
  Fields,
  MessageSchema,
  ScalarKind,
} from './protobuf.js';
export {
  bfloat16ToFloat32,
  float16ToFloat32,
  floatToBfloat16,
  floatToHalf,
  halfToFloat,
} from './float16.js';
export { V1_LAYER_TYPES, v1LayerType } from './caffe-params.js';
export type {
  BatchNormParams,
  CaffeLayerParams,
  ConcatParams,
  ConvolutionParams,
  DropoutParams,
  EltwiseParams,
  InnerProductParams,
  InputParams,
  LRNParams,
  PoolingParams,
  ReLUParams,
  ScaleParams,
  SoftmaxParams,
} from './caffe-params.js';
export { blobWithShape, compactCaffeNet, mergeCaffeWeights, parseCaffeModel } from './caffe.js';
export type { CaffeBlob, CaffeInput, CaffeLayer, CaffeNet, CaffeReadOptions } from './caffe.js';
export { TextFormatError, caffeNetFromText, parsePrototxt, parseTextFormat } from './prototxt.js';
export { encodeSafetensors, parseSafetensors } from './safetensors.js';
export type {
  SafeTensor,
  SafetensorsFile,
  SafetensorsFloatDtype,
  SafetensorsInput,
  SafetensorsReadOptions,
} from './safetensors.js';
export { encodeOnnxModel, parseOnnxModel } from './onnx.js';
export type {
  OnnxAttribute,
  OnnxGraph,
  OnnxModel,
  OnnxNode,
  OnnxOpset,
  OnnxReadOptions,
  OnnxTensor,
  OnnxValueInfo,
  OnnxWriteOptions,
} from './onnx.js';
export {
  readCaffeModel,
  readOnnxModel,
  readPrototxt,
  readSafetensors,
  withByteSource,
  writeSafetensors,
} from './files.js';
