import { expect } from 'chai';
import { Rng, fromArray, toArray, zeroGrad, zeros, type Tensor64 } from '../../lib/core/index.js';
import {
  Adam,
  Linear,
  NodeNetwork,
  Sequential,
  Sigmoid,
  Tanh,
  meanSquaredError,
} from '../../lib/mlp/index.js';

describe('NodeNetwork (backpropagation node by node)', () => {
  it('gives the same gradients as the vectorized layers on the same network and data', () => {
    const rng = new Rng(1);
    const sizes = [5, 4, 3, 2];
    const linears = sizes
      .slice(1)
      .map((n, i) => new Linear(sizes[i]!, n, { rng, name: `fc${i + 1}`, init: 'xavier' }));
    for (const l of linears) rng.fillNormal(l.bias.value, 0, 0.5);
    const net = new Sequential(linears.flatMap((l) => [l, new Sigmoid()]));
    const x = rng.fillNormal(zeros([6, 5]));
    const target = rng.fillUniform(zeros([6, 2]));

    // Vectorized: E = ½Σ(y − t)² / N over the batch.
    zeroGrad(net.params());
    net.backward(meanSquaredError(net.forward(x), target).dPred);

    // Node by node: one sample at a time, gradients summed, then divided by N to match.
    const nodes = new NodeNetwork(sizes, new Rng(99));
    linears.forEach((l, i) =>
      nodes.setLayer(i + 1, l.weight.value as Tensor64, l.bias.value as Tensor64),
    );
    nodes.zeroGrad();
    for (let n = 0; n < 6; n++) {
      const out = nodes.predict(toArray(x.pick(n, null)));
      expect(out[0]).to.be.closeTo(net.forward(x).get(n, 0), 1e-12);
      nodes.backward(toArray(target.pick(n, null)));
    }
    linears.forEach((l, i) => {
      const { w, b } = nodes.layerTensors(i + 1, 'grad');
      toArray(w).forEach((g, k) => expect(g / 6).to.be.closeTo(l.weight.grad.data[k]!, 1e-12));
      toArray(b).forEach((g, k) => expect(g / 6).to.be.closeTo(l.bias.grad.data[k]!, 1e-12));
    });
  });

  it('learns the 8-3-8 encoder node by node (targets 0.9 / 0.1, as the tutorial)', () => {
    const nodes = new NodeNetwork([8, 3, 8], new Rng(2));
    const patterns = Array.from({ length: 8 }, (_, i) =>
      Array.from({ length: 8 }, (_, j) => (i === j ? 0.9 : 0.1)),
    );
    for (let epoch = 0; epoch < 3000; epoch++) {
      for (const p of patterns) {
        nodes.zeroGrad();
        nodes.predict(p);
        nodes.backward(p);
        nodes.step(1);
      }
    }
    for (const [i, p] of patterns.entries()) {
      const out = nodes.predict(p);
      expect(out.indexOf(Math.max(...out))).to.equal(i);
    }
  });
});

describe('small problems for vectorized networks', () => {
  it('solves XOR, which a single perceptron cannot', () => {
    const rng = new Rng(3);
    const net = new Sequential([
      new Linear(2, 4, { rng, name: 'fc1', init: 'xavier' }),
      new Tanh(),
      new Linear(4, 1, { rng, name: 'fc2', init: 'xavier' }),
      new Sigmoid(),
    ]);
    const x = fromArray([0, 0, 0, 1, 1, 0, 1, 1], [4, 2]);
    const t = fromArray([0, 1, 1, 0], [4, 1]);
    const optimizer = new Adam(net.params(), { lr: 0.05 });
    for (let step = 0; step < 500; step++) {
      zeroGrad(net.params());
      net.backward(meanSquaredError(net.forward(x), t).dPred);
      optimizer.step();
    }
    expect(toArray(net.forward(x)).map(Math.round)).to.deep.equal([0, 1, 1, 0]);
  });

  it('learns the 8-3-8 encoder with matrices', () => {
    const rng = new Rng(4);
    const net = new Sequential([
      new Linear(8, 3, { rng, name: 'fc1', init: 'xavier' }),
      new Sigmoid(),
      new Linear(3, 8, { rng, name: 'fc2', init: 'xavier' }),
      new Sigmoid(),
    ]);
    const x = zeros([8, 8]);
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) x.set(i, j, i === j ? 0.9 : 0.1);
    const optimizer = new Adam(net.params(), { lr: 0.05 });
    for (let step = 0; step < 2000; step++) {
      zeroGrad(net.params());
      net.backward(meanSquaredError(net.forward(x), x).dPred);
      optimizer.step();
    }
    const y = net.forward(x);
    for (let i = 0; i < 8; i++) {
      const row = toArray(y.pick(i, null));
      expect(row.indexOf(Math.max(...row))).to.equal(i);
    }
  });
});
