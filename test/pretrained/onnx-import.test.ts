import { expect } from 'chai';
import { Rng, ShapeError, toArray, tensor } from '../../lib/core/index.js';
import { Linear, ReLU } from '../../lib/mlp/index.js';
import { Conv2d } from '../../lib/cnn/index.js';
import {
  AddConstant,
  BatchNorm2d,
  Concat,
  Dropout,
  EltwiseSum,
  FlattenFrom,
  Graph,
  ImportError,
  LRN,
  Pad2d,
  Reshape,
  Softmax,
  importOnnx,
  samePadding,
  type ConvSpec,
  type GraphNode,
} from '../../lib/pretrained/index.js';
import { FormatError, encodeOnnxModel } from '../../lib/style/formats/index.js';
import type {
  OnnxAttribute,
  OnnxModel,
  OnnxNode,
  OnnxTensor,
} from '../../lib/style/formats/index.js';
import { naiveKit } from './kit.js';
import { randomTensor, relativeDifference } from './helpers.js';

const ints = (value: number[]): OnnxAttribute => ({ type: 'INTS', value });
const int = (value: number): OnnxAttribute => ({ type: 'INT', value });
const float = (value: number): OnnxAttribute => ({ type: 'FLOAT', value });
const str = (value: string): OnnxAttribute => ({ type: 'STRING', value });

function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, OnnxAttribute> = {},
): OnnxNode {
  return {
    name: `${outputs[0]}_node`,
    opType,
    domain: '',
    inputs,
    outputs,
    attributes: new Map(Object.entries(attributes)),
  };
}

function weights(rng: Rng, name: string, dims: number[], positive = false): OnnxTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, () =>
    Math.fround(positive ? rng.uniform(0.5, 2) : rng.normal(0, 0.5)),
  );
  return { name, dims, dataType: 'FLOAT', data };
}

function onnxModel(
  nodes: OnnxNode[],
  initializers: OnnxTensor[],
  inputShape: number[],
  output: string,
  opset = 13,
): Uint8Array {
  const model: OnnxModel = {
    irVersion: 8,
    producerName: 'nnzero-test',
    producerVersion: '0',
    domain: '',
    modelVersion: 1,
    docString: '',
    opsetImports: [{ domain: '', version: opset }],
    metadata: {},
    graph: {
      name: 'test',
      nodes,
      initializers: new Map(initializers.map((t) => [t.name, t])),
      inputs: [
        { name: 'x', elemType: 'FLOAT', shape: ['batch', ...inputShape.slice(1)] },
        ...initializers.map((t) => ({ name: t.name, elemType: 'FLOAT', shape: t.dims })),
      ],
      outputs: [{ name: output, elemType: 'FLOAT', shape: null }],
      valueInfo: [],
    },
  };
  return encodeOnnxModel(model);
}

function conv(
  spec: Partial<ConvSpec> & Pick<ConvSpec, 'name' | 'inChannels' | 'outChannels'>,
  w: OnnxTensor,
  b?: OnnxTensor,
) {
  const layer = naiveKit.conv2d({
    kernel: [1, 1],
    stride: [1, 1],
    pad: [0, 0, 0, 0],
    dilation: [1, 1],
    group: 1,
    bias: b !== undefined,
    dtype: 'float32',
    ...spec,
  });
  const [weight, bias] = layer.params();
  weight!.value.data.set(w.data as Float32Array);
  if (b) bias!.value.data.set(b.data as Float32Array);
  return layer;
}

