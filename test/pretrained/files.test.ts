// loadCaffe and loadOnnx read weight files by positional reads: each weight is read once, from
// disk into the array that becomes the layer's parameter, and weights nobody needs (`until`) are
// never read. Small generated files in a temporary directory stand in for VGG-19's 575 MB.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, toArray, type Param } from '../../lib/core/index.js';
import {
  encodeCaffeModel,
  importCaffe,
  importOnnx,
  loadCaffe,
  loadOnnx,
  type LayerKit,
} from '../../lib/pretrained/index.js';
import { FormatError, encodeOnnxModel } from '../../lib/style/formats/index.js';
import type { ByteSource, OnnxModel, OnnxNode, OnnxTensor } from '../../lib/style/formats/index.js';
import { naiveKit } from './kit.js';
import { indexOfBytes, memorySource, withTempDir } from '../style/formats/fixtures.js';
import { randomTensor } from './helpers.js';

const PROTOTXT = `
name: "tiny"
input: "data"
input_shape { dim: 1 dim: 4 dim: 6 dim: 6 }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 6 kernel_size: 3 pad: 1 group: 2 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "fc" type: "InnerProduct" bottom: "pool1" top: "fc" inner_product_param { num_output: 5 } }
layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
`;

const rng = new Rng(40);
const f32 = (n: number): Float32Array =>
  Float32Array.from({ length: n }, () => Math.fround(rng.normal(0, 0.5)));
const W = { conv1: f32(6 * 2 * 9), b1: f32(6), fc: f32(5 * 54), bfc: f32(5) };

const CAFFEMODEL = encodeCaffeModel([
  {
    name: 'conv1',
    type: 'Convolution',
    blobs: [
      { shape: [6, 2, 3, 3], data: W.conv1 },
      { shape: [6], data: W.b1 },
    ],
  },
  {
    name: 'fc',
    type: 'InnerProduct',
    blobs: [
      { shape: [5, 54], data: W.fc },
      { shape: [5], data: W.bfc },
    ],
  },
]);

function onnxNode(opType: string, inputs: string[], output: string, attributes = {}): OnnxNode {
  return {
    name: output,
    opType,
    domain: '',
    inputs,
    outputs: [output],
    attributes: new Map(Object.entries(attributes)),
  };
}

const tensorOf = (name: string, dims: number[], data: Float32Array): OnnxTensor => ({
  name,
  dims,
  dataType: 'FLOAT',
  data,
});

const ONNX_MODEL: OnnxModel = {
  irVersion: 8,
  producerName: 'nnzero-test',
  producerVersion: '0',
  domain: '',
  modelVersion: 1,
  docString: '',
  opsetImports: [{ domain: '', version: 13 }],
  metadata: {},
  graph: {
    name: 'tiny',
    nodes: [
      onnxNode('Conv', ['x', 'W1', 'B1'], 'conv1', {
        group: { type: 'INT', value: 2 },
        pads: { type: 'INTS', value: [1, 1, 1, 1] },
      }),
      onnxNode('Relu', ['conv1'], 'relu1'),
      onnxNode('MaxPool', ['relu1'], 'pool1', {
        kernel_shape: { type: 'INTS', value: [2, 2] },
        strides: { type: 'INTS', value: [2, 2] },
      }),
      onnxNode('Flatten', ['pool1'], 'flat'),
      onnxNode('Gemm', ['flat', 'Wfc', 'Bfc'], 'fc', { transB: { type: 'INT', value: 1 } }),
    ],
    initializers: new Map(
      [
        tensorOf('W1', [6, 2, 3, 3], W.conv1),
        tensorOf('B1', [6], W.b1),
        tensorOf('Wfc', [5, 54], W.fc),
        tensorOf('Bfc', [5], W.bfc),
      ].map((t) => [t.name, t]),
    ),
    inputs: [{ name: 'x', elemType: 'FLOAT', shape: ['N', 4, 6, 6] }],
    outputs: [{ name: 'fc', elemType: 'FLOAT', shape: null }],
    valueInfo: [],
  },
};
const ONNX_BYTES = encodeOnnxModel(ONNX_MODEL);

