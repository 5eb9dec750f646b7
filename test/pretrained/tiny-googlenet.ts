// A tiny network with bvlc_googlenet's shape and names, for tests: the stem (conv1/7x7_s2, pool,
// LRN, conv2/3x3_reduce, conv2/3x3, LRN, pool), inception blocks 3a, 4a and 5a (four branches
// joined by Concat, ceil-mode pools between), then global average pooling and a classifier. One
// list of layers is written both as a Caffe deploy.prototxt + .caffemodel (Caffe's names) and as
// an .onnx file named the way the ONNX model zoo's converted GoogLeNet is (`<layer>_1`).
import { Rng } from '../../lib/core/index.js';
import { encodeCaffeModel, type CaffeLayerWeights } from '../../lib/pretrained/index.js';
import { encodeOnnxModel } from '../../lib/style/formats/index.js';
import type {
  OnnxAttribute,
  OnnxModel,
  OnnxNode,
  OnnxTensor,
} from '../../lib/style/formats/index.js';

type Spec =
  | {
      kind: 'conv';
      name: string;
      bottom: string;
      F: number;
      C: number;
      k: number;
      stride?: number;
      pad?: number;
    }
  | { kind: 'relu'; name: string; blob: string }
  | { kind: 'pool'; name: string; bottom: string; k: number; stride: number; pad?: number }
  | { kind: 'lrn'; name: string; bottom: string }
  | { kind: 'concat'; name: string; bottoms: string[] }
  | { kind: 'gap'; name: string; bottom: string }
  | { kind: 'fc'; name: string; bottom: string; F: number; C: number }
  | { kind: 'softmax'; name: string; bottom: string };

/** Channels of each inception block's output (2 + 3 + 2 + 2). */
export const INCEPTION_WIDTH = 9;

/** The smallest input side the stem and the four ceil-mode pools leave ≥ 1 px at inception_5a. */
export const TINY_GOOGLENET_MIN_SIDE = 48;

function inception(name: string, bottom: string, C: number): Spec[] {
  const p = (s: string): string => `${name}/${s}`;
  const conv = (n: string, from: string, F: number, c: number, k: number): Spec[] => [
    { kind: 'conv', name: p(n), bottom: from, F, C: c, k, pad: (k - 1) / 2 },
    { kind: 'relu', name: p(`relu_${n}`), blob: p(n) },
  ];
  return [
    ...conv('1x1', bottom, 2, C, 1),
    ...conv('3x3_reduce', bottom, 2, C, 1),
    ...conv('3x3', p('3x3_reduce'), 3, 2, 3),
    ...conv('5x5_reduce', bottom, 1, C, 1),
    ...conv('5x5', p('5x5_reduce'), 2, 1, 5),
    { kind: 'pool', name: p('pool'), bottom, k: 3, stride: 1, pad: 1 },
    ...conv('pool_proj', p('pool'), 2, C, 1),
    { kind: 'concat', name: p('output'), bottoms: [p('1x1'), p('3x3'), p('5x5'), p('pool_proj')] },
  ];
}

const SPECS: Spec[] = [
  { kind: 'conv', name: 'conv1/7x7_s2', bottom: 'data', F: 4, C: 3, k: 7, stride: 2, pad: 3 },
  { kind: 'relu', name: 'conv1/relu_7x7', blob: 'conv1/7x7_s2' },
  { kind: 'pool', name: 'pool1/3x3_s2', bottom: 'conv1/7x7_s2', k: 3, stride: 2 },
  { kind: 'lrn', name: 'pool1/norm1', bottom: 'pool1/3x3_s2' },
  { kind: 'conv', name: 'conv2/3x3_reduce', bottom: 'pool1/norm1', F: 4, C: 4, k: 1 },
  { kind: 'relu', name: 'conv2/relu_3x3_reduce', blob: 'conv2/3x3_reduce' },
  { kind: 'conv', name: 'conv2/3x3', bottom: 'conv2/3x3_reduce', F: 6, C: 4, k: 3, pad: 1 },
  { kind: 'relu', name: 'conv2/relu_3x3', blob: 'conv2/3x3' },
  { kind: 'lrn', name: 'conv2/norm2', bottom: 'conv2/3x3' },
  { kind: 'pool', name: 'pool2/3x3_s2', bottom: 'conv2/norm2', k: 3, stride: 2 },
  ...inception('inception_3a', 'pool2/3x3_s2', 6),
  { kind: 'pool', name: 'pool3/3x3_s2', bottom: 'inception_3a/output', k: 3, stride: 2 },
  ...inception('inception_4a', 'pool3/3x3_s2', INCEPTION_WIDTH),
  { kind: 'pool', name: 'pool4/3x3_s2', bottom: 'inception_4a/output', k: 3, stride: 2 },
  ...inception('inception_5a', 'pool4/3x3_s2', INCEPTION_WIDTH),
  { kind: 'gap', name: 'pool5/7x7_s1', bottom: 'inception_5a/output' },
  { kind: 'fc', name: 'loss3/classifier', bottom: 'pool5/7x7_s1', F: 5, C: INCEPTION_WIDTH },
  { kind: 'softmax', name: 'prob', bottom: 'loss3/classifier' },
];

