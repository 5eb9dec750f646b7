// Caffe layer parameters: the caffe.proto schemas of the parameter messages that matter for
// building nets, and one mapping from a decoded message (binary or text) to typed records with
// caffe.proto's defaults applied. Shared by caffe.ts (.caffemodel) and prototxt.ts (.prototxt),
// so both readers agree by construction. Field numbers: BVLC caffe src/caffe/proto/caffe.proto.

import { FormatError } from './protobuf.js';
import type { FieldValue, Fields, MessageSchema } from './protobuf.js';

/** Convolution (and Deconvolution) settings, 2-D, with Caffe's per-axis resolution applied. */
export interface ConvolutionParams {
  readonly numOutput: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly group: number;
  readonly biasTerm: boolean;
}

/**
 * Pooling settings. Caffe rounds the output size up (roundMode 'CEIL', the default):
 * out = ceil((in + 2·pad − kernel) / stride) + 1, then drops a last window that starts in the
 * padding. With globalPooling the kernel is the whole input and kernelH/kernelW are 0 here.
 */
export interface PoolingParams {
  readonly pool: 'MAX' | 'AVE' | 'STOCHASTIC';
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly globalPooling: boolean;
  readonly roundMode: 'CEIL' | 'FLOOR';
}

/** Local response normalization: x / (k + alpha/n · Σ x²)^beta over `localSize` neighbours. */
export interface LRNParams {
  readonly localSize: number;
  readonly alpha: number;
  readonly beta: number;
  readonly k: number;
  readonly normRegion: 'ACROSS_CHANNELS' | 'WITHIN_CHANNEL';
}

/** Fully connected ("InnerProduct") settings; weights are [numOutput, inputs] unless transpose. */
export interface InnerProductParams {
  readonly numOutput: number;
  readonly biasTerm: boolean;
  readonly axis: number;
  readonly transpose: boolean;
}

/** Dropout probability (Caffe scales at train time, so inference is the identity). */
export interface DropoutParams {
  readonly ratio: number;
}

/** Concatenation axis (1 = channels). */
export interface ConcatParams {
  readonly axis: number;
}

/** Batch normalization settings; the blobs hold mean, variance and a scale factor. */
export interface BatchNormParams {
  readonly useGlobalStats: boolean | null;
  readonly movingAverageFraction: number;
  readonly eps: number;
}

/** Per-channel scale (and optional bias) settings. */
export interface ScaleParams {
  readonly axis: number;
  readonly numAxes: number;
  readonly biasTerm: boolean;
}

/** Element-wise combination of the bottoms. */
export interface EltwiseParams {
  readonly operation: 'PROD' | 'SUM' | 'MAX';
  readonly coeff: number[];
}

/** ReLU settings (a non-zero slope makes it leaky). */
export interface ReLUParams {
  readonly negativeSlope: number;
}

/** Softmax axis. */
export interface SoftmaxParams {
  readonly axis: number;
}

/** Shapes declared by an Input layer, one per top (or one for all). */
export interface InputParams {
  readonly shapes: number[][];
}

/** The parameter records of one layer; only the ones its definition carries are present. */
export interface CaffeLayerParams {
  convolution?: ConvolutionParams;
  pooling?: PoolingParams;
  lrn?: LRNParams;
  innerProduct?: InnerProductParams;
  dropout?: DropoutParams;
  concat?: ConcatParams;
  batchNorm?: BatchNormParams;
  scale?: ScaleParams;
  eltwise?: EltwiseParams;
  relu?: ReLUParams;
  softmax?: SoftmaxParams;
  input?: InputParams;
}

/** BlobShape { repeated int64 dim = 1 [packed] }. */
export const BLOB_SHAPE_SCHEMA: MessageSchema = { 1: { name: 'dim', kind: 'int64' } };

const CONVOLUTION_SCHEMA: MessageSchema = {
  1: { name: 'num_output', kind: 'uint32' },
  2: { name: 'bias_term', kind: 'bool' },
  3: { name: 'pad', kind: 'uint32' },
  4: { name: 'kernel_size', kind: 'uint32' },
  5: { name: 'group', kind: 'uint32' },
  6: { name: 'stride', kind: 'uint32' },
  9: { name: 'pad_h', kind: 'uint32' },
  10: { name: 'pad_w', kind: 'uint32' },
  11: { name: 'kernel_h', kind: 'uint32' },
  12: { name: 'kernel_w', kind: 'uint32' },
  13: { name: 'stride_h', kind: 'uint32' },
  14: { name: 'stride_w', kind: 'uint32' },
  18: { name: 'dilation', kind: 'uint32' },
};

