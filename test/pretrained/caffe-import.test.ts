import { expect } from 'chai';
import {
  Rng,
  ShapeError,
  checkLayerGradients,
  tensor,
  toArray,
  type Tensor,
} from '../../lib/core/index.js';
import { ReLU } from '../../lib/mlp/index.js';
import { Conv2d } from '../../lib/cnn/index.js';
import {
  BatchNorm2d,
  ChannelScale,
  Concat,
  Dropout,
  EltwiseSum,
  FlattenFrom,
  Graph,
  ImportError,
  LRN,
  Softmax,
  importCaffe,
  parameterCount,
  setCaffeBatchNormStats,
  type ConvSpec,
  type GraphNode,
} from '../../lib/pretrained/index.js';
import { Linear } from '../../lib/mlp/index.js';
import { FormatError } from '../../lib/style/formats/index.js';
import { encodeCaffeModel, type CaffeLayerWeights } from '../../lib/pretrained/index.js';
import { naiveKit } from './kit.js';
import { randomTensor, relativeDifference } from './helpers.js';

const f32 = (rng: Rng, n: number): Float32Array =>
  Float32Array.from({ length: n }, () => Math.fround(rng.normal(0, 0.5)));

function conv(
  spec: Partial<ConvSpec> & Pick<ConvSpec, 'name' | 'inChannels' | 'outChannels'>,
  w: Float32Array,
  b?: Float32Array,
) {
  const k = spec.kernel ?? [1, 1];
  const layer = naiveKit.conv2d({
    kernel: k,
    stride: [1, 1],
    pad: [0, 0, 0, 0],
    dilation: [1, 1],
    group: 1,
    bias: b !== undefined,
    dtype: 'float32',
    ...spec,
  });
  const [weight, bias] = layer.params();
  weight!.value.data.set(w);
  if (b) bias!.value.data.set(b);
  return layer;
}

function linear(name: string, inF: number, out: number, w: Float32Array, b: Float32Array): Linear {
  const fc = new Linear(inF, out, { rng: new Rng(1), name, dtype: 'float32' });
  fc.weight.value.data.set(w);
  fc.bias.value.data.set(b);
  return fc;
}

// --- a tiny GoogLeNet: conv, in-place ReLU, ceil-mode pooling, LRN, an inception block --------
const INCEPTION_PROTOTXT = `
name: "tiny_inception"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 9 dim: 8 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 4 kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "norm1" type: "LRN" bottom: "pool1" top: "norm1"
  lrn_param { local_size: 3 alpha: 0.5 beta: 0.75 } }
layer { name: "b1" type: "Convolution" bottom: "norm1" top: "b1" convolution_param { num_output: 2 kernel_size: 1 } }
layer { name: "b2" type: "Convolution" bottom: "norm1" top: "b2"
  convolution_param { num_output: 3 kernel_size: 3 pad: 1 } }
layer { name: "b2_relu" type: "ReLU" bottom: "b2" top: "b2" }
layer { name: "b3_pool" type: "Pooling" bottom: "norm1" top: "b3_pool"
  pooling_param { pool: AVE kernel_size: 3 stride: 1 pad: 1 } }
layer { name: "b3" type: "Convolution" bottom: "b3_pool" top: "b3"
  convolution_param { num_output: 1 kernel_size: 1 bias_term: false } }
layer { name: "inception/output" type: "Concat" bottom: "b1" bottom: "b2" bottom: "b3" top: "inception/output" }
layer { name: "drop" type: "Dropout" bottom: "inception/output" top: "inception/output"
  dropout_param { dropout_ratio: 0.4 } }
layer { name: "gap" type: "Pooling" bottom: "inception/output" top: "gap"
  pooling_param { pool: AVE global_pooling: true } }
layer { name: "fc" type: "InnerProduct" bottom: "gap" top: "fc" inner_product_param { num_output: 5 } }
layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
`;

function inceptionWeights(seed: number) {
  const rng = new Rng(seed);
  return {
    conv1: [f32(rng, 4 * 3 * 9), f32(rng, 4)],
    b1: [f32(rng, 2 * 4), f32(rng, 2)],
    b2: [f32(rng, 3 * 4 * 9), f32(rng, 3)],
    b3: [f32(rng, 4)],
    fc: [f32(rng, 5 * 6), f32(rng, 5)],
  } as const;
}

