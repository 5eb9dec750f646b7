import { expect } from 'chai';
import {
  Rng,
  ShapeError,
  checkLayerGradients,
  copy,
  fromArray,
  toArray,
  zeroGrad,
  zeros,
} from '../../lib/core/index.js';
import { Linear, initWeights } from '../../lib/mlp/index.js';

describe('Linear', () => {
  it('forward computes y = x Wᵀ + b on a hand-checked example', () => {
    const fc = new Linear(3, 2, { rng: new Rng(1), name: 'fc1' });
    fc.weight.value.data.set([1, 2, 3, -1, 0, 1]); // W = [[1, 2, 3], [-1, 0, 1]]
    fc.bias.value.data.set([0.5, -2]);
    const y = fc.forward(fromArray([1, 1, 1, 2, 0, -1], [2, 3]));
    expect(toArray(y)).to.deep.equal([6.5, -2, -0.5, -5]);
  });

  it('frozen: backward returns the same dx and leaves both gradients untouched', () => {
    const rng = new Rng(3);
    const fc = new Linear(4, 3, { rng, name: 'fc' });
    const x = rng.fillNormal(zeros([2, 4]));
    const dy = rng.fillNormal(zeros([2, 3]));
    fc.forward(x);
    const dxLive = toArray(fc.backward(dy));
    expect(toArray(fc.weight.grad).some((g) => g !== 0)).to.equal(true); // the control
    zeroGrad(fc.params());
    fc.frozen = true;
    fc.forward(x);
    expect(toArray(fc.backward(dy))).to.deep.equal(dxLive);
    expect(toArray(fc.weight.grad).every((g) => g === 0)).to.equal(true);
    expect(toArray(fc.bias.grad).every((g) => g === 0)).to.equal(true);
  });

  it('names its parameters and stores the weight as [out, in]', () => {
    const fc = new Linear(4, 3, { rng: new Rng(1), name: 'fc7' });
    expect(fc.params().map((p) => [p.name, p.value.shape])).to.deep.equal([
      ['fc7.weight', [3, 4]],
      ['fc7.bias', [3]],
    ]);
  });

  it('backward matches the numerical gradient for the input, weight and bias', () => {
    const rng = new Rng(2);
    const fc = new Linear(5, 3, { rng, name: 'fc' });
    rng.fillNormal(fc.bias.value);
    const result = checkLayerGradients(fc, rng.fillNormal(zeros([4, 5])));
    expect(result.reports.map((r) => r.name)).to.deep.equal(['input', 'fc.weight', 'fc.bias']);
    // Smooth and linear: typically around 1e-10.
    expect(result.maxError).to.be.below(1e-6, result.describe());
  });

  it('accepts a transposed view as input and gives the same output as a copy', () => {
    const rng = new Rng(3);
    const fc = new Linear(4, 3, { rng });
    const xT = rng.fillNormal(zeros([4, 2])).transpose(1, 0);
    const a = toArray(fc.forward(xT));
    const b = toArray(fc.forward(copy(xT)));
    expect(a).to.deep.equal(b);
  });

  it('accumulates parameter gradients over two backward calls', () => {
    const rng = new Rng(4);
    const fc = new Linear(3, 2, { rng });
    const x = rng.fillNormal(zeros([2, 3]));
    const dy = rng.fillNormal(zeros([2, 2]));
    zeroGrad(fc.params());
    fc.forward(x);
    fc.backward(dy);
    const once = toArray(fc.weight.grad);
    fc.backward(dy);
    const twice = toArray(fc.weight.grad);
    twice.forEach((g, i) => expect(g).to.be.closeTo(2 * once[i]!, 1e-12));
  });

  it('returns a fresh dx on every backward call', () => {
    const rng = new Rng(5);
    const fc = new Linear(3, 2, { rng });
    fc.forward(rng.fillNormal(zeros([2, 3])));
    const dy = rng.fillNormal(zeros([2, 2]));
    expect(fc.backward(dy)).to.not.equal(fc.backward(dy));
  });

  it('throws naming both shapes when the input width does not match', () => {
    const fc = new Linear(784, 10, { rng: new Rng(6), name: 'fc1' });
    expect(() => fc.forward(zeros([2, 783])))
      .to.throw(ShapeError)
      .with.property('message')
      .that.matches(/Linear\(fc1\).*\[2, 783\].*\[\*, 784\]/);
  });

  it('refuses an input whose dtype differs from its parameters', () => {
    const fc = new Linear(3, 2, { rng: new Rng(7), dtype: 'float32' });
    expect(() => fc.forward(zeros([1, 3]))).to.throw(/float64 but the parameters are float32/);
  });

  it('throws when backward is called before forward', () => {
    const fc = new Linear(3, 2, { rng: new Rng(8), name: 'fc2' });
    expect(() => fc.backward(zeros([1, 2]))).to.throw(
      /Linear\(fc2\)\.backward called before forward/,
    );
  });

  it('initializes with the variance of Xavier (2/(in+out)) and He (2/in)', () => {
    const w = zeros([200, 300]);
    const variance = (): number => toArray(w).reduce((s, v) => s + v * v, 0) / w.size;
    initWeights(w, 'xavier', new Rng(9));
    expect(variance()).to.be.closeTo(2 / 500, 2e-4);
    initWeights(w, 'he', new Rng(9));
    expect(variance()).to.be.closeTo(2 / 300, 3e-4);
  });

  it('float32 layers agree with float64 layers to float32 precision', () => {
    const rng = new Rng(10);
    const fc64 = new Linear(6, 4, { rng: new Rng(11) });
    const fc32 = new Linear(6, 4, { rng: new Rng(11), dtype: 'float32' });
    const x = rng.fillNormal(zeros([3, 6]));
    const y64 = toArray(fc64.forward(x));
    const y32 = toArray(fc32.forward(copy(x, 'float32')));
    y32.forEach((v, i) => expect(v).to.be.closeTo(y64[i]!, 1e-5));
  });

  it('with inputGrad false skips dx but still accumulates the parameter gradients', () => {
    const rng = new Rng(12);
    const full = new Linear(5, 3, { rng: new Rng(13) });
    const first = new Linear(5, 3, { rng: new Rng(13), inputGrad: false });
    const x = rng.fillNormal(zeros([2, 5]));
    const dy = rng.fillNormal(zeros([2, 3]));
    for (const fc of [full, first]) {
      zeroGrad(fc.params());
      fc.forward(x);
    }
    full.backward(dy);
    expect(toArray(first.backward(dy)).every((v) => v === 0)).to.equal(true);
    expect(toArray(first.weight.grad)).to.deep.equal(toArray(full.weight.grad));
  });

  it('adopts given weights as its parameters, without a copy or a random draw', () => {
    const weight = fromArray([1, 2, 3, -1, 0, 1], [2, 3], 'float32');
    const bias = fromArray([0.5, -2], [2], 'float32');
    const fc = new Linear(3, 2, { weights: { weight, bias }, name: 'fc6' });
    expect(fc.weight.value).to.equal(weight);
    expect(fc.bias.value).to.equal(bias);
    expect(fc.weight.grad.data).to.not.equal(weight.data);
    expect(toArray(weight)).to.deep.equal([1, 2, 3, -1, 0, 1]);
    const y = fc.forward(fromArray([1, 1, 1, 2, 0, -1], [2, 3], 'float32'));
    expect(toArray(y)).to.deep.equal([6.5, -2, -0.5, -5]);
  });

  it('throws naming the layer and both shapes when adopted weights do not fit', () => {
    const bias = zeros([2]);
    expect(
      () => new Linear(3, 2, { weights: { weight: zeros([3, 2]), bias }, name: 'fc8' }),
    ).to.throw(ShapeError, /Linear\(fc8\) weight to adopt: got shape \[3, 2\], expected \[2, 3\]/);
    expect(
      () => new Linear(3, 2, { weights: { weight: zeros([2, 3], 'float32'), bias }, name: 'fc8' }),
    ).to.throw(/Linear\(fc8\): the bias to adopt is float64, not float32/);
  });
});