const POOLING_SCHEMA: MessageSchema = {
  1: { name: 'pool', kind: { enum: { 0: 'MAX', 1: 'AVE', 2: 'STOCHASTIC' } } },
  2: { name: 'kernel_size', kind: 'uint32' },
  3: { name: 'stride', kind: 'uint32' },
  4: { name: 'pad', kind: 'uint32' },
  5: { name: 'kernel_h', kind: 'uint32' },
  6: { name: 'kernel_w', kind: 'uint32' },
  7: { name: 'stride_h', kind: 'uint32' },
  8: { name: 'stride_w', kind: 'uint32' },
  9: { name: 'pad_h', kind: 'uint32' },
  10: { name: 'pad_w', kind: 'uint32' },
  12: { name: 'global_pooling', kind: 'bool' },
  13: { name: 'round_mode', kind: { enum: { 0: 'CEIL', 1: 'FLOOR' } } },
};

const LRN_SCHEMA: MessageSchema = {
  1: { name: 'local_size', kind: 'uint32' },
  2: { name: 'alpha', kind: 'float' },
  3: { name: 'beta', kind: 'float' },
  4: { name: 'norm_region', kind: { enum: { 0: 'ACROSS_CHANNELS', 1: 'WITHIN_CHANNEL' } } },
  5: { name: 'k', kind: 'float' },
};

const INNER_PRODUCT_SCHEMA: MessageSchema = {
  1: { name: 'num_output', kind: 'uint32' },
  2: { name: 'bias_term', kind: 'bool' },
  5: { name: 'axis', kind: 'int32' },
  6: { name: 'transpose', kind: 'bool' },
};

const DROPOUT_SCHEMA: MessageSchema = { 1: { name: 'dropout_ratio', kind: 'float' } };

const CONCAT_SCHEMA: MessageSchema = {
  1: { name: 'concat_dim', kind: 'uint32' },
  2: { name: 'axis', kind: 'int32' },
};

const BATCH_NORM_SCHEMA: MessageSchema = {
  1: { name: 'use_global_stats', kind: 'bool' },
  2: { name: 'moving_average_fraction', kind: 'float' },
  3: { name: 'eps', kind: 'float' },
};

const SCALE_SCHEMA: MessageSchema = {
  1: { name: 'axis', kind: 'int32' },
  2: { name: 'num_axes', kind: 'int32' },
  4: { name: 'bias_term', kind: 'bool' },
};

const ELTWISE_SCHEMA: MessageSchema = {
  1: { name: 'operation', kind: { enum: { 0: 'PROD', 1: 'SUM', 2: 'MAX' } } },
  2: { name: 'coeff', kind: 'float' },
};

const RELU_SCHEMA: MessageSchema = { 1: { name: 'negative_slope', kind: 'float' } };

const SOFTMAX_SCHEMA: MessageSchema = { 2: { name: 'axis', kind: 'int32' } };

const INPUT_SCHEMA: MessageSchema = {
  1: { name: 'shape', kind: { message: BLOB_SHAPE_SCHEMA } },
};

/** Parameter-message fields of LayerParameter (V2, `layer`), by field number. */
export const V2_PARAM_FIELDS: Readonly<Record<number, FieldSpecOf>> = {
  104: { name: 'concat_param', kind: { message: CONCAT_SCHEMA } },
  106: { name: 'convolution_param', kind: { message: CONVOLUTION_SCHEMA } },
  108: { name: 'dropout_param', kind: { message: DROPOUT_SCHEMA } },
  110: { name: 'eltwise_param', kind: { message: ELTWISE_SCHEMA } },
  117: { name: 'inner_product_param', kind: { message: INNER_PRODUCT_SCHEMA } },
  118: { name: 'lrn_param', kind: { message: LRN_SCHEMA } },
  121: { name: 'pooling_param', kind: { message: POOLING_SCHEMA } },
  123: { name: 'relu_param', kind: { message: RELU_SCHEMA } },
  125: { name: 'softmax_param', kind: { message: SOFTMAX_SCHEMA } },
  139: { name: 'batch_norm_param', kind: { message: BATCH_NORM_SCHEMA } },
  142: { name: 'scale_param', kind: { message: SCALE_SCHEMA } },
  143: { name: 'input_param', kind: { message: INPUT_SCHEMA } },
};

