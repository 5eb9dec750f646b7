import { expect } from 'chai';
import { Rng, checkGradients, fromArray, toArray, zeros } from '../../lib/core/index.js';
import { meanSquaredError, softmaxCrossEntropy } from '../../lib/mlp/index.js';

describe('losses', () => {
  it('softmaxCrossEntropy gradient matches the numerical gradient', () => {
    const rng = new Rng(1);
    const scores = rng.fillNormal(zeros([4, 5]), 0, 2);
    const labels = [0, 3, 4, 3];
    const { dScores } = softmaxCrossEntropy(scores, labels);
    const result = checkGradients(
      () => softmaxCrossEntropy(scores, labels).loss,
      [{ name: 'scores', value: scores, grad: dScores }],
    );
    // Smooth: typically around 1e-10.
    expect(result.maxError).to.be.below(1e-6, result.describe());
  });

  it('meanSquaredError gradient matches the numerical gradient', () => {
    const rng = new Rng(2);
    const pred = rng.fillNormal(zeros([3, 4]));
    const target = rng.fillNormal(zeros([3, 4]));
    const { dPred } = meanSquaredError(pred, target);
    const result = checkGradients(
      () => meanSquaredError(pred, target).loss,
      [{ name: 'pred', value: pred, grad: dPred }],
    );
    expect(result.maxError).to.be.below(1e-6, result.describe());
  });

  it('meanSquaredError is ½Σ(y − ŷ)² divided by the batch size', () => {
    const { loss, dPred } = meanSquaredError(fromArray([1, 2, 3, 4], [2, 2]), zeros([2, 2]));
    expect(loss).to.equal((0.5 * (1 + 4 + 9 + 16)) / 2);
    expect(toArray(dPred)).to.deep.equal([0.5, 1, 1.5, 2]);
  });

  it('softmaxCrossEntropy starts near ln K for equal scores', () => {
    const { loss } = softmaxCrossEntropy(zeros([3, 10]), [1, 2, 9]);
    expect(loss).to.be.closeTo(Math.log(10), 1e-12);
  });

  it('softmaxCrossEntropy stays finite for huge scores', () => {
    const { loss, dScores } = softmaxCrossEntropy(fromArray([1000, -1000, 0], [1, 3]), [1]);
    expect(loss).to.be.closeTo(2000, 1e-9);
    expect(toArray(dScores).every(Number.isFinite)).to.equal(true);
  });

  it('softmaxCrossEntropy throws naming a label out of range', () => {
    expect(() => softmaxCrossEntropy(zeros([2, 10]), [3, 10])).to.throw(
      RangeError,
      /label 10 at row 1 is out of range for 10 classes/,
    );
  });

  it('softmaxCrossEntropy throws naming both sizes when labels are missing', () => {
    expect(() => softmaxCrossEntropy(zeros([3, 10]), [1, 2])).to.throw(/\[2\].*\[3\]/);
  });
});