function inceptionModel(w: ReturnType<typeof inceptionWeights>): Uint8Array {
  const layers: CaffeLayerWeights[] = [
    {
      name: 'conv1',
      type: 'Convolution',
      blobs: [
        { shape: [4, 3, 3, 3], data: w.conv1[0] },
        { shape: [4], data: w.conv1[1] },
      ],
    },
    {
      name: 'b1',
      type: 'Convolution',
      blobs: [
        { shape: [2, 4, 1, 1], data: w.b1[0] },
        { shape: [2], data: w.b1[1] },
      ],
    },
    {
      name: 'b2',
      type: 'Convolution',
      blobs: [
        { shape: [3, 4, 3, 3], data: w.b2[0] },
        { shape: [3], data: w.b2[1] },
      ],
    },
    { name: 'b3', type: 'Convolution', blobs: [{ shape: [1, 4, 1, 1], data: w.b3[0] }] },
    {
      name: 'fc',
      type: 'InnerProduct',
      blobs: [
        { shape: [5, 6], data: w.fc[0] },
        { shape: [5], data: w.fc[1] },
      ],
    },
  ];
  return encodeCaffeModel(layers, 'V2');
}

// The same network, built by hand from the same weights.
function inceptionByHand(w: ReturnType<typeof inceptionWeights>): Graph {
  const pool = (name: string, kind: 'max' | 'avg', k: number, s: number, p: number) =>
    naiveKit.pool2d({
      name,
      kind,
      kernel: [k, k],
      stride: [s, s],
      pad: [p, p, p, p],
      ceilMode: true,
      countPadding: true,
    });
  const nodes: GraphNode[] = [
    {
      name: 'conv1',
      input: 'data',
      layer: conv(
        {
          name: 'conv1',
          inChannels: 3,
          outChannels: 4,
          kernel: [3, 3],
          stride: [2, 2],
          pad: [1, 1, 1, 1],
        },
        w.conv1[0],
        w.conv1[1],
      ),
    },
    { name: 'relu1', input: 'conv1', layer: new ReLU() },
    { name: 'pool1', input: 'relu1', layer: pool('pool1', 'max', 3, 2, 0) },
    { name: 'norm1', input: 'pool1', layer: new LRN(3, { alpha: 0.5, beta: 0.75 }) },
    {
      name: 'b1',
      input: 'norm1',
      layer: conv({ name: 'b1', inChannels: 4, outChannels: 2 }, w.b1[0], w.b1[1]),
    },
    {
      name: 'b2',
      input: 'norm1',
      layer: conv(
        { name: 'b2', inChannels: 4, outChannels: 3, kernel: [3, 3], pad: [1, 1, 1, 1] },
        w.b2[0],
        w.b2[1],
      ),
    },
    { name: 'b2_relu', input: 'b2', layer: new ReLU() },
    { name: 'b3_pool', input: 'norm1', layer: pool('b3_pool', 'avg', 3, 1, 1) },
    {
      name: 'b3',
      input: 'b3_pool',
      layer: conv({ name: 'b3', inChannels: 4, outChannels: 1 }, w.b3[0]),
    },
    { name: 'cat', inputs: ['b1', 'b2_relu', 'b3'], merge: new Concat() },
    { name: 'drop', input: 'cat', layer: new Dropout(0.4, { mode: 'eval' }) },
    { name: 'gap', input: 'drop', layer: naiveKit.globalPool2d({ name: 'gap', kind: 'avg' }) },
    { name: 'flat', input: 'gap', layer: new FlattenFrom() },
    { name: 'fc', input: 'flat', layer: linear('fc', 6, 5, w.fc[0], w.fc[1]) },
    { name: 'prob', input: 'fc', layer: new Softmax() },
  ];
  return new Graph(nodes);
}

