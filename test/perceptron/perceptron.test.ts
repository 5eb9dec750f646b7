import { expect } from 'chai';
import { AND, OR, XOR, Perceptron, stepActivation } from '../../lib/perceptron/index.js';

describe('Perceptron', () => {
  it('uses the step function f(z) = 1 if z > 0 else 0', () => {
    expect([-1, 0, 1e-9, 3].map(stepActivation)).to.deep.equal([0, 0, 1, 1]);
  });

  it('learns AND with the tutorial settings (zero init, η = 0.1, 10 epochs)', () => {
    const p = new Perceptron(2);
    p.train(AND.inputs, AND.labels, { epochs: 10, rate: 0.1 });
    expect(p.accuracy(AND.inputs, AND.labels)).to.equal(1);
    // The tutorial's run ends with w = [0.1, 0.2], b = -0.2.
    expect(Array.from(p.weights).map((w) => +w.toFixed(10))).to.deep.equal([0.1, 0.2]);
    expect(+p.bias.toFixed(10)).to.equal(-0.2);
  });

  it('learns OR', () => {
    const p = new Perceptron(2);
    const errors = p.train(OR.inputs, OR.labels, { epochs: 10, rate: 0.1 });
    expect(p.accuracy(OR.inputs, OR.labels)).to.equal(1);
    expect(errors.at(-1)).to.equal(0);
  });

  it('never converges on XOR, which no line separates', () => {
    const p = new Perceptron(2);
    const errors = p.train(XOR.inputs, XOR.labels, { epochs: 1000, rate: 0.1 });
    expect(Math.min(...errors)).to.be.greaterThan(0);
    expect(p.accuracy(XOR.inputs, XOR.labels)).to.be.below(1);
  });

  it('applies the perceptron rule w ← w + η(t − y)x, b ← b + η(t − y)', () => {
    const p = new Perceptron(3);
    const y = p.update([1, 2, 3], 1, 0.5);
    expect(y).to.equal(0);
    expect(Array.from(p.weights)).to.deep.equal([0.5, 1, 1.5]);
    expect(p.bias).to.equal(0.5);
  });

  it('says how many values an input has when it does not fit the weights', () => {
    expect(() => new Perceptron(2).predict([1, 2, 3])).to.throw(
      'Perceptron: input has 3 values, but the unit has 2 weights',
    );
    expect(() => new Perceptron(0)).to.throw(/positive integer/);
  });
});
