import { expect } from 'chai';
import { DivergenceError, Rng, zeros } from '../../lib/core/index.js';
import {
  Linear,
  ReLU,
  SGD,
  Sequential,
  checkLoss,
  evaluate,
  loadMnist,
  trainEpoch,
} from '../../lib/mlp/index.js';

describe('training helpers', () => {
  it('trainEpoch lowers the loss and evaluate reports accuracy on an MNIST subset', () => {
    const rng = new Rng(1);
    const { images, labels } = loadMnist('train', { limit: 500 });
    const net = new Sequential([
      new Linear(784, 32, { rng, name: 'fc1', inputGrad: false }),
      new ReLU(),
      new Linear(32, 10, { rng, name: 'fc2' }),
    ]);
    const before = evaluate(net, images, labels, 100);
    const sgd = new SGD(net.params(), { lr: 0.1, momentum: 0.9 });
    let step = 0;
    for (let epoch = 0; epoch < 3; epoch++) {
      step = trainEpoch(net, sgd, images, labels, { batchSize: 50, rng, step }).step;
    }
    const after = evaluate(net, images, labels, 100);
    expect(step).to.equal(30);
    expect(before.loss).to.be.closeTo(Math.log(10), 0.7);
    expect(after.loss).to.be.below(before.loss / 2);
    expect(after.accuracy).to.be.above(0.8);
  });

  it('stops a diverging run naming the step and the layer where NaN first appears', () => {
    const rng = new Rng(2);
    const fc1 = new Linear(3, 4, { rng, name: 'fc1' });
    const net = new Sequential([fc1, new ReLU(), new Linear(4, 2, { rng, name: 'fc2' })]);
    const x = rng.fillNormal(zeros([2, 3]));
    expect(() => checkLoss(NaN, 17, net, x)).to.throw(DivergenceError, /in the loss itself/);
    fc1.weight.value.set(0, 0, Infinity);
    expect(() => checkLoss(Infinity, 17, net, x)).to.throw(
      /loss is Infinity at step 17.*parameters of layer fc1 \(fc1\.weight\)/,
    );
    fc1.weight.value.set(0, 0, 1e308);
    x.set(0, 0, 1e308);
    expect(() => checkLoss(NaN, 18, net, x)).to.throw(/step 18.*output of layer fc1 \(Linear\)/);
  });
});