/** Parameter-message fields of V1LayerParameter (`layers`), by field number. */
export const V1_PARAM_FIELDS: Readonly<Record<number, FieldSpecOf>> = {
  9: { name: 'concat_param', kind: { message: CONCAT_SCHEMA } },
  10: { name: 'convolution_param', kind: { message: CONVOLUTION_SCHEMA } },
  12: { name: 'dropout_param', kind: { message: DROPOUT_SCHEMA } },
  17: { name: 'inner_product_param', kind: { message: INNER_PRODUCT_SCHEMA } },
  18: { name: 'lrn_param', kind: { message: LRN_SCHEMA } },
  19: { name: 'pooling_param', kind: { message: POOLING_SCHEMA } },
  24: { name: 'eltwise_param', kind: { message: ELTWISE_SCHEMA } },
  30: { name: 'relu_param', kind: { message: RELU_SCHEMA } },
  39: { name: 'softmax_param', kind: { message: SOFTMAX_SCHEMA } },
};

/** A field spec whose kind is a nested message (the parameter messages above). */
export interface FieldSpecOf {
  readonly name: string;
  readonly kind: { readonly message: MessageSchema };
}

/**
 * V1LayerParameter.LayerType enum number → the V2 type string Caffe's own upgrade
 * (upgrade_proto.cpp, UpgradeV1LayerType) gives it, so both formats share one vocabulary.
 */
export const V1_LAYER_TYPES: Readonly<Record<number, readonly [string, string]>> = {
  0: ['NONE', ''],
  1: ['ACCURACY', 'Accuracy'],
  2: ['BNLL', 'BNLL'],
  3: ['CONCAT', 'Concat'],
  4: ['CONVOLUTION', 'Convolution'],
  5: ['DATA', 'Data'],
  6: ['DROPOUT', 'Dropout'],
  7: ['EUCLIDEAN_LOSS', 'EuclideanLoss'],
  8: ['FLATTEN', 'Flatten'],
  9: ['HDF5_DATA', 'HDF5Data'],
  10: ['HDF5_OUTPUT', 'HDF5Output'],
  11: ['IM2COL', 'Im2col'],
  12: ['IMAGE_DATA', 'ImageData'],
  13: ['INFOGAIN_LOSS', 'InfogainLoss'],
  14: ['INNER_PRODUCT', 'InnerProduct'],
  15: ['LRN', 'LRN'],
  16: ['MULTINOMIAL_LOGISTIC_LOSS', 'MultinomialLogisticLoss'],
  17: ['POOLING', 'Pooling'],
  18: ['RELU', 'ReLU'],
  19: ['SIGMOID', 'Sigmoid'],
  20: ['SOFTMAX', 'Softmax'],
  21: ['SOFTMAX_LOSS', 'SoftmaxWithLoss'],
  22: ['SPLIT', 'Split'],
  23: ['TANH', 'TanH'],
  24: ['WINDOW_DATA', 'WindowData'],
  25: ['ELTWISE', 'Eltwise'],
  26: ['POWER', 'Power'],
  27: ['SIGMOID_CROSS_ENTROPY_LOSS', 'SigmoidCrossEntropyLoss'],
  28: ['HINGE_LOSS', 'HingeLoss'],
  29: ['MEMORY_DATA', 'MemoryData'],
  30: ['ARGMAX', 'ArgMax'],
  31: ['THRESHOLD', 'Threshold'],
  32: ['DUMMY_DATA', 'DummyData'],
  33: ['SLICE', 'Slice'],
  34: ['MVN', 'MVN'],
  35: ['ABSVAL', 'AbsVal'],
  36: ['SILENCE', 'Silence'],
  37: ['CONTRASTIVE_LOSS', 'ContrastiveLoss'],
  38: ['EXP', 'Exp'],
  39: ['DECONVOLUTION', 'Deconvolution'],
};

/** Maps a V1 enum (number, or its name as written in an old prototxt) to the V2 type string. */
export function v1LayerType(value: number | string): string | undefined {
  if (typeof value === 'number') return V1_LAYER_TYPES[value]?.[1];
  for (const [name, v2] of Object.values(V1_LAYER_TYPES)) if (name === value) return v2;
  return undefined;
}

/** Where a parameter came from, for error messages. */
interface Where {
  readonly file: string;
  readonly layer: string;
}

function values(f: Fields, name: string): FieldValue[] {
  return f.get(name) ?? [];
}

function has(f: Fields, name: string): boolean {
  return values(f, name).length > 0;
}

function asNumber(v: FieldValue, name: string, at: Where): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new FormatError(at.file, `layer "${at.layer}": ${name} should be a number, got ${show(v)}`);
}