describe('importOnnx', () => {
  it('imports a tiny GoogLeNet (Conv, ceil-mode MaxPool, LRN, Concat, AveragePool, Gemm) identical to the hand-built net', () => {
    const rng = new Rng(1);
    const init = [
      weights(rng, 'W1', [4, 3, 3, 3]),
      weights(rng, 'B1', [4]),
      weights(rng, 'Wa', [2, 4, 1, 1]),
      weights(rng, 'Ba', [2]),
      weights(rng, 'Wb', [3, 4, 3, 3]),
      weights(rng, 'Bb', [3]),
      weights(rng, 'Wc', [1, 4, 1, 1]),
      weights(rng, 'Wfc', [5, 6]),
      weights(rng, 'Bfc', [5]),
    ];
    const [W1, B1, Wa, Ba, Wb, Bb, Wc, Wfc, Bfc] = init as [OnnxTensor, ...OnnxTensor[]];
    const nodes = [
      node('Conv', ['x', 'W1', 'B1'], ['c1'], {
        strides: ints([2, 2]),
        pads: ints([1, 1, 1, 1]),
        kernel_shape: ints([3, 3]),
      }),
      node('Relu', ['c1'], ['r1']),
      node('MaxPool', ['r1'], ['p1'], {
        kernel_shape: ints([3, 3]),
        strides: ints([2, 2]),
        ceil_mode: int(1),
      }),
      node('LRN', ['p1'], ['n1'], {
        size: int(3),
        alpha: float(0.5),
        beta: float(0.75),
        bias: float(1),
      }),
      node('Conv', ['n1', 'Wa', 'Ba'], ['a']),
      node('Conv', ['n1', 'Wb', 'Bb'], ['b0'], { pads: ints([1, 1, 1, 1]) }),
      node('Relu', ['b0'], ['b']),
      node('AveragePool', ['n1'], ['cp'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) }),
      node('Conv', ['cp', 'Wc'], ['c']),
      node('Concat', ['a', 'b', 'c'], ['cat'], { axis: int(1) }),
      node('Dropout', ['cat'], ['drop']),
      node('GlobalAveragePool', ['drop'], ['gap']),
      node('Flatten', ['gap'], ['flat']),
      node('Gemm', ['flat', 'Wfc', 'Bfc'], ['fc'], { transB: int(1) }),
      node('Softmax', ['fc'], ['prob']),
    ];
    const { graph, inputShape } = importOnnx(onnxModel(nodes, init, [1, 3, 9, 8], 'prob'), {
      kit: naiveKit,
    });
    expect(inputShape).to.deep.equal([-1, 3, 9, 8]);
    const fc = new Linear(6, 5, { rng, name: 'fc', dtype: 'float32' });
    fc.weight.value.data.set(Wfc!.data as Float32Array);
    fc.bias.value.data.set(Bfc!.data as Float32Array);
    const pool = (kind: 'max' | 'avg', k: number, s: number, p: number, countPadding: boolean) =>
      naiveKit.pool2d({
        name: 'pool',
        kind,
        kernel: [k, k],
        stride: [s, s],
        pad: [p, p, p, p],
        ceilMode: kind === 'max',
        countPadding,
      });
    const byHand: GraphNode[] = [
      {
        name: 'c1',
        input: 'x',
        layer: conv(
          {
            name: 'c1',
            inChannels: 3,
            outChannels: 4,
            kernel: [3, 3],
            stride: [2, 2],
            pad: [1, 1, 1, 1],
          },
          W1,
          B1,
        ),
      },
      { name: 'r1', input: 'c1', layer: new ReLU() },
      { name: 'p1', input: 'r1', layer: pool('max', 3, 2, 0, true) },
      { name: 'n1', input: 'p1', layer: new LRN(3, { alpha: 0.5 }) },
      {
        name: 'a',
        input: 'n1',
        layer: conv({ name: 'a', inChannels: 4, outChannels: 2 }, Wa!, Ba),
      },
      {
        name: 'b0',
        input: 'n1',
        layer: conv(
          { name: 'b0', inChannels: 4, outChannels: 3, kernel: [3, 3], pad: [1, 1, 1, 1] },
          Wb!,
          Bb,
        ),
      },
      { name: 'b', input: 'b0', layer: new ReLU() },
      // ONNX's count_include_pad defaults to 0: the border averages only the input.
      { name: 'cp', input: 'n1', layer: pool('avg', 3, 1, 1, false) },
      { name: 'c', input: 'cp', layer: conv({ name: 'c', inChannels: 4, outChannels: 1 }, Wc!) },
      { name: 'cat', inputs: ['a', 'b', 'c'], merge: new Concat() },
      { name: 'drop', input: 'cat', layer: new Dropout(0.5, { mode: 'eval' }) },
      { name: 'gap', input: 'drop', layer: naiveKit.globalPool2d({ name: 'gap', kind: 'avg' }) },
      { name: 'flat', input: 'gap', layer: new FlattenFrom() },
      { name: 'fc', input: 'flat', layer: fc },
      { name: 'prob', input: 'fc', layer: new Softmax({ axis: -1 }) },
    ];
    const x = randomTensor(new Rng(2), [2, 3, 9, 8], { dtype: 'float32' });
    const y = graph.forward(x);
    expect(y.shape).to.deep.equal([2, 5]);
    expect(toArray(y)).to.deep.equal(toArray(new Graph(byHand, { input: 'x' }).forward(x)));
  });

  it('imports a tiny ResNet (BatchNormalization, Add, Reshape, MatMul + bias, opset-11 Softmax) identical to the hand-built net', () => {
    const rng = new Rng(3);
    const init = [
      weights(rng, 'W1', [3, 2, 3, 3]),
      weights(rng, 'g1', [3]),
      weights(rng, 'b1', [3]),
      weights(rng, 'm1', [3]),
      weights(rng, 'v1', [3], true),
      weights(rng, 'W2', [3, 3, 1, 1]),
      weights(rng, 'Wfc', [3, 2]),
      weights(rng, 'Bfc', [2]),
      { name: 'shape', dims: [2], dataType: 'INT64', data: [0, -1] },
    ];
    const [W1, g1, b1, m1, v1, W2, Wfc, Bfc] = init as OnnxTensor[];
    const nodes = [
      node('Conv', ['x', 'W1'], ['c1'], { pads: ints([1, 1, 1, 1]) }),
      node('BatchNormalization', ['c1', 'g1', 'b1', 'm1', 'v1'], ['bn1'], { epsilon: float(1e-3) }),
      node('Relu', ['bn1'], ['r1']),
      node('Conv', ['r1', 'W2'], ['c2']),
      node('Add', ['c2', 'r1'], ['sum']),
      node('Relu', ['sum'], ['r2']),
      node('GlobalAveragePool', ['r2'], ['gap']),
      node('Reshape', ['gap', 'shape'], ['flat']),
      node('MatMul', ['flat', 'Wfc'], ['mm']),
      node('Add', ['Bfc', 'mm'], ['fc']),
      node('Softmax', ['fc'], ['prob']),
    ];
    const { graph } = importOnnx(onnxModel(nodes, init, [1, 2, 4, 5], 'prob', 11), {
      kit: naiveKit,
    });
    const bn = new BatchNorm2d(3, { eps: 1e-3, dtype: 'float32' });
    bn.weight!.value.data.set(g1!.data as Float32Array);
    bn.bias!.value.data.set(b1!.data as Float32Array);
    bn.runningMean.data.set(m1!.data as Float32Array);
    bn.runningVar.data.set(v1!.data as Float32Array);
    const fc = new Linear(3, 2, { rng, dtype: 'float32' });
    const wfc = Wfc!.data as Float32Array;
    for (let o = 0; o < 2; o++)
      for (let i = 0; i < 3; i++) fc.weight.value.set(o, i, wfc[i * 2 + o]!);
    fc.bias.value.data.fill(0);
    const byHand = new Graph(
      [
        {
          name: 'c1',
          input: 'x',
          layer: conv(
            { name: 'c1', inChannels: 2, outChannels: 3, kernel: [3, 3], pad: [1, 1, 1, 1] },
            W1!,
          ),
        },
        { name: 'bn1', input: 'c1', layer: bn },
        { name: 'r1', input: 'bn1', layer: new ReLU() },
        {
          name: 'c2',
          input: 'r1',
          layer: conv({ name: 'c2', inChannels: 3, outChannels: 3 }, W2!),
        },
        { name: 'sum', inputs: ['c2', 'r1'], merge: new EltwiseSum() },
        { name: 'r2', input: 'sum', layer: new ReLU() },
        { name: 'gap', input: 'r2', layer: naiveKit.globalPool2d({ name: 'gap', kind: 'avg' }) },
        { name: 'flat', input: 'gap', layer: new Reshape([0, -1]) },
        { name: 'mm', input: 'flat', layer: fc },
        { name: 'fc', input: 'mm', layer: new AddConstant(tensor(Bfc!.data as Float32Array, [2])) },
        { name: 'prob', input: 'fc', layer: new Softmax() },
      ],
      { input: 'x' },
    );
    const x = randomTensor(new Rng(4), [2, 2, 4, 5], { dtype: 'float32' });
    expect(toArray(graph.forward(x))).to.deep.equal(toArray(byHand.forward(x)));
  });

  it('computes auto_pad SAME padding as the spec says (odd extra at the end for UPPER, start for LOWER)', () => {
    expect(samePadding(7, 3, 2, 1, 'SAME_UPPER')).to.deep.equal([1, 1]);
    expect(samePadding(8, 3, 2, 1, 'SAME_UPPER')).to.deep.equal([0, 1]);
    expect(samePadding(8, 3, 2, 1, 'SAME_LOWER')).to.deep.equal([1, 0]);
    expect(samePadding(5, 3, 1, 2, 'SAME_UPPER')).to.deep.equal([2, 2]);
  });

  it('runs a SAME_LOWER Conv and a SAME_UPPER MaxPool to ⌈in / stride⌉ with the spec’s padding', () => {
    const rng = new Rng(5);
    const W = weights(rng, 'W', [2, 1, 3, 3]);
    const nodes = [
      node('Conv', ['x', 'W'], ['c'], { auto_pad: str('SAME_LOWER'), strides: ints([2, 2]) }),
      node('MaxPool', ['c'], ['p'], {
        auto_pad: str('SAME_UPPER'),
        kernel_shape: ints([2, 2]),
        strides: ints([2, 2]),
      }),
    ];
    const { graph } = importOnnx(onnxModel(nodes, [W], [1, 1, 8, 7], 'p'), { kit: naiveKit });
    const x = randomTensor(new Rng(6), [1, 1, 8, 7], { dtype: 'float32' });
    // H 8: pads [1, 0] → 4; W 7: pads [1, 1] → 4. Pool: 4 → 2 with no padding needed.
    const byHand = new Graph(
      [
        { name: 'pad', input: 'x', layer: new Pad2d([1, 0, 1, 1]) },
        {
          name: 'c',
          input: 'pad',
          layer: conv(
            { name: 'c', inChannels: 1, outChannels: 2, kernel: [3, 3], stride: [2, 2] },
            W,
          ),
        },
        {
          name: 'p',
          input: 'c',
          layer: naiveKit.pool2d({
            name: 'p',
            kind: 'max',
            kernel: [2, 2],
            stride: [2, 2],
            pad: [0, 0, 0, 0],
            ceilMode: false,
            countPadding: false,
          }),
        },
      ],
      { input: 'x' },
    );
    const y = graph.forward(x);
    expect(y.shape).to.deep.equal([1, 2, 2, 2]);
    expect(toArray(y)).to.deep.equal(toArray(byHand.forward(x)));
  });

  it('reads asymmetric pads as [x1_begin, x2_begin, x1_end, x2_end] (Conv and AveragePool with count_include_pad)', () => {
    const rng = new Rng(12);
    const W = weights(rng, 'W', [2, 1, 3, 2]);
    const nodes = [
      // top 1, left 0, bottom 2, right 1
      node('Conv', ['x', 'W'], ['c'], { pads: ints([1, 0, 2, 1]) }),
      node('AveragePool', ['c'], ['a'], {
        kernel_shape: ints([3, 2]),
        pads: ints([0, 1, 1, 0]),
        count_include_pad: int(1),
      }),
    ];
    const { graph } = importOnnx(onnxModel(nodes, [W], [1, 1, 5, 6], 'a'));
    const byHand = new Graph(
      [
        {
          name: 'c',
          input: 'x',
          layer: conv(
            { name: 'c', inChannels: 1, outChannels: 2, kernel: [3, 2], pad: [1, 2, 0, 1] },
            W,
          ),
        },
        {
          name: 'a',
          input: 'c',
          layer: naiveKit.pool2d({
            name: 'a',
            kind: 'avg',
            kernel: [3, 2],
            stride: [1, 1],
            pad: [0, 1, 1, 0],
            ceilMode: false,
            countPadding: true,
          }),
        },
      ],
      { input: 'x' },
    );
    const x = randomTensor(new Rng(13), [1, 1, 5, 6], { dtype: 'float32' });
    const y = graph.forward(x);
    // conv: 5 + 3 − 3 + 1 = 6 rows, 6 + 1 − 2 + 1 = 6 columns; the pool's strides default to 1
    // in ONNX (not to the kernel): 6 + 1 − 3 + 1 = 5 rows, 6 + 1 − 2 + 1 = 6 columns.
    expect(y.shape).to.deep.equal([1, 2, 5, 6]);
    expect(relativeDifference(y, byHand.forward(x))).to.be.below(1e-6);
  });

  it('applies Gemm alpha, beta and transB = 0 as Y = α A B + β C', () => {
    const rng = new Rng(7);
    const B = weights(rng, 'B', [3, 2]);
    const C = weights(rng, 'C', [1, 2]);
    const nodes = [node('Gemm', ['x', 'B', 'C'], ['y'], { alpha: float(0.5), beta: float(2) })];
    const model = onnxModel(nodes, [B, C], [1, 3], 'y');
    const { graph } = importOnnx(model, { dtype: 'float64' });
    const x = randomTensor(rng, [2, 3]);
    const y = graph.forward(x);
    const b = B.data as Float32Array;
    const c = C.data as Float32Array;
    for (let n = 0; n < 2; n++)
      for (let o = 0; o < 2; o++) {
        let s = 2 * c[o]!;
        for (let i = 0; i < 3; i++) s += 0.5 * x.get(n, i) * b[i * 2 + o]!;
        expect(y.get(n, o)).to.be.closeTo(s, 1e-12);
      }
  });

  it('throws naming an unsupported operator and its node', () => {
    const nodes = [node('Relu', ['x'], ['r']), node('Sigmoid', ['r'], ['s'])];
    expect(() => importOnnx(onnxModel(nodes, [], [1, 3], 's'))).to.throw(
      ImportError,
      /node "s_node" \(Sigmoid\): unsupported operator; nnzero imports Conv, Relu/,
    );
  });

  it('throws naming the node whose initializer has the wrong shape', () => {
    const rng = new Rng(8);
    const init = ['g', 'b', 'm'].map((n) => weights(rng, n, [3]));
    const v = weights(rng, 'v', [4], true);
    const nodes = [node('BatchNormalization', ['x', 'g', 'b', 'm', 'v'], ['y'])];
    expect(() => importOnnx(onnxModel(nodes, [...init, v], [1, 3, 2, 2], 'y'))).to.throw(
      ShapeError,
      /node "y_node" \(BatchNormalization\) input_var "v": got shape \[4\], expected \[3\]/,
    );
  });

  it('throws a FormatError naming the file for a truncated model', () => {
    const bytes = onnxModel(
      [node('Relu', ['x'], ['r'])],
      [weights(new Rng(9), 'unused', [64])],
      [1, 3],
      'r',
    );
    expect(() => importOnnx(bytes.subarray(0, bytes.length - 40), { file: 'tiny.onnx' })).to.throw(
      FormatError,
      /tiny\.onnx/,
    );
  });

  it("runs on chapter 4's layers by default, matching the naive kit (SAME padding, count_include_pad 0)", () => {
    const rng = new Rng(10);
    const W = weights(rng, 'W', [2, 1, 3, 3]);
    const nodes = [
      node('Conv', ['x', 'W'], ['c'], { auto_pad: str('SAME_UPPER'), strides: ints([2, 2]) }),
      node('AveragePool', ['c'], ['a'], {
        kernel_shape: ints([3, 3]),
        pads: ints([1, 1, 1, 1]),
        ceil_mode: int(1),
        strides: ints([2, 2]),
      }),
      node('MaxPool', ['a'], ['p'], { auto_pad: str('SAME_LOWER'), kernel_shape: ints([2, 2]) }),
    ];
    const bytes = onnxModel(nodes, [W], [1, 1, 9, 11], 'p');
    const x = randomTensor(new Rng(11), [2, 1, 9, 11], { dtype: 'float32' });
    const fast = importOnnx(bytes).graph.run(x, { taps: ['c', 'a'] });
    const naive = importOnnx(bytes, { kit: naiveKit }).graph.run(x, { taps: ['c', 'a'] });
    expect(fast.output.shape).to.deep.equal(naive.output.shape);
    for (const t of ['c', 'a'])
      expect(relativeDifference(fast.taps.get(t)!, naive.taps.get(t)!), t).to.be.below(1e-5);
    expect(relativeDifference(fast.output, naive.output)).to.be.below(1e-5);
  });

  it('imports Conv with `group` (2 and depthwise) identical to Conv2d with groups by hand', () => {
    const rng = new Rng(30);
    const W1 = weights(rng, 'W1', [6, 2, 3, 3]);
    const B1 = weights(rng, 'B1', [6]);
    const W2 = weights(rng, 'W2', [6, 1, 3, 3]);
    const nodes = [
      node('Conv', ['x', 'W1', 'B1'], ['c1'], { group: int(2), pads: ints([1, 1, 1, 1]) }),
      node('Relu', ['c1'], ['r1']),
      node('Conv', ['r1', 'W2'], ['dw'], { group: int(6), strides: ints([2, 2]) }),
    ];
    const bytes = onnxModel(nodes, [W1, B1, W2], [1, 4, 6, 7], 'dw');
    const t = (w: OnnxTensor) => tensor((w.data as Float32Array).slice(), w.dims);
    const byHand = new Graph(
      [
        {
          name: 'c1',
          input: 'x',
          layer: new Conv2d(4, 6, 3, {
            groups: 2,
            pad: 1,
            weights: { weight: t(W1), bias: t(B1) },
          }),
        },
        { name: 'r1', input: 'c1', layer: new ReLU() },
        {
          name: 'dw',
          input: 'r1',
          layer: new Conv2d(6, 6, 3, {
            groups: 6,
            stride: 2,
            bias: false,
            weights: { weight: t(W2) },
          }),
        },
      ],
      { input: 'x' },
    );
    const x = randomTensor(new Rng(31), [2, 4, 6, 7], { dtype: 'float32' });
    const y = importOnnx(bytes).graph.forward(x);
    expect(y.shape).to.deep.equal([2, 6, 2, 3]);
    expect(toArray(y)).to.deep.equal(toArray(byHand.forward(x)));
    const naive = importOnnx(bytes, { kit: naiveKit }).graph.forward(x);
    expect(relativeDifference(y, naive)).to.be.below(1e-5);
  });

  it('imports only what a value needs with `until`, and names a value no node produces', () => {
    const rng = new Rng(32);
    const W = weights(rng, 'W', [2, 3, 1, 1]);
    const Wfc = weights(rng, 'Wfc', [4, 8]);
    const nodes = [
      node('Conv', ['x', 'W'], ['c']),
      node('Relu', ['c'], ['r']),
      node('Flatten', ['r'], ['f']),
      node('Gemm', ['f', 'Wfc'], ['y'], { transB: int(1) }),
    ];
    const bytes = onnxModel(nodes, [W, Wfc], [1, 3, 2, 2], 'y');
    const { graph } = importOnnx(bytes, { until: 'r' });
    expect(graph.nodes.map((n) => n.name)).to.deep.equal(['c', 'r']);
    const x = randomTensor(new Rng(33), [1, 3, 2, 2], { dtype: 'float32' });
    const full = importOnnx(bytes)
      .graph.run(x, { taps: ['r'] })
      .taps.get('r')!;
    expect(toArray(graph.forward(x))).to.deep.equal(toArray(full));
    expect(() => importOnnx(bytes, { until: 'nowhere' })).to.throw(
      /no node produces value "nowhere"/,
    );
  });
});
