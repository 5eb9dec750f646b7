import { expect } from 'chai';
import { Rng, checkGradients, residentAddress, zeros } from '../../lib/core/index.js';
import { conv2dForward, convGeometry } from '../../lib/cnn/index.js';
import {
  RANDOM_PREPROCESSING,
  SequentialFeatureNet,
  StyleTransferLoss,
  randomVgg,
  type NetLayer,
  type Pooling,
} from '../../lib/style/index.js';

describe('randomVgg', () => {
  it('names its layers conv1, relu1, pool1, …, conv5, relu5', () => {
    expect(randomVgg().layerNames).to.deep.equal([
      ...['conv1', 'relu1'],
      ...['pool1', 'conv2', 'relu2'],
      ...['pool2', 'conv3', 'relu3'],
      ...['pool3', 'conv4', 'relu4'],
      ...['pool4', 'conv5', 'relu5'],
    ]);
  });

  it('costs the 729 M multiply-adds the experiment counted at 256×170', () => {
    const { macs } = randomVgg().cost(170, 256, ['relu5']);
    expect(macs / 1e6).to.be.closeTo(728.8, 0.5);
  });

  it('draws the same weights for the same seed and different ones for another', () => {
    const w = (seed: number) => {
      const l = randomVgg({ seed }).layers[0]!;
      return l.kind === 'conv' ? Array.from(l.weight.data.subarray(0, 5)) : [];
    };
    expect(w(3)).to.deep.equal(w(3));
    expect(w(3)).to.not.deep.equal(w(4));
  });

  it('returns activations of the tapped layers with the pooled sizes (floor: 13 → 6 → 3)', () => {
    const net = randomVgg({ widths: [4, 5, 6] });
    const taps = net.forward(zeros([1, 3, 13, 9], 'float32'), ['relu1', 'pool1', 'relu3']);
    expect(taps.get('relu1')!.shape).to.deep.equal([1, 4, 13, 9]);
    expect(taps.get('pool1')!.shape).to.deep.equal([1, 4, 6, 4]);
    expect(taps.get('relu3')!.shape).to.deep.equal([1, 6, 3, 2]);
  });

  it('says which pooling runs out of pixels when the input is too small', () => {
    expect(() => randomVgg().forward(zeros([1, 3, 15, 24], 'float32'), ['relu5'])).to.throw(
      /15×24 px is too small for layer relu5: pool4 would get 1×3/,
    );
  });

  it('reuses its activation and gradient buffers when the shapes repeat, and gives the same values', () => {
    const net = randomVgg({ widths: [4, 5, 6], seed: 1 });
    const rng = new Rng(5);
    const x = rng.fillUniform(zeros([1, 3, 13, 9], 'float32'), 0, 1);
    const dTap = rng.fillUniform(zeros([1, 6, 3, 2], 'float32'), -1, 1);
    const run = () => {
      const y = net.forward(x, ['relu3']).get('relu3')!;
      const values = Array.from(y.data);
      const dx = net.backward(new Map([['relu3', dTap]]));
      return { y, values, dx, grad: Array.from(dx.data) };
    };
    const first = run();
    const second = run();
    expect(second.y).to.equal(first.y);
    expect(second.dx).to.equal(first.dx);
    expect(second.values).to.deep.equal(first.values);
    expect(second.grad).to.deep.equal(first.grad);
    expect(first.grad.some((g) => g !== 0)).to.equal(true);
    // A new image size gets new buffers of the new shape.
    const bigger = net.forward(zeros([1, 3, 17, 9], 'float32'), ['relu3']).get('relu3')!;
    expect(bigger).to.not.equal(first.y);
    expect(bigger.shape).to.deep.equal([1, 6, 4, 2]);
  });

  // Frozen float32 conv weights are copied into kernel memory once, so the conv kernels read them
  // in place instead of staging them call by call: the same values (so the same outputs), and the
  // caller's tensors untouched; float64 weights stay as they are.
  it('keeps its own copy of float32 conv weights in kernel memory, and the caller’s as they were', () => {
    const rng = new Rng(8);
    const weight = rng.fillNormal(zeros([4, 3, 3, 3], 'float32'));
    const weight64 = rng.fillNormal(zeros([4, 4, 3, 3]));
    const before = Array.from(weight.data);
    const net = new SequentialFeatureNet(
      [
        { kind: 'conv', name: 'conv1', weight, bias: null, pad: 1 },
        { kind: 'conv', name: 'conv2', weight: weight64, bias: null, pad: 1 },
      ],
      RANDOM_PREPROCESSING,
    );
    const [conv1, conv2] = net.layers as [NetLayer & { kind: 'conv' }, NetLayer & { kind: 'conv' }];
    expect(residentAddress(conv1.weight.data, 0)).to.not.equal(null);
    expect(conv1.weight).to.not.equal(weight);
    expect(Array.from(conv1.weight.data)).to.deep.equal(before);
    expect(Array.from(weight.data)).to.deep.equal(before);
    expect(residentAddress(weight.data, 0)).to.equal(null);
    expect(conv2.weight).to.equal(weight64);
    // The copy convolves to the bits of the caller's weights.
    const x = rng.fillUniform(zeros([1, 3, 7, 6], 'float32'), 0, 1);
    const y = net.forward(x, ['conv1']).get('conv1')!;
    const direct = zeros([1, 4, 7, 6], 'float32');
    conv2dForward(direct, x, weight, null, convGeometry(x.shape, weight.shape, { pad: 1 }));
    expect(Array.from(y.data)).to.deep.equal(Array.from(direct.data));
  });

  it('throws when backward is called before forward', () => {
    expect(() => randomVgg().backward(new Map())).to.throw(/before forward/);
  });

  for (const pooling of ['max', 'avg'] as Pooling[]) {
    it(`carries the style-transfer loss’s gradient to the pixels through 3 blocks with ${pooling} pooling`, () => {
      const rng = new Rng(21);
      const content = rng.fillUniform(zeros([3, 10, 12]), 0.1, 0.9);
      const style = rng.fillUniform(zeros([3, 12, 10]), 0.1, 0.9);
      const image = rng.fillUniform(zeros([3, 10, 12]), 0.1, 0.9);
      const net = randomVgg({ widths: [4, 5, 6], pooling, dtype: 'float64', seed: 2 });
      const loss = new StyleTransferLoss(net, content, [{ image: style, weight: 1 }], {
        contentLayers: [{ layer: 'relu2', weight: 1 }],
        styleLayers: ['relu1', 'pool1', 'relu2', 'relu3'].map((layer) => ({ layer, weight: 0.25 })),
        styleWeight: 5,
        tvWeight: 0.5,
        statistic: 'centred',
        normalize: 'target',
        dtype: 'float64',
      });
      const dImage = zeros([3, 10, 12]);
      loss.evaluate(image, dImage);
      const r = checkGradients(
        () => loss.evaluate(image).total,
        [{ name: 'image', value: image, grad: dImage }],
      );
      // Whole network down to the pixels: typically 1e-8; the class tolerance is 1e-5 (STYLE C4).
      expect(r.maxError).to.be.below(1e-5, r.describe());
    });
  }
});
