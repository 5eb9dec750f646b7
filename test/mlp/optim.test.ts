import { expect } from 'chai';
import { makeParam, toArray } from '../../lib/core/index.js';
import { Adam, SGD } from '../../lib/mlp/index.js';

function param(values: number[], grad: number[]) {
  const p = makeParam('w', [values.length]);
  p.value.data.set(values);
  p.grad.data.set(grad);
  return p;
}

describe('optimizers', () => {
  it('SGD subtracts the learning rate times the true gradient', () => {
    const p = param([1, -2], [0.5, -1]);
    new SGD([p], { lr: 0.1 }).step();
    expect(toArray(p.value)).to.deep.equal([1 - 0.05, -2 + 0.1]);
  });

  it('SGD with momentum accumulates a velocity v ← μv + g', () => {
    const p = param([0], [1]);
    const sgd = new SGD([p], { lr: 1, momentum: 0.5 });
    sgd.step(); // v = 1, w = -1
    sgd.step(); // v = 1.5, w = -2.5
    expect(toArray(p.value)).to.deep.equal([-2.5]);
    expect(toArray(sgd.velocity.get('w')!)).to.deep.equal([1.5]);
  });

  it('Nesterov momentum steps by g + μv', () => {
    const p = param([0], [1]);
    const sgd = new SGD([p], { lr: 1, momentum: 0.5, nesterov: true });
    sgd.step(); // v = 1, w = -(1 + 0.5)
    sgd.step(); // v = 1.5, w = -1.5 - (1 + 0.75)
    expect(toArray(p.value)).to.deep.equal([-3.25]);
  });

  it('weight decay adds λw to the gradient', () => {
    const p = param([2], [0]);
    new SGD([p], { lr: 0.5, weightDecay: 0.1 }).step();
    expect(p.value.get(0)).to.be.closeTo(2 - 0.5 * 0.2, 1e-15);
  });

  it('Adam first step moves each weight by about lr against the sign of its gradient', () => {
    const p = param([1, 1, 1], [3, -0.001, 0]);
    new Adam([p], { lr: 0.01 }).step();
    const w = toArray(p.value);
    expect(w[0]).to.be.closeTo(0.99, 1e-8);
    expect(w[1]).to.be.closeTo(1.01, 1e-4);
    expect(w[2]).to.equal(1);
  });

  it('Adam keeps its moments per parameter name', () => {
    const a = makeParam('fc1.weight', [2]);
    const b = makeParam('fc1.bias', [1]);
    a.grad.data.set([1, 1]);
    const adam = new Adam([a, b]);
    adam.step();
    expect([...adam.moments.keys()]).to.deep.equal(['fc1.weight', 'fc1.bias']);
    for (const m of toArray(adam.moments.get('fc1.weight')!.m)) expect(m).to.be.closeTo(0.1, 1e-15);
  });
});
