import { expect } from 'chai';
import { Rng, dot, zeros } from '../../lib/core/index.js';
import {
  CAFFE_VGG_PREPROCESSING,
  TORCH_VGG_PREPROCESSING,
  preprocess,
  preprocessBackward,
  vgg19,
  vgg19ConvNames,
  vgg19ConvsFromCaffe,
  vgg19ConvsFromStateDict,
  type ConvWeights,
  type WeightBlob,
} from '../../lib/style/index.js';

function blob(shape: number[], seed = 0): WeightBlob {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float32Array.from({ length: n }, (_, i) => Math.sin(i + seed) * 0.1) };
}

// conv1_1 … conv2_1 of VGG-19 (the rest of the file is not needed up to relu2_1).
function firstConvs(): Map<string, ConvWeights> {
  return new Map([
    ['conv1_1', { weight: blob([64, 3, 3, 3]), bias: blob([64]) }],
    ['conv1_2', { weight: blob([64, 64, 3, 3]), bias: blob([64]) }],
    ['conv2_1', { weight: blob([128, 64, 3, 3]), bias: blob([128]) }],
  ]);
}

describe('vgg19', () => {
  it('lists the 16 conv layers of configuration E', () => {
    const names = vgg19ConvNames();
    expect(names).to.have.length(16);
    expect(names.slice(0, 3)).to.deep.equal(['conv1_1', 'conv1_2', 'conv2_1']);
    expect(names[15]).to.equal('conv5_4');
  });

  it('builds the layers up to the deepest one asked for, named like the Caffe model', () => {
    const net = vgg19(firstConvs(), CAFFE_VGG_PREPROCESSING, { upTo: 'relu2_1' });
    expect(net.layerNames).to.deep.equal([
      ...['conv1_1', 'relu1_1', 'conv1_2', 'relu1_2'],
      ...['pool1', 'conv2_1', 'relu2_1'],
    ]);
    expect(net.preprocessing.channelOrder).to.equal('bgr');
  });

  it('ends exactly at a pooling or conv layer asked for (no layer past it)', () => {
    const names = (upTo: string) =>
      vgg19(firstConvs(), CAFFE_VGG_PREPROCESSING, { upTo }).layerNames;
    expect(names('pool1')).to.deep.equal(['conv1_1', 'relu1_1', 'conv1_2', 'relu1_2', 'pool1']);
    expect(names('conv1_2')).to.deep.equal(['conv1_1', 'relu1_1', 'conv1_2']);
  });

  it('names the file and the missing layer when weights are absent', () => {
    expect(() =>
      vgg19(firstConvs(), CAFFE_VGG_PREPROCESSING, { upTo: 'relu3_1', file: 'x.caffemodel' }),
    ).to.throw(/x\.caffemodel: no weights for VGG-19 layer conv2_2/);
  });

  it('refuses a blob of the wrong shape, naming both shapes', () => {
    const convs = firstConvs();
    convs.set('conv1_1', { weight: blob([64, 3, 5, 5]), bias: blob([64]) });
    expect(() => vgg19(convs, TORCH_VGG_PREPROCESSING, { upTo: 'relu1_1' })).to.throw(
      /conv1_1 weight has shape \[64, 3, 5, 5\], VGG-19 needs \[64, 3, 3, 3\]/,
    );
  });

  it('accepts old Caffe biases of shape [1, 1, 1, F]', () => {
    const convs = new Map([
      ['conv1_1', { weight: blob([64, 3, 3, 3]), bias: blob([1, 1, 1, 64]) }],
    ]);
    expect(vgg19(convs, CAFFE_VGG_PREPROCESSING, { upTo: 'relu1_1' }).layerNames).to.have.length(2);
  });

  it('maps Caffe layers conv1_1 … by name and ignores the rest', () => {
    const layers = [
      { name: 'conv1_1', blobs: [blob([64, 3, 3, 3]), blob([64])] },
      { name: 'fc6', blobs: [blob([2, 2])] },
    ];
    const convs = vgg19ConvsFromCaffe(layers);
    expect([...convs.keys()]).to.deep.equal(['conv1_1']);
  });

  it('maps torchvision’s features.0, features.2, features.5 … onto conv1_1, conv1_2, conv2_1', () => {
    const sd = new Map<string, WeightBlob>([
      ['features.0.weight', blob([64, 3, 3, 3])],
      ['features.0.bias', blob([64])],
      ['features.2.weight', blob([64, 64, 3, 3])],
      ['features.2.bias', blob([64])],
      ['features.5.weight', blob([128, 64, 3, 3])],
      ['features.5.bias', blob([128])],
      ['classifier.0.weight', blob([4, 4])],
    ]);
    const convs = vgg19ConvsFromStateDict(sd);
    expect([...convs.keys()]).to.deep.equal(['conv1_1', 'conv1_2', 'conv2_1']);
    expect(convs.get('conv2_1')!.weight.shape).to.deep.equal([128, 64, 3, 3]);
  });

  it('says what it found when a state dict holds no VGG-19 conv weights', () => {
    const sd = new Map<string, WeightBlob>([['layer1.weight', blob([2])]]);
    expect(() => vgg19ConvsFromStateDict(sd, 'r.safetensors')).to.throw(
      /r\.safetensors: no VGG-19.*layer1\.weight/,
    );
  });
});

describe('preprocessing', () => {
  it('turns an RGB pixel into Caffe’s BGR, 0–255, mean-subtracted input', () => {
    const image = zeros([3, 1, 1]);
    image.data.set([1, 0.5, 0]); // R, G, B
    const x = preprocess(image, CAFFE_VGG_PREPROCESSING, 'float64');
    expect(Array.from(x.data)).to.deep.equal([0 - 103.939, 127.5 - 116.779, 255 - 123.68]);
  });

  it('has a backward that is the adjoint of its linear part (⟨dx, P·v⟩ = ⟨Pᵀ·dx, v⟩)', () => {
    const rng = new Rng(3);
    for (const p of [CAFFE_VGG_PREPROCESSING, TORCH_VGG_PREPROCESSING]) {
      const v = rng.fillNormal(zeros([3, 2, 3]));
      const dx = rng.fillNormal(zeros([1, 3, 2, 3]));
      const pv = preprocess(v, p, 'float64');
      const p0 = preprocess(zeros([3, 2, 3]), p, 'float64');
      for (let i = 0; i < pv.data.length; i++) pv.data[i] -= p0.data[i]!;
      const back = preprocessBackward(zeros([3, 2, 3]), dx, p);
      expect(dot(dx, pv)).to.be.closeTo(dot(back, v), 1e-9);
    }
  });
});