function show(v: FieldValue): string {
  return typeof v === 'object' ? '{ ... }' : JSON.stringify(v);
}

function numbers(f: Fields, name: string, at: Where): number[] {
  return values(f, name).map((v) => asNumber(v, name, at));
}

/** A singular proto2 field: the last occurrence wins, as in protobuf's merge semantics. */
function last(f: Fields, name: string): FieldValue | undefined {
  const list = values(f, name);
  return list[list.length - 1];
}

function num(f: Fields, name: string, fallback: number, at: Where): number {
  const v = last(f, name);
  return v === undefined ? fallback : asNumber(v, name, at);
}

/**
 * A `float` field of caffe.proto: rounded to float32, so a value read from text ("1e-4") equals
 * the one Caffe stores in a .caffemodel (and Caffe itself computes with).
 */
function float(f: Fields, name: string, fallback: number, at: Where): number {
  return Math.fround(num(f, name, fallback, at));
}

function flag(f: Fields, name: string, fallback: boolean, at: Where): boolean {
  const v = last(f, name);
  if (v === undefined) return fallback;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (v === 'true' || v === 'false') return v === 'true';
  throw new FormatError(
    at.file,
    `layer "${at.layer}": ${name} should be true or false, got ${show(v)}`,
  );
}

function choice<T extends string>(
  f: Fields,
  name: string,
  names: readonly T[],
  fallback: T,
  at: Where,
): T {
  const v = last(f, name);
  if (v === undefined) return fallback;
  const picked = typeof v === 'number' ? names[v] : names.find((n) => n === v);
  if (picked === undefined) {
    throw new FormatError(
      at.file,
      `layer "${at.layer}": ${name} should be one of ${names.join(', ')}, got ${show(v)}`,
    );
  }
  return picked;
}

/**
 * Resolves a 2-D size the way Caffe's layers do: explicit `<base>_h`/`<base>_w` win, otherwise
 * the repeated `<base>` gives one value for both axes or [h, w], otherwise the fallback.
 */
function pair(f: Fields, base: string, fallback: number, at: Where): [number, number] {
  if (has(f, `${base}_h`) || has(f, `${base}_w`)) {
    return [num(f, `${base}_h`, fallback, at), num(f, `${base}_w`, fallback, at)];
  }
  const list = numbers(f, base, at);
  if (list.length === 0) return [fallback, fallback];
  if (list.length === 1) return [list[0] as number, list[0] as number];
  if (list.length === 2) return [list[0] as number, list[1] as number];
  throw new FormatError(
    at.file,
    `layer "${at.layer}": ${base} has ${list.length} values; nnzero reads 2-D layers (1 or 2 values)`,
  );
}

/** Kernel size: kernel_h/kernel_w when given, otherwise the repeated kernel_size. */
function kernelPair(f: Fields, at: Where): [number, number] {
  if (has(f, 'kernel_h') || has(f, 'kernel_w')) return pair(f, 'kernel', 0, at);
  return pair(f, 'kernel_size', 0, at);
}

function convolution(f: Fields, at: Where): ConvolutionParams {
  const [kernelH, kernelW] = kernelPair(f, at);
  const [strideH, strideW] = pair(f, 'stride', 1, at);
  const [padH, padW] = pair(f, 'pad', 0, at);
  const [dilationH, dilationW] = pair(f, 'dilation', 1, at);
  return {
    numOutput: num(f, 'num_output', 0, at),
    kernelH,
    kernelW,
    strideH,
    strideW,
    padH,
    padW,
    dilationH,
    dilationW,
    group: num(f, 'group', 1, at),
    biasTerm: flag(f, 'bias_term', true, at),
  };
}

function pooling(f: Fields, at: Where): PoolingParams {
  const globalPooling = flag(f, 'global_pooling', false, at);
  const kernel = kernelPair(f, at);
  const [strideH, strideW] = pair(f, 'stride', 1, at);
  const [padH, padW] = pair(f, 'pad', 0, at);
  return {
    pool: choice(f, 'pool', ['MAX', 'AVE', 'STOCHASTIC'], 'MAX', at),
    kernelH: globalPooling ? 0 : kernel[0],
    kernelW: globalPooling ? 0 : kernel[1],
    strideH,
    strideW,
    padH,
    padW,
    globalPooling,
    roundMode: choice(f, 'round_mode', ['CEIL', 'FLOOR'], 'CEIL', at),
  };
}

