import { expect } from 'chai';
import { Rng, checkGradients, fromArray, tensor } from '../../lib/core/index.js';
import { Perceptron } from '../../lib/perceptron/index.js';
import {
  LinearUnit,
  leastSquaresLine,
  syntheticIncome,
  tutorialIncome,
} from '../../lib/linear/index.js';

const asInputs = (xs: number[]): number[][] => xs.map((x) => [x]);

describe('LinearUnit', () => {
  it('is a Perceptron whose activation is the identity', () => {
    const unit = new LinearUnit(1);
    expect(unit).to.be.instanceOf(Perceptron);
    unit.weights[0] = 2;
    unit.bias = 0.5;
    expect(unit.predict([3])).to.equal(6.5);
  });

  it('gradient of E = ½Σ(y − ŷ)² matches the numerical gradient', () => {
    const rng = new Rng(1);
    const unit = new LinearUnit(3);
    rng.fillNormal(tensor(unit.weights, [3]));
    unit.bias = rng.normal();
    const inputs = Array.from({ length: 6 }, () => [rng.normal(), rng.normal(), rng.normal()]);
    const labels = inputs.map(() => rng.normal());
    const { dw, db } = unit.gradient(inputs, labels);
    // The bias lives in a plain number; a 1-element tensor stands in for it during the check.
    const b = fromArray([unit.bias], [1]);
    const loss = (): number => {
      unit.bias = b.get(0);
      return unit.objective(inputs, labels);
    };
    const result = checkGradients(loss, [
      { name: 'w', value: tensor(unit.weights, [3]), grad: tensor(dw, [3]) },
      { name: 'b', value: b, grad: fromArray([db], [1]) },
    ]);
    // Quadratic objective: typically around 1e-10.
    expect(result.maxError).to.be.below(1e-6, result.describe());
  });

  it('fails the gradient check when the sign is flipped as in the original code (negative control)', () => {
    const rng = new Rng(2);
    const unit = new LinearUnit(2);
    rng.fillNormal(tensor(unit.weights, [2]));
    const inputs = [
      [1, 2],
      [3, -1],
    ];
    const labels = [1, -2];
    const { dw } = unit.gradient(inputs, labels);
    const negated = Float64Array.from(dw, (v) => -v);
    const result = checkGradients(
      () => unit.objective(inputs, labels),
      [{ name: 'w', value: tensor(unit.weights, [2]), grad: tensor(negated, [2]) }],
    );
    expect(result.maxError).to.be.above(0.99);
  });

  it('recovers the known line with batch gradient descent', () => {
    const data = syntheticIncome(new Rng(42));
    const unit = new LinearUnit(1);
    const history = unit.trainBatch(asInputs(data.years), data.income, {
      epochs: 2000,
      rate: 2.5e-4,
    });
    const exact = leastSquaresLine(data.years, data.income);
    // Batch GD converges to the least-squares solution itself...
    expect(unit.weights[0]).to.be.closeTo(exact.slope, 1e-6 * Math.abs(exact.slope));
    expect(unit.bias).to.be.closeTo(exact.intercept, 1e-6 * Math.abs(exact.intercept));
    // ...which is within noise of the true line (slope 1000, intercept 1500, noise σ = 200).
    expect(unit.weights[0]).to.be.closeTo(1000, 20);
    expect(unit.bias).to.be.closeTo(1500, 75);
    expect(history.at(-1)!).to.be.below(history[0]!);
  });

  it('recovers the known line with stochastic gradient descent', () => {
    const data = syntheticIncome(new Rng(42));
    const unit = new LinearUnit(1);
    unit.trainStochastic(asInputs(data.years), data.income, { epochs: 300, rate: 2e-3 });
    expect(unit.weights[0]).to.be.closeTo(1000, 20);
    expect(unit.bias).to.be.closeTo(1500, 75);
  });

  it('fits the tutorial’s five people and predicts sensible incomes', () => {
    const unit = new LinearUnit(1);
    unit.trainStochastic(asInputs(tutorialIncome.years), tutorialIncome.income, {
      epochs: 10,
      rate: 0.01,
    });
    const predict = (years: number): number => unit.predict([years]);
    expect(predict(3.4)).to.be.within(3000, 4500);
    expect(predict(15)).to.be.within(14000, 18000);
    expect(predict(15)).to.be.greaterThan(predict(6.3));
  });

  it('stops with a message when the objective diverges', () => {
    const data = syntheticIncome(new Rng(3), { count: 20 });
    const unit = new LinearUnit(1);
    expect(() =>
      unit.trainBatch(asInputs(data.years), data.income, { epochs: 2000, rate: 1 }),
    ).to.throw(/objective became (Infinity|NaN) at epoch \d+.*learning rate 1 is too large/);
  });
});