const LRN = { size: 5, alpha: 1e-4, beta: 0.75 };

/** Seeded weights per parameterized layer: [weight, bias] (He-style normal, small bias). */
export function tinyGooglenetWeights(seed: number): Map<string, [Float32Array, Float32Array]> {
  const rng = new Rng(seed);
  const weights = new Map<string, [Float32Array, Float32Array]>();
  for (const s of SPECS) {
    if (s.kind !== 'conv' && s.kind !== 'fc') continue;
    const fanIn = s.kind === 'conv' ? s.C * s.k * s.k : s.C;
    const n = s.kind === 'conv' ? s.F * fanIn : s.F * s.C;
    const std = Math.sqrt(2 / fanIn);
    weights.set(s.name, [
      Float32Array.from({ length: n }, () => rng.normal(0, std)),
      Float32Array.from({ length: s.F }, () => rng.normal(0.05, 0.02)),
    ]);
  }
  return weights;
}

/** The Caffe deploy.prototxt of the tiny GoogLeNet (V2 `layer` records, in-place ReLUs). */
export function tinyGooglenetPrototxt(side = 224): string {
  const lines = [
    'name: "tiny_googlenet"',
    'input: "data"',
    `input_dim: 1 input_dim: 3 input_dim: ${side} input_dim: ${side}`,
  ];
  const layer = (name: string, type: string, bottoms: string[], top: string, param = ''): void => {
    const b = bottoms.map((x) => `bottom: "${x}"`).join(' ');
    lines.push(`layer { name: "${name}" type: "${type}" ${b} top: "${top}" ${param} }`);
  };
  for (const s of SPECS) {
    switch (s.kind) {
      case 'conv':
        layer(
          s.name,
          'Convolution',
          [s.bottom],
          s.name,
          `convolution_param { num_output: ${s.F} kernel_size: ${s.k} stride: ${s.stride ?? 1} pad: ${s.pad ?? 0} }`,
        );
        break;
      case 'relu':
        layer(s.name, 'ReLU', [s.blob], s.blob);
        break;
      case 'pool':
        layer(
          s.name,
          'Pooling',
          [s.bottom],
          s.name,
          `pooling_param { pool: MAX kernel_size: ${s.k} stride: ${s.stride} pad: ${s.pad ?? 0} }`,
        );
        break;
      case 'lrn':
        layer(
          s.name,
          'LRN',
          [s.bottom],
          s.name,
          `lrn_param { local_size: ${LRN.size} alpha: ${LRN.alpha} beta: ${LRN.beta} }`,
        );
        break;
      case 'concat':
        layer(s.name, 'Concat', s.bottoms, s.name);
        break;
      case 'gap':
        layer(
          s.name,
          'Pooling',
          [s.bottom],
          s.name,
          'pooling_param { pool: AVE global_pooling: true }',
        );
        break;
      case 'fc':
        layer(
          s.name,
          'InnerProduct',
          [s.bottom],
          s.name,
          `inner_product_param { num_output: ${s.F} }`,
        );
        break;
      case 'softmax':
        layer(s.name, 'Softmax', [s.bottom], s.name);
        break;
    }
  }
  return lines.join('\n') + '\n';
}

/** The .caffemodel bytes of the tiny GoogLeNet with `tinyGooglenetWeights(seed)`. */
export function tinyGooglenetCaffemodel(seed: number): Uint8Array {
  const weights = tinyGooglenetWeights(seed);
  const layers: CaffeLayerWeights[] = [];
  for (const s of SPECS) {
    if (s.kind !== 'conv' && s.kind !== 'fc') continue;
    const [w, b] = weights.get(s.name)!;
    const shape = s.kind === 'conv' ? [s.F, s.C, s.k, s.k] : [s.F, s.C];
    layers.push({
      name: s.name,
      type: s.kind === 'conv' ? 'Convolution' : 'InnerProduct',
      blobs: [
        { shape, data: w },
        { shape: [s.F], data: b },
      ],
    });
  }
  return encodeCaffeModel(layers);
}

