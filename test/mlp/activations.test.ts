import { expect } from 'chai';
import { Rng, checkLayerGradients, fromArray, toArray, zeros } from '../../lib/core/index.js';
import { ReLU, Sigmoid, Tanh } from '../../lib/mlp/index.js';

describe('activations', () => {
  it('Sigmoid backward matches the numerical gradient', () => {
    const rng = new Rng(1);
    const result = checkLayerGradients(new Sigmoid(), rng.fillNormal(zeros([3, 4]), 0, 2));
    // Smooth: typically around 1e-10.
    expect(result.maxError).to.be.below(1e-6, result.describe());
  });

  it('Tanh backward matches the numerical gradient', () => {
    const rng = new Rng(2);
    const result = checkLayerGradients(new Tanh(), rng.fillNormal(zeros([3, 4])));
    expect(result.maxError).to.be.below(1e-6, result.describe());
  });

  it('ReLU backward matches the numerical gradient on NCHW inputs away from the kink', () => {
    const rng = new Rng(3);
    const x = rng.fillNormal(zeros([2, 3, 4, 5]));
    // Push every value at least 0.1 away from 0, so x ± h never crosses the kink.
    for (let i = 0; i < x.size; i++) x.data[i] = x.data[i]! + Math.sign(x.data[i]!) * 0.1;
    const result = checkLayerGradients(new ReLU(), x);
    expect(result.maxError).to.be.below(1e-6, result.describe());
  });

  it('ReLU passes gradient 0 at exactly x = 0', () => {
    const relu = new ReLU();
    expect(toArray(relu.forward(fromArray([-1, 0, 2], [3])))).to.deep.equal([0, 0, 2]);
    expect(toArray(relu.backward(fromArray([5, 5, 5], [3])))).to.deep.equal([0, 0, 5]);
  });

  it('Sigmoid stays finite for very large |x|', () => {
    const y = toArray(new Sigmoid().forward(fromArray([-1000, 0, 1000], [3])));
    expect(y).to.deep.equal([0, 0.5, 1]);
  });

  it('throws naming the layer when backward is called before forward', () => {
    expect(() => new Tanh({ name: 'act1' }).backward(zeros([1]))).to.throw(
      /act1\.backward called before forward/,
    );
  });
});