function blobShape(v: FieldValue, at: Where): number[] {
  if (typeof v !== 'object') {
    throw new FormatError(
      at.file,
      `layer "${at.layer}": shape should be a message, got ${show(v)}`,
    );
  }
  return numbers(v, 'dim', at);
}

/**
 * Builds the typed parameter records of one layer from its decoded fields (binary or text).
 * @param fields the layer's fields; every `<kind>_param` key holds that message's occurrences
 * @param type the layer's V2 type, which decides the parameter messages filled with defaults
 * @param file file name for errors, @param layer layer name for errors
 */
export function layerParams(
  fields: Fields,
  type: string,
  file: string,
  layer: string,
): CaffeLayerParams {
  const at: Where = { file, layer };
  const get = (key: string): Fields | undefined =>
    mergeMessages(fields.get(key) ?? []) ?? (DEFAULT_PARAMS[type] === key ? new Map() : undefined);
  const out: CaffeLayerParams = {};
  let f = get('convolution_param');
  if (f) out.convolution = convolution(f, at);
  f = get('pooling_param');
  if (f) out.pooling = pooling(f, at);
  f = get('lrn_param');
  if (f) {
    out.lrn = {
      localSize: num(f, 'local_size', 5, at),
      alpha: float(f, 'alpha', 1, at),
      beta: float(f, 'beta', 0.75, at),
      k: float(f, 'k', 1, at),
      normRegion: choice(
        f,
        'norm_region',
        ['ACROSS_CHANNELS', 'WITHIN_CHANNEL'],
        'ACROSS_CHANNELS',
        at,
      ),
    };
  }
  f = get('inner_product_param');
  if (f) {
    out.innerProduct = {
      numOutput: num(f, 'num_output', 0, at),
      biasTerm: flag(f, 'bias_term', true, at),
      axis: num(f, 'axis', 1, at),
      transpose: flag(f, 'transpose', false, at),
    };
  }
  f = get('dropout_param');
  if (f) out.dropout = { ratio: float(f, 'dropout_ratio', 0.5, at) };
  f = get('concat_param');
  if (f)
    out.concat = { axis: has(f, 'axis') ? num(f, 'axis', 1, at) : num(f, 'concat_dim', 1, at) };
  f = get('batch_norm_param');
  if (f) {
    out.batchNorm = {
      useGlobalStats: has(f, 'use_global_stats') ? flag(f, 'use_global_stats', false, at) : null,
      movingAverageFraction: float(f, 'moving_average_fraction', 0.999, at),
      eps: float(f, 'eps', 1e-5, at),
    };
  }
  f = get('scale_param');
  if (f) {
    out.scale = {
      axis: num(f, 'axis', 1, at),
      numAxes: num(f, 'num_axes', 1, at),
      biasTerm: flag(f, 'bias_term', false, at),
    };
  }
  f = get('eltwise_param');
  if (f) {
    out.eltwise = {
      operation: choice(f, 'operation', ['PROD', 'SUM', 'MAX'], 'SUM', at),
      coeff: numbers(f, 'coeff', at).map(Math.fround),
    };
  }
  f = get('relu_param');
  if (f) out.relu = { negativeSlope: float(f, 'negative_slope', 0, at) };
  f = get('softmax_param');
  if (f) out.softmax = { axis: num(f, 'axis', 1, at) };
  f = get('input_param');
  if (f) out.input = { shapes: values(f, 'shape').map((v) => blobShape(v, at)) };
  return out;
}

/**
 * Layer types whose parameter message Caffe always fills with defaults, so a layer that omits it
 * (e.g. `type: "ReLU"` with no relu_param) still gets a record.
 */
const DEFAULT_PARAMS: Readonly<Record<string, string>> = {
  Convolution: 'convolution_param',
  Deconvolution: 'convolution_param',
  Pooling: 'pooling_param',
  LRN: 'lrn_param',
  InnerProduct: 'inner_product_param',
  Dropout: 'dropout_param',
  Concat: 'concat_param',
  BatchNorm: 'batch_norm_param',
  Scale: 'scale_param',
  Eltwise: 'eltwise_param',
  ReLU: 'relu_param',
  Softmax: 'softmax_param',
  Input: 'input_param',
};

/** Merges repeated occurrences of a message field into one, as protobuf does for singular fields. */
function mergeMessages(list: readonly FieldValue[]): Fields | undefined {
  let merged: Fields | undefined;
  for (const v of list) {
    if (typeof v !== 'object') continue;
    merged ??= new Map();
    for (const [k, vs] of v) merged.set(k, [...(merged.get(k) ?? []), ...vs]);
  }
  return merged;
}
