import { expect } from 'chai';
import {
  Rng,
  checkGradients,
  checkLayerGradients,
  copy,
  zeroGrad,
  zeros,
  type Param,
  type Tensor,
} from '../../lib/core/index.js';
import {
  Linear,
  ReLU,
  Sequential,
  Sigmoid,
  Tanh,
  softmaxCrossEntropy,
} from '../../lib/mlp/index.js';

function threeLayerNet(rng: Rng): Sequential {
  return new Sequential([
    new Linear(6, 5, { rng, name: 'fc1', init: 'xavier' }),
    new Tanh(),
    new Linear(5, 4, { rng, name: 'fc2', init: 'xavier' }),
    new Sigmoid(),
    new Linear(4, 3, { rng, name: 'fc3', init: 'xavier' }),
  ]);
}

describe('Sequential', () => {
  it('lists parameters in layer order and names unnamed layers by type and index', () => {
    const net = threeLayerNet(new Rng(1));
    expect(net.params().map((p) => p.name)).to.deep.equal([
      'fc1.weight',
      'fc1.bias',
      'fc2.weight',
      'fc2.bias',
      'fc3.weight',
      'fc3.bias',
    ]);
    expect(net.names).to.deep.equal(['fc1', 'Tanh1', 'fc2', 'Sigmoid3', 'fc3']);
  });

  it('a 3-layer network matches the numerical gradient for the input and every parameter', () => {
    const rng = new Rng(2);
    const result = checkLayerGradients(threeLayerNet(rng), rng.fillNormal(zeros([3, 6])));
    expect(result.reports).to.have.length(7);
    // A whole network is still smooth here: typically around 1e-9.
    expect(result.maxError).to.be.below(1e-6, result.describe());
  });

  it('a 3-layer ReLU network with softmax cross-entropy matches the numerical gradient', () => {
    const rng = new Rng(3);
    const net = new Sequential([
      new Linear(6, 8, { rng, name: 'fc1' }),
      new ReLU(),
      new Linear(8, 8, { rng, name: 'fc2' }),
      new ReLU(),
      new Linear(8, 4, { rng, name: 'fc3' }),
    ]);
    const x = rng.fillNormal(zeros([5, 6]));
    const labels = [0, 1, 2, 3, 1];
    const params = net.params();
    zeroGrad(params);
    net.backward(softmaxCrossEntropy(net.forward(x), labels).dScores);
    const targets = params.map((p: Param) => ({
      name: p.name,
      value: p.value,
      grad: copy(p.grad),
    }));
    const result = checkGradients(() => softmaxCrossEntropy(net.forward(x), labels).loss, targets);
    // Seeded so no ReLU input lies within h of its kink; typically around 1e-9.
    expect(result.maxError).to.be.below(1e-6, result.describe());
  });

  it('the gradient check fails a network whose backward is wrong (negative control)', () => {
    const rng = new Rng(4);
    const inner = threeLayerNet(rng);
    const broken = {
      forward: (x: Tensor) => inner.forward(x),
      backward: (dy: Tensor) => {
        const dx = inner.backward(dy);
        for (let i = 0; i < dx.size; i++) dx.data[i] = dx.data[i]! * 1.01;
        return dx;
      },
      params: () => inner.params(),
    };
    const result = checkLayerGradients(broken, rng.fillNormal(zeros([3, 6])));
    expect(result.maxError).to.be.above(1e-3);
  });

  it('throws when two parameters share a name', () => {
    const rng = new Rng(5);
    expect(() => new Sequential([new Linear(2, 2, { rng }), new Linear(2, 2, { rng })])).to.throw(
      /two parameters are named 'fc.weight'/,
    );
  });
});