// An array of its own: nothing but this parameter keeps its memory.
const ownsBuffer = (p: Param): boolean =>
  p.value.data.byteOffset === 0 && p.value.data.byteLength === p.value.data.buffer.byteLength;

// Bytes of `values`' encoding in `file` that the recorded reads covered.
function bytesRead(file: Uint8Array, values: Float32Array, reads: [number, number][]): number {
  const at = indexOfBytes(
    file,
    new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  );
  expect(at).to.be.above(0);
  const end = at + values.byteLength;
  return reads.reduce((s, [a, b]) => s + Math.max(0, Math.min(b, end) - Math.max(a, at)), 0);
}

describe('loadCaffe and loadOnnx (weights read from disk by positional reads)', () => {
  it('loadCaffe: each parameter is the array read from disk, and the net equals the in-memory import', () => {
    withTempDir((dir) => {
      writeFileSync(join(dir, 'deploy.prototxt'), PROTOTXT);
      writeFileSync(join(dir, 'tiny.caffemodel'), CAFFEMODEL);
      const fromFile = loadCaffe(join(dir, 'deploy.prototxt'), join(dir, 'tiny.caffemodel')).graph;
      const inMemory = importCaffe(PROTOTXT, CAFFEMODEL).graph;
      expect(fromFile.params().map((p) => p.name)).to.deep.equal([
        'conv1.weight',
        'conv1.bias',
        'fc.weight',
        'fc.bias',
      ]);
      expect(fromFile.params().every(ownsBuffer)).to.equal(true);
      // In memory the blobs are views on the caller's bytes: the layers get copies instead.
      expect(inMemory.params().some((p) => p.value.data.buffer === CAFFEMODEL.buffer)).to.equal(
        false,
      );
      const x = randomTensor(new Rng(41), [2, 4, 6, 6], { dtype: 'float32' });
      expect(toArray(fromFile.forward(x))).to.deep.equal(toArray(inMemory.forward(x)));
    });
  });

  it('loadOnnx: each parameter is the array read from disk, and the net equals the in-memory import', () => {
    withTempDir((dir) => {
      const path = join(dir, 'tiny.onnx');
      writeFileSync(path, ONNX_BYTES);
      const fromFile = loadOnnx(path).graph;
      const inMemory = importOnnx(ONNX_BYTES).graph;
      expect(fromFile.params()).to.have.length(4);
      expect(fromFile.params().every(ownsBuffer)).to.equal(true);
      expect(inMemory.params().some((p) => p.value.data.buffer === ONNX_BYTES.buffer)).to.equal(
        false,
      );
      const x = randomTensor(new Rng(42), [2, 4, 6, 6], { dtype: 'float32' });
      expect(toArray(fromFile.forward(x))).to.deep.equal(toArray(inMemory.forward(x)));
    });
  });

  it('copies nothing after the read: each parameter is the very array the file was read into', () => {
    // A source that remembers every array it read into (windows of 16 bytes, smaller than any
    // blob here, so every blob is read straight from the file rather than out of a window).
    const spy = (bytes: Uint8Array) => {
      const inner = memorySource(bytes, 16);
      const targets = new Set<ArrayBufferLike>();
      const source: ByteSource = {
        length: inner.length,
        windowSize: 16,
        readInto(target, position) {
          targets.add(target.buffer);
          inner.readInto(target, position);
        },
      };
      return { source, targets };
    };
    for (const [format, bytes, load] of [
      [
        'caffe',
        CAFFEMODEL,
        (s: ByteSource, kit?: LayerKit) => importCaffe(PROTOTXT, s, kit ? { kit } : {}),
      ],
      ['onnx', ONNX_BYTES, (s: ByteSource, kit?: LayerKit) => importOnnx(s, kit ? { kit } : {})],
    ] as const) {
      const { source, targets } = spy(bytes);
      const params = load(source).graph.params();
      expect(
        params.every((p) => targets.has(p.value.data.buffer)),
        format,
      ).to.equal(true);
      // Negative control: the naive test kit allocates its own conv parameters, which the
      // importer then fills by copying, so those are not arrays the file was read into.
      const naive = spy(bytes);
      const copied = load(naive.source, naiveKit)
        .graph.params()
        .filter((p) => !naive.targets.has(p.value.data.buffer))
        .map((p) => p.name);
      expect(copied, format).to.have.length(2);
    }
  });

  it('gives two layers that share one initializer two parameters of their own', () => {
    const shared: OnnxModel = {
      ...ONNX_MODEL,
      graph: {
        ...ONNX_MODEL.graph,
        nodes: [
          onnxNode('Conv', ['x', 'W1'], 'a', { group: { type: 'INT', value: 2 } }),
          onnxNode('Conv', ['x', 'W1'], 'b', { group: { type: 'INT', value: 2 } }),
          onnxNode('Add', ['a', 'b'], 'fc'),
        ],
      },
    };
    const params = importOnnx(memorySource(encodeOnnxModel(shared))).graph.params();
    expect(params.map((p) => p.name)).to.deep.equal(['a.weight', 'b.weight']);
    expect(params[0]!.value.data).to.not.equal(params[1]!.value.data);
    expect(toArray(params[0]!.value)).to.deep.equal(toArray(params[1]!.value));
  });

  it('never reads the weights of layers `until` leaves out (Caffe and ONNX)', () => {
    const caffe = memorySource(CAFFEMODEL, 16);
    const stem = importCaffe(PROTOTXT, caffe, { until: 'pool1' }).graph;
    expect(stem.nodes.map((n) => n.name)).to.deep.equal(['conv1', 'relu1', 'pool1']);
    expect(bytesRead(CAFFEMODEL, W.fc, caffe.reads)).to.be.below(16);
    const onnx = memorySource(ONNX_BYTES, 16);
    expect(importOnnx(onnx, { until: 'pool1' }).graph.params()).to.have.length(2);
    expect(bytesRead(ONNX_BYTES, W.fc, onnx.reads)).to.be.below(16);
    // Negative control: the whole net does read all of fc's 1080 bytes, from either format.
    const all = [memorySource(CAFFEMODEL, 16), memorySource(ONNX_BYTES, 16)] as const;
    importCaffe(PROTOTXT, all[0]);
    importOnnx(all[1]);
    expect(bytesRead(CAFFEMODEL, W.fc, all[0].reads)).to.be.at.least(W.fc.byteLength);
    expect(bytesRead(ONNX_BYTES, W.fc, all[1].reads)).to.be.at.least(W.fc.byteLength);
  });

  it('names the file and the problem when it is truncated or missing', () => {
    withTempDir((dir) => {
      const proto = join(dir, 'deploy.prototxt');
      writeFileSync(proto, PROTOTXT);
      const caffemodel = join(dir, 'cut.caffemodel');
      writeFileSync(caffemodel, CAFFEMODEL.subarray(0, CAFFEMODEL.length - 100));
      expect(() => loadCaffe(proto, caffemodel)).to.throw(
        FormatError,
        /cut\.caffemodel: field 100 \(layer\) #1 runs past end of file \(needs \d+ bytes, \d+ left\) at byte \d+$/,
      );
      const onnx = join(dir, 'cut.onnx');
      writeFileSync(onnx, ONNX_BYTES.subarray(0, ONNX_BYTES.length - 100));
      expect(() => loadOnnx(onnx)).to.throw(
        FormatError,
        /cut\.onnx: field 7 \(graph\) runs past end of file/,
      );
      expect(() => loadOnnx(join(dir, 'none.onnx'))).to.throw(
        FormatError,
        /none\.onnx: no such file$/,
      );
    });
  });
});