// --- a tiny ResNet: Caffe's BatchNorm + Scale pairs in place, an identity shortcut ------------
const RESNET_PROTOTXT = `
input: "data"
input_dim: 1 input_dim: 2 input_dim: 4 input_dim: 5
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 3 kernel_size: 3 pad: 1 bias_term: false } }
layer { name: "bn_conv1" type: "BatchNorm" bottom: "conv1" top: "conv1" batch_norm_param { use_global_stats: true } }
layer { name: "scale_conv1" type: "Scale" bottom: "conv1" top: "conv1" scale_param { bias_term: true } }
layer { name: "conv1_relu" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "res2a_branch2a" type: "Convolution" bottom: "conv1" top: "res2a_branch2a"
  convolution_param { num_output: 3 kernel_size: 1 bias_term: false } }
layer { name: "bn2a" type: "BatchNorm" bottom: "res2a_branch2a" top: "res2a_branch2a" }
layer { name: "scale2a" type: "Scale" bottom: "res2a_branch2a" top: "res2a_branch2a" scale_param { bias_term: true } }
layer { name: "res2a" type: "Eltwise" bottom: "conv1" bottom: "res2a_branch2a" top: "res2a" }
layer { name: "res2a_relu" type: "ReLU" bottom: "res2a" top: "res2a" }
layer { name: "pool5" type: "Pooling" bottom: "res2a" top: "pool5" pooling_param { pool: AVE global_pooling: true } }
layer { name: "fc_nsfw" type: "InnerProduct" bottom: "pool5" top: "fc_nsfw" inner_product_param { num_output: 2 } }
layer { name: "prob" type: "Softmax" bottom: "fc_nsfw" top: "prob" }
`;

function resnetWeights(seed: number) {
  const rng = new Rng(seed);
  const positive = (n: number) =>
    Float32Array.from({ length: n }, () => Math.fround(rng.uniform(0.5, 2)));
  return {
    conv1: f32(rng, 3 * 2 * 9),
    bn1: [f32(rng, 3), positive(3), Float32Array.of(2)],
    scale1: [f32(rng, 3), f32(rng, 3)],
    conv2a: f32(rng, 9),
    bn2a: [f32(rng, 3), positive(3), Float32Array.of(0.5)],
    scale2a: [f32(rng, 3), f32(rng, 3)],
    fc: [f32(rng, 6), f32(rng, 2)],
  } as const;
}

function resnetModel(w: ReturnType<typeof resnetWeights>): Uint8Array {
  const vec = (data: Float32Array) => ({ shape: [data.length], data });
  return encodeCaffeModel(
    [
      { name: 'conv1', type: 'Convolution', blobs: [{ shape: [3, 2, 3, 3], data: w.conv1 }] },
      { name: 'bn_conv1', type: 'BatchNorm', blobs: w.bn1.map(vec) },
      { name: 'scale_conv1', type: 'Scale', blobs: w.scale1.map(vec) },
      {
        name: 'res2a_branch2a',
        type: 'Convolution',
        blobs: [{ shape: [3, 3, 1, 1], data: w.conv2a }],
      },
      { name: 'bn2a', type: 'BatchNorm', blobs: w.bn2a.map(vec) },
      { name: 'scale2a', type: 'Scale', blobs: w.scale2a.map(vec) },
      {
        name: 'fc_nsfw',
        type: 'InnerProduct',
        blobs: [{ shape: [2, 3], data: w.fc[0] }, vec(w.fc[1])],
      },
    ],
    'V2',
  );
}

function resnetByHand(w: ReturnType<typeof resnetWeights>): Graph {
  const bn = (name: string, blobs: readonly Float32Array[]) => {
    const layer = new BatchNorm2d(3, { name, affine: false, dtype: 'float32' });
    setCaffeBatchNormStats(layer, blobs[0]!, blobs[1]!, blobs[2]!);
    return layer;
  };
  const scale = (name: string, blobs: readonly Float32Array[]) => {
    const layer = new ChannelScale(3, { name, bias: true, dtype: 'float32' });
    layer.weight.value.data.set(blobs[0]!);
    layer.bias!.value.data.set(blobs[1]!);
    return layer;
  };
  return new Graph([
    {
      name: 'conv1',
      input: 'data',
      layer: conv(
        { name: 'conv1', inChannels: 2, outChannels: 3, kernel: [3, 3], pad: [1, 1, 1, 1] },
        w.conv1,
      ),
    },
    { name: 'bn1', input: 'conv1', layer: bn('bn1', w.bn1) },
    { name: 'scale1', input: 'bn1', layer: scale('scale1', w.scale1) },
    { name: 'relu1', input: 'scale1', layer: new ReLU() },
    {
      name: 'branch',
      input: 'relu1',
      layer: conv({ name: 'branch', inChannels: 3, outChannels: 3 }, w.conv2a),
    },
    { name: 'bn2a', input: 'branch', layer: bn('bn2a', w.bn2a) },
    { name: 'scale2a', input: 'bn2a', layer: scale('scale2a', w.scale2a) },
    { name: 'sum', inputs: ['relu1', 'scale2a'], merge: new EltwiseSum() },
    { name: 'relu2', input: 'sum', layer: new ReLU() },
    { name: 'gap', input: 'relu2', layer: naiveKit.globalPool2d({ name: 'gap', kind: 'avg' }) },
    { name: 'flat', input: 'gap', layer: new FlattenFrom() },
    { name: 'fc', input: 'flat', layer: linear('fc', 3, 2, w.fc[0], w.fc[1]) },
    { name: 'prob', input: 'fc', layer: new Softmax() },
  ]);
}

