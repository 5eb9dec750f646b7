import { expect } from 'chai';
import { Rng, checkLayerGradients, fromArray, toArray, type Tensor } from '../../lib/core/index.js';
import { BatchNorm2d, ChannelScale, setCaffeBatchNormStats } from '../../lib/pretrained/index.js';
import { randomTensor, relativeDifference } from './helpers.js';

function setValues(t: Tensor, values: readonly number[]): void {
  values.forEach((v, i) => t.set(i, v));
}

// A BatchNorm2d over C channels with seeded random statistics and affine parameters.
function randomBatchNorm(rng: Rng, C: number, affine = true): BatchNorm2d {
  const bn = new BatchNorm2d(C, { affine, eps: 1e-3 });
  for (let c = 0; c < C; c++) {
    bn.runningMean.set(c, rng.normal());
    bn.runningVar.set(c, rng.uniform(0.5, 2));
    bn.weight?.value.set(c, rng.normal());
    bn.bias?.value.set(c, rng.normal());
  }
  return bn;
}

describe('BatchNorm2d', () => {
  it('forward matches the hand-computed 2-channel example', () => {
    // μ = [1, −1], σ² = [4, 0.25], ε = 0, γ = [2, 1], β = [0, 1]:
    // channel 0: (3 − 1)/2 · 2 + 0 = 2; channel 1: (0 + 1)/0.5 · 1 + 1 = 3.
    const bn = new BatchNorm2d(2, { eps: 0 });
    setValues(bn.runningMean, [1, -1]);
    setValues(bn.runningVar, [4, 0.25]);
    setValues(bn.weight!.value, [2, 1]);
    setValues(bn.bias!.value, [0, 1]);
    expect(toArray(bn.forward(fromArray([3, 0], [1, 2, 1, 1])))).to.deep.equal([2, 3]);
  });

  it('backward matches numerical gradient for x, weight and bias (strided input)', () => {
    const rng = new Rng(11);
    const x = randomTensor(rng, [2, 3, 4, 2], { strided: true });
    const report = checkLayerGradients(randomBatchNorm(rng, 3), x);
    expect(report.maxError).to.be.below(1e-6, report.describe()); // typically 1e-9…1e-11; rounding near 0 reaches ~1e-7
  });

  it('backward matches numerical gradient without affine parameters, on [N, C] input', () => {
    const rng = new Rng(12);
    const bn = randomBatchNorm(rng, 4, false);
    expect(bn.params()).to.deep.equal([]);
    const report = checkLayerGradients(bn, randomTensor(rng, [3, 4]));
    expect(report.maxError).to.be.below(1e-6, report.describe()); // typically 1e-9…1e-11; rounding near 0 reaches ~1e-7
  });

  it('reads Caffe statistics as running sums divided by the scale factor', () => {
    const bn = new BatchNorm2d(2, { affine: false });
    setCaffeBatchNormStats(bn, [4, -2], [8, 2], [2]);
    expect(toArray(bn.runningMean)).to.deep.equal([2, -1]);
    expect(toArray(bn.runningVar)).to.deep.equal([4, 1]);
    setCaffeBatchNormStats(bn, [4, -2], [8, 2], [0]);
    expect(toArray(bn.runningMean).every((v) => v === 0)).to.equal(true);
  });

  it("throws naming the layer when Caffe's blobs do not match the channels", () => {
    const bn = new BatchNorm2d(2, { name: 'bn_conv1', affine: false });
    expect(() => setCaffeBatchNormStats(bn, [1, 2, 3], [1, 2], [1])).to.throw(
      /BatchNorm\(bn_conv1\).*got shape \[3, 2, 1\], expected \[2, 2, 1\]/,
    );
  });

  it("Caffe's BatchNorm + Scale pair equals one affine BatchNorm2d (float32)", () => {
    const rng = new Rng(13);
    const C = 3;
    const whole = randomBatchNorm(rng, C);
    const norm = new BatchNorm2d(C, { affine: false, eps: whole.eps, dtype: 'float32' });
    const scale = new ChannelScale(C, { bias: true, dtype: 'float32' });
    for (let c = 0; c < C; c++) {
      norm.runningMean.set(c, whole.runningMean.get(c));
      norm.runningVar.set(c, whole.runningVar.get(c));
      scale.weight.value.set(c, whole.weight!.value.get(c));
      scale.bias!.value.set(c, whole.bias!.value.get(c));
    }
    const x = randomTensor(rng, [2, C, 3, 3], { dtype: 'float32' });
    const pair = scale.forward(norm.forward(x));
    expect(pair.data).to.be.instanceOf(Float32Array);
    expect(relativeDifference(pair, whole.forward(x))).to.be.below(1e-6);
  });
});

describe('ChannelScale', () => {
  it('forward computes γ_c x + β_c (worked example)', () => {
    const scale = new ChannelScale(2, { bias: true });
    setValues(scale.weight.value, [2, -1]);
    setValues(scale.bias!.value, [1, 0.5]);
    expect(toArray(scale.forward(fromArray([1, 2, 3, 4], [1, 2, 2, 1])))).to.deep.equal([
      3, 5, -2.5, -3.5,
    ]);
  });

  for (const bias of [true, false]) {
    it(`backward matches numerical gradient (bias ${bias})`, () => {
      const rng = new Rng(14);
      const scale = new ChannelScale(3, { bias, name: 'scale_conv1' });
      rng.fillNormal(scale.weight.value);
      const report = checkLayerGradients(scale, randomTensor(rng, [2, 3, 2, 5]));
      expect(report.reports.map((r) => r.name)).to.deep.equal(
        bias
          ? ['input', 'scale_conv1.weight', 'scale_conv1.bias']
          : ['input', 'scale_conv1.weight'],
      );
      expect(report.maxError).to.be.below(1e-6, report.describe()); // typically 1e-9…1e-11; rounding near 0 reaches ~1e-7
    });
  }
});