/**
 * The same network as an .onnx file, named like the ONNX model zoo's converted bvlc_googlenet:
 * input `data_0`, each value `<Caffe layer>_1` (so a blob after its in-place ReLU is the ReLU's
 * output, e.g. `conv2/relu_3x3_1`), classifier as Flatten + Gemm.
 */
export function tinyGooglenetOnnx(seed: number): Uint8Array {
  const weights = tinyGooglenetWeights(seed);
  const ints = (value: number[]): OnnxAttribute => ({ type: 'INTS', value });
  const value = new Map<string, string>([['data', 'data_0']]); // Caffe blob → current ONNX value
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  const node = (
    opType: string,
    name: string,
    inputs: string[],
    attributes: Record<string, OnnxAttribute> = {},
  ): string => {
    const out = `${name}_1`;
    nodes.push({
      name: out,
      opType,
      domain: '',
      inputs,
      outputs: [out],
      attributes: new Map(Object.entries(attributes)),
    });
    return out;
  };
  const init = (name: string, dims: number[], data: Float32Array): string => {
    initializers.push({ name, dims, dataType: 'FLOAT', data });
    return name;
  };
  for (const s of SPECS) {
    switch (s.kind) {
      case 'conv': {
        const [w, b] = weights.get(s.name)!;
        const pad = s.pad ?? 0;
        value.set(
          s.name,
          node(
            'Conv',
            s.name,
            [
              value.get(s.bottom)!,
              init(`${s.name}_w_0`, [s.F, s.C, s.k, s.k], w),
              init(`${s.name}_b_0`, [s.F], b),
            ],
            {
              kernel_shape: ints([s.k, s.k]),
              strides: ints([s.stride ?? 1, s.stride ?? 1]),
              pads: ints([pad, pad, pad, pad]),
            },
          ),
        );
        break;
      }
      case 'relu':
        value.set(s.blob, node('Relu', s.name, [value.get(s.blob)!]));
        break;
      case 'pool': {
        const pad = s.pad ?? 0;
        value.set(
          s.name,
          node('MaxPool', s.name, [value.get(s.bottom)!], {
            kernel_shape: ints([s.k, s.k]),
            strides: ints([s.stride, s.stride]),
            pads: ints([pad, pad, pad, pad]),
            ceil_mode: { type: 'INT', value: 1 },
          }),
        );
        break;
      }
      case 'lrn':
        value.set(
          s.name,
          node('LRN', s.name, [value.get(s.bottom)!], {
            size: { type: 'INT', value: LRN.size },
            alpha: { type: 'FLOAT', value: LRN.alpha },
            beta: { type: 'FLOAT', value: LRN.beta },
            bias: { type: 'FLOAT', value: 1 },
          }),
        );
        break;
      case 'concat':
        value.set(
          s.name,
          node(
            'Concat',
            s.name,
            s.bottoms.map((b) => value.get(b)!),
            { axis: { type: 'INT', value: 1 } },
          ),
        );
        break;
      case 'gap':
        value.set(s.name, node('GlobalAveragePool', s.name, [value.get(s.bottom)!]));
        break;
      case 'fc': {
        const [w, b] = weights.get(s.name)!;
        const flat = node('Flatten', `${s.name}/flatten`, [value.get(s.bottom)!]);
        value.set(
          s.name,
          node(
            'Gemm',
            s.name,
            [flat, init(`${s.name}_w_0`, [s.F, s.C], w), init(`${s.name}_b_0`, [s.F], b)],
            { transB: { type: 'INT', value: 1 } },
          ),
        );
        break;
      }
      case 'softmax':
        value.set(s.name, node('Softmax', s.name, [value.get(s.bottom)!]));
        break;
    }
  }
  const output = value.get('prob')!;
  const model: OnnxModel = {
    irVersion: 3,
    producerName: 'nnzero-test',
    producerVersion: '0',
    domain: '',
    modelVersion: 1,
    docString: '',
    opsetImports: [{ domain: '', version: 11 }],
    metadata: {},
    graph: {
      name: 'tiny_googlenet',
      nodes,
      initializers: new Map(initializers.map((t) => [t.name, t])),
      inputs: [{ name: 'data_0', elemType: 'FLOAT', shape: [1, 3, 224, 224] }],
      outputs: [{ name: output, elemType: 'FLOAT', shape: [1, 5] }],
      valueInfo: [],
    },
  };
  return encodeOnnxModel(model);
}