// --- a tiny VGG in the V1 form (enum types, legacy 4-D blobs) ----------------------------------
const V1_PROTOTXT = `
name: "tiny_vgg_v1"
input: "data"
input_dim: 2 input_dim: 3 input_dim: 6 input_dim: 6
layers { name: "conv1_1" type: CONVOLUTION bottom: "data" top: "conv1_1"
  convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
layers { name: "relu1_1" type: RELU bottom: "conv1_1" top: "conv1_1" }
layers { name: "pool1" type: POOLING bottom: "conv1_1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layers { name: "fc6" type: INNER_PRODUCT bottom: "pool1" top: "fc6" inner_product_param { num_output: 3 } }
layers { name: "drop6" type: DROPOUT bottom: "fc6" top: "fc6" dropout_param { dropout_ratio: 0.5 } }
layers { name: "prob" type: SOFTMAX bottom: "fc6" top: "prob" }
`;

describe('importCaffe', () => {
  it('imports a tiny GoogLeNet (V2 layers) with outputs identical to the net built by hand', () => {
    const w = inceptionWeights(1);
    const { graph, inputShape } = importCaffe(INCEPTION_PROTOTXT, inceptionModel(w), {
      kit: naiveKit,
    });
    expect(inputShape).to.deep.equal([1, 3, 9, 8]);
    const x = randomTensor(new Rng(2), [1, 3, 9, 8], { dtype: 'float32' });
    const y = graph.forward(x);
    expect(y.shape).to.deep.equal([1, 5]);
    expect(toArray(y)).to.deep.equal(toArray(inceptionByHand(w).forward(x)));
  });

  it('names each blob after its last in-place layer and taps any of them', () => {
    const { graph, tensors } = importCaffe(
      INCEPTION_PROTOTXT,
      inceptionModel(inceptionWeights(1)),
      { kit: naiveKit },
    );
    expect(tensors.get('conv1')).to.equal('relu1');
    expect(tensors.get('inception/output')).to.equal('drop');
    const x = randomTensor(new Rng(3), [1, 3, 9, 8], { dtype: 'float32' });
    const { taps } = graph.run(x, { taps: [tensors.get('pool1')!] });
    // pool1 is 2 × 2 only because Caffe rounds up: floor mode would give a width of 1.
    expect(taps.get('pool1')!.shape).to.deep.equal([1, 4, 2, 2]);
  });

  it('lists the layer table with parameter counts that add up', () => {
    const { graph } = importCaffe(INCEPTION_PROTOTXT, inceptionModel(inceptionWeights(1)), {
      kit: naiveKit,
    });
    const rows = graph.summary();
    expect(rows.find((r) => r.name === 'conv1')?.params).to.equal(4 * 3 * 9 + 4);
    expect(rows.find((r) => r.name === 'fc/flatten')?.kind).to.equal('FlattenFrom');
    expect(parameterCount(graph)).to.equal(112 + 10 + 111 + 4 + 35);
  });

  it('imports a tiny ResNet (BatchNorm + Scale in place, Eltwise) identical to the hand-built net', () => {
    const w = resnetWeights(4);
    const { graph, inputShape } = importCaffe(RESNET_PROTOTXT, resnetModel(w), { kit: naiveKit });
    expect(inputShape).to.deep.equal([1, 2, 4, 5]);
    const x = randomTensor(new Rng(5), [1, 2, 4, 5], { dtype: 'float32' });
    expect(toArray(graph.forward(x))).to.deep.equal(toArray(resnetByHand(w).forward(x)));
  });

  it('imports the V1 `layers` form with legacy 4-D blob shapes', () => {
    const rng = new Rng(6);
    const w = {
      conv: f32(rng, 4 * 3 * 9),
      convB: f32(rng, 4),
      fc: f32(rng, 3 * 36),
      fcB: f32(rng, 3),
    };
    // V1 type enums: CONVOLUTION 4, INNER_PRODUCT 14.
    const model = encodeCaffeModel(
      [
        {
          name: 'conv1_1',
          type: 4,
          blobs: [
            { shape: [4, 3, 3, 3], data: w.conv },
            { shape: [4], data: w.convB },
          ],
        },
        {
          name: 'fc6',
          type: 14,
          blobs: [
            { shape: [3, 36], data: w.fc },
            { shape: [3], data: w.fcB },
          ],
        },
      ],
      'V1',
    );
    const { graph, inputShape } = importCaffe(V1_PROTOTXT, model, { kit: naiveKit });
    expect(inputShape).to.deep.equal([2, 3, 6, 6]);
    const byHand = new Graph([
      {
        name: 'conv',
        input: 'data',
        layer: conv(
          { name: 'conv', inChannels: 3, outChannels: 4, kernel: [3, 3], pad: [1, 1, 1, 1] },
          w.conv,
          w.convB,
        ),
      },
      { name: 'relu', input: 'conv', layer: new ReLU() },
      {
        name: 'pool',
        input: 'relu',
        layer: naiveKit.pool2d({
          name: 'pool',
          kind: 'max',
          kernel: [2, 2],
          stride: [2, 2],
          pad: [0, 0, 0, 0],
          ceilMode: true,
          countPadding: true,
        }),
      },
      { name: 'flat', input: 'pool', layer: new FlattenFrom() },
      { name: 'fc', input: 'flat', layer: linear('fc', 36, 3, w.fc, w.fcB) },
      { name: 'prob', input: 'fc', layer: new Softmax() },
    ]);
    const x = randomTensor(new Rng(7), [2, 3, 6, 6], { dtype: 'float32' });
    const y = graph.forward(x);
    expect(toArray(y)).to.deep.equal(toArray(byHand.forward(x)));
    expect(toArray(y.pick(0, null) as Tensor).reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-6);
  });

  it('imports with float64 parameters when asked', () => {
    const w = resnetWeights(8);
    const { graph } = importCaffe(RESNET_PROTOTXT, resnetModel(w), {
      kit: naiveKit,
      dtype: 'float64',
    });
    for (const p of graph.params()) expect(p.value.data).to.be.instanceOf(Float64Array);
    const y = graph.forward(randomTensor(new Rng(9), [1, 2, 4, 5]));
    expect(y.data).to.be.instanceOf(Float64Array);
    expect(toArray(y).reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-12);
  });

  it('imports only what a blob needs with `until`, without the later layers or their weights', () => {
    const w = inceptionWeights(1);
    const { graph } = importCaffe(INCEPTION_PROTOTXT, inceptionModel(w), {
      kit: naiveKit,
      until: 'inception/output',
    });
    expect(graph.nodes.map((n) => n.name)).to.not.include('fc');
    expect(graph.nodes.map((n) => n.name)).to.include('drop'); // in place on the blob: kept
    const x = randomTensor(new Rng(14), [1, 3, 9, 8], { dtype: 'float32' });
    const full = inceptionByHand(w)
      .run(x, { taps: ['drop'] })
      .taps.get('drop')!;
    expect(toArray(graph.forward(x))).to.deep.equal(toArray(full));
    const noFcWeights = encodeCaffeModel([
      {
        name: 'conv1',
        type: 'Convolution',
        blobs: [
          { shape: [4, 3, 3, 3], data: w.conv1[0] },
          { shape: [4], data: w.conv1[1] },
        ],
      },
    ]);
    const stem = importCaffe(INCEPTION_PROTOTXT, noFcWeights, {
      kit: naiveKit,
      until: 'conv1',
    }).graph;
    expect(stem.nodes.map((n) => n.name)).to.deep.equal(['conv1', 'relu1']);
    expect(() => importCaffe(INCEPTION_PROTOTXT, noFcWeights, { until: 'nowhere' })).to.throw(
      /no layer produces blob "nowhere"/,
    );
  });

  it('throws naming an unknown layer type and its layer', () => {
    const proto = INCEPTION_PROTOTXT.replace(
      'name: "relu1" type: "ReLU"',
      'name: "relu1" type: "PReLU"',
    );
    expect(() =>
      importCaffe(proto, inceptionModel(inceptionWeights(1)), { kit: naiveKit }),
    ).to.throw(ImportError, /layer "relu1" \(PReLU\): unknown layer type/);
  });

  it('throws naming the layer when the caffemodel does not fit the prototxt', () => {
    const model = inceptionModel(inceptionWeights(1));
    const fewerOutputs = INCEPTION_PROTOTXT.replace('num_output: 5', 'num_output: 4');
    expect(() => importCaffe(fewerOutputs, model, { kit: naiveKit })).to.throw(
      ShapeError,
      /layer "fc" \(InnerProduct\) weights.*num_output 4: got shape \[5, 6\], expected \[4, 6\]/,
    );
    const widerKernel = INCEPTION_PROTOTXT.replace(
      'num_output: 4 kernel_size: 3',
      'num_output: 4 kernel_size: 5',
    );
    expect(() => importCaffe(widerKernel, model, { kit: naiveKit })).to.throw(
      ShapeError,
      /layer "conv1" \(Convolution\) blob 0 \(weights\).*got shape \[4, 3, 3, 3\], expected \[4, 3, 5, 5\]/,
    );
  });

  it('throws naming the layer whose weights the caffemodel lacks', () => {
    const proto = INCEPTION_PROTOTXT.replace(/"b3"/g, '"b3_renamed"');
    expect(() =>
      importCaffe(proto, inceptionModel(inceptionWeights(1)), { kit: naiveKit }),
    ).to.throw(ImportError, /layer "b3_renamed" \(Convolution\): has no weights in the caffemodel/);
  });

  it('throws a FormatError naming the file for a truncated caffemodel', () => {
    const model = inceptionModel(inceptionWeights(1));
    expect(() =>
      importCaffe(INCEPTION_PROTOTXT, model.subarray(0, model.length - 9), {
        kit: naiveKit,
        file: 'tiny.caffemodel',
      }),
    ).to.throw(FormatError, /tiny\.caffemodel/);
  });

  it("runs on chapter 4's layers by default, matching the naive kit (ceil pooling, padded averages)", () => {
    const model = inceptionModel(inceptionWeights(1));
    const fast = importCaffe(INCEPTION_PROTOTXT, model).graph;
    const naive = importCaffe(INCEPTION_PROTOTXT, model, { kit: naiveKit }).graph;
    const x = randomTensor(new Rng(10), [2, 3, 9, 8], { dtype: 'float32' });
    const taps = ['pool1', 'b3_pool', 'drop', 'prob'];
    const a = fast.run(x, { taps }).taps;
    const b = naive.run(x, { taps }).taps;
    for (const t of taps) expect(relativeDifference(a.get(t)!, b.get(t)!), t).to.be.below(1e-5);
    const r = resnetModel(resnetWeights(4));
    const y = randomTensor(new Rng(11), [1, 2, 4, 5], { dtype: 'float32' });
    expect(
      relativeDifference(
        importCaffe(RESNET_PROTOTXT, r).graph.forward(y),
        importCaffe(RESNET_PROTOTXT, r, { kit: naiveKit }).graph.forward(y),
      ),
    ).to.be.below(1e-5);
  });

  it('backpropagates through an imported GoogLeNet-like net (float64 gradient check, sampled)', () => {
    const { graph } = importCaffe(INCEPTION_PROTOTXT, inceptionModel(inceptionWeights(1)), {
      dtype: 'float64',
    });
    const report = checkLayerGradients(graph, randomTensor(new Rng(12), [1, 3, 9, 8]), {
      sample: 25,
    });
    expect(report.reports).to.have.length(1 + graph.params().length);
    expect(report.maxError).to.be.below(1e-5, report.describe()); // whole network: typically ~1e-8
  });

  it('backpropagates through an imported ResNet-like net (float64 gradient check)', () => {
    const { graph } = importCaffe(RESNET_PROTOTXT, resnetModel(resnetWeights(4)), {
      dtype: 'float64',
    });
    const report = checkLayerGradients(graph, randomTensor(new Rng(13), [2, 2, 4, 5]), {
      sample: 25,
    });
    expect(report.maxError).to.be.below(1e-5, report.describe());
  });

  // --- grouped convolution: AlexNet's group 2, then a depthwise conv (group = channels) --------
  const GROUPED_PROTOTXT = `
name: "tiny_grouped"
input: "data"
input_shape { dim: 1 dim: 4 dim: 6 dim: 7 }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 6 kernel_size: 3 pad: 1 group: 2 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "dw" type: "Convolution" bottom: "conv1" top: "dw"
  convolution_param { num_output: 6 kernel_size: 3 stride: 2 group: 6 bias_term: false } }
`;

  function groupedWeights(seed: number) {
    const rng = new Rng(seed);
    return { conv1: [f32(rng, 6 * 2 * 9), f32(rng, 6)], dw: [f32(rng, 6 * 1 * 9)] } as const;
  }

  function groupedModel(w: ReturnType<typeof groupedWeights>): Uint8Array {
    return encodeCaffeModel([
      {
        name: 'conv1',
        type: 'Convolution',
        blobs: [
          { shape: [6, 2, 3, 3], data: w.conv1[0] },
          { shape: [6], data: w.conv1[1] },
        ],
      },
      { name: 'dw', type: 'Convolution', blobs: [{ shape: [6, 1, 3, 3], data: w.dw[0] }] },
    ]);
  }

  it('imports grouped convolutions (group 2 and depthwise) identical to Conv2d with groups by hand', () => {
    const w = groupedWeights(21);
    const imported = importCaffe(GROUPED_PROTOTXT, groupedModel(w)).graph;
    const t = (data: Float32Array, shape: number[]) => tensor(data.slice(), shape);
    const byHand = new Graph([
      {
        name: 'conv1',
        input: 'data',
        layer: new Conv2d(4, 6, 3, {
          groups: 2,
          pad: 1,
          weights: { weight: t(w.conv1[0], [6, 2, 3, 3]), bias: t(w.conv1[1], [6]) },
        }),
      },
      { name: 'relu1', input: 'conv1', layer: new ReLU() },
      {
        name: 'dw',
        input: 'relu1',
        layer: new Conv2d(6, 6, 3, {
          groups: 6,
          stride: 2,
          bias: false,
          weights: { weight: t(w.dw[0], [6, 1, 3, 3]) },
        }),
      },
    ]);
    const x = randomTensor(new Rng(22), [2, 4, 6, 7], { dtype: 'float32' });
    const y = imported.forward(x);
    expect(y.shape).to.deep.equal([2, 6, 2, 3]);
    expect(toArray(y)).to.deep.equal(toArray(byHand.forward(x)));
    // The naive kit's own grouped loop (test/pretrained/kit.ts) agrees too.
    const naive = importCaffe(GROUPED_PROTOTXT, groupedModel(w), { kit: naiveKit }).graph;
    expect(relativeDifference(y, naive.forward(x))).to.be.below(1e-5);
  });

  it('backpropagates through imported grouped convolutions (float64 gradient check)', () => {
    const { graph } = importCaffe(GROUPED_PROTOTXT, groupedModel(groupedWeights(23)), {
      dtype: 'float64',
    });
    const report = checkLayerGradients(graph, randomTensor(new Rng(24), [1, 4, 6, 7]));
    expect(report.reports.map((r) => r.name)).to.deep.equal([
      'input',
      'conv1.weight',
      'conv1.bias',
      'dw.weight',
    ]);
    expect(report.maxError).to.be.below(1e-6, report.describe());
  });

  it('throws naming the layer when num_output does not split into the groups', () => {
    const proto = GROUPED_PROTOTXT.replace(
      'num_output: 6 kernel_size: 3 pad: 1 group: 2',
      'num_output: 6 kernel_size: 3 pad: 1 group: 4',
    );
    const w = groupedWeights(25);
    // conv1's blob [6, 2, 3, 3] with group 4 means 8 input channels and 6 filters in 4 groups.
    expect(() => importCaffe(proto, groupedModel(w))).to.throw(
      RangeError,
      /Conv2d\(conv1\): 6 output channels do not split into 4 equal groups/,
    );
  });
});
