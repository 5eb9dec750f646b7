import { expect } from 'chai';
import {
  Rng,
  checkGradients,
  checkLayerGradients,
  copy,
  dot,
  like,
  toArray,
  zeroGrad,
  zeros,
  type Tensor,
} from '../../lib/core/index.js';
import { Linear, softmaxCrossEntropy } from '../../lib/mlp/index.js';
import {
  AvgPool2d,
  Conv2d,
  Flatten,
  GlobalAvgPool2d,
  MaxPool2d,
  ReLU,
  Sequential,
} from '../../lib/cnn/index.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { randomTensor } from './helpers.js';

// V8's gc(), reachable without --expose-gc on the command line: the flag is read when a context
// is created, so a fresh one has it.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function arrayBuffersAfterGc(): number {
  gc();
  return process.memoryUsage().arrayBuffers;
}

// A small CNN with every layer kind: conv → ReLU → max pool → conv → ReLU → avg pool → flatten → fc.
function smallCnn(rng: Rng): Sequential {
  return new Sequential([
    new Conv2d(2, 3, [3, 2], { name: 'conv1', pad: 1, rng }),
    new ReLU({ name: 'relu1' }),
    new MaxPool2d(2, { name: 'pool1' }),
    new Conv2d(3, 4, 2, { name: 'conv2', stride: [1, 2], pad: [1, 0, 1, 1], rng }),
    new ReLU({ name: 'relu2' }),
    new AvgPool2d(2, { name: 'pool2', stride: 1 }),
    new Flatten({ name: 'flatten' }),
    new Linear(8, 3, { name: 'fc', rng }),
  ]);
}

describe('CNN layers', () => {
  it('Conv2d backward matches numerical gradient for input, weight and bias (stride 2, pad 1, dilation 2)', () => {
    const rng = new Rng(3);
    const conv = new Conv2d(3, 2, [3, 2], { stride: 2, pad: 1, dilation: [2, 1], rng });
    const result = checkLayerGradients(conv, randomTensor(rng, [2, 3, 7, 4]));
    expect(result.reports.map((r) => r.name)).to.deep.equal(['input', 'conv.weight', 'conv.bias']);
    expect(result.maxError).to.be.below(1e-7, result.describe());
  });

  it('MaxPool2d, AvgPool2d, GlobalAvgPool2d and Flatten backward match numerical gradients', () => {
    const rng = new Rng(4);
    for (const layer of [
      new MaxPool2d([2, 3], { stride: [2, 1], pad: 1 }),
      new AvgPool2d(3, { stride: 2, ceilMode: true, countPadding: false }),
      new GlobalAvgPool2d(),
      new Flatten(),
    ]) {
      const result = checkLayerGradients(layer, randomTensor(rng, [2, 3, 5, 6]));
      expect(result.maxError).to.be.below(1e-7, `${layer.name}: ${result.describe()}`);
    }
  });

  it('a frozen Conv2d returns dx but leaves its weight gradients untouched', () => {
    const rng = new Rng(5);
    const conv = new Conv2d(2, 3, 3, { pad: 1, rng });
    const x = randomTensor(rng, [1, 2, 4, 4]);
    const dy = randomTensor(rng, [1, 3, 4, 4]);
    conv.forward(x);
    const dxLive = conv.backward(dy);
    zeroGrad(conv.params());
    conv.frozen = true;
    conv.forward(x);
    const dxFrozen = conv.backward(dy);
    expect(toArray(dxFrozen)).to.deep.equal(toArray(dxLive));
    expect(toArray(conv.weight.grad).every((v) => v === 0)).to.equal(true);
    expect(toArray(conv.bias!.grad).every((v) => v === 0)).to.equal(true);
  });

  // Gradients are allocated on first use (paramOf), so a frozen pretrained net costs one copy of
  // its weights, not two. Measured as the rise of arrayBuffers after a full garbage collection,
  // with wide margins: V8 releases dead buffers' memory concurrently, so earlier tests' garbage
  // may still be leaving during the measurement (lowering the figure by a few MB).
  it('a frozen Conv2d with adopted weights never allocates its gradients', () => {
    const rng = new Rng(17);
    const weight = randomTensor(rng, [1024, 512, 3, 3]);
    const gradBytes = 1024 * 512 * 9 * 8;
    const x = randomTensor(rng, [1, 512, 3, 3]);
    const before = arrayBuffersAfterGc();
    const conv = new Conv2d(512, 1024, 3, { weights: { weight, bias: zeros([1024]) } });
    conv.frozen = true;
    conv.backward(randomTensor(rng, conv.forward(x).shape));
    const after = arrayBuffersAfterGc();
    expect(after - before).to.be.below(gradBytes / 16);
    // Negative control: reading the gradient allocates it, once.
    expect(toArray(conv.weight.grad).every((v) => v === 0)).to.equal(true);
    expect(conv.weight.grad).to.equal(conv.weight.grad);
    expect(arrayBuffersAfterGc() - after).to.be.above(gradBytes / 2);
  });

  it('a Conv2d without inputGrad still computes its weight gradients and returns a zero dx', () => {
    const rng = new Rng(13);
    const conv = new Conv2d(2, 2, 3, { inputGrad: false, rng });
    const live = new Conv2d(2, 2, 3, { rng: new Rng(13) });
    const x = randomTensor(rng, [1, 2, 5, 5]);
    const dy = randomTensor(rng, [1, 2, 3, 3]);
    conv.forward(x);
    live.forward(x);
    expect(toArray(conv.backward(dy)).every((v) => v === 0)).to.equal(true);
    live.backward(dy);
    expect(toArray(conv.weight.grad)).to.deep.equal(toArray(live.weight.grad));
  });

  it('a whole small CNN backward matches numerical gradients (every parameter by name)', () => {
    const rng = new Rng(6);
    const net = smallCnn(rng);
    const result = checkLayerGradients(net, randomTensor(rng, [2, 2, 5, 7]));
    expect(result.reports.length).to.equal(1 + net.params().length);
    // Observed about 1e-9; ReLU kinks and pooling ties are avoided by the seed.
    expect(result.maxError).to.be.below(1e-6, result.describe());
  });

  it('initial softmax loss of the small CNN is near ln 3 for small weights', () => {
    const rng = new Rng(7);
    const net = smallCnn(rng);
    for (const p of net.params()) for (let i = 0; i < p.value.size; i++) p.value.data[i]! *= 0.01;
    const { loss } = softmaxCrossEntropy(
      net.forward(randomTensor(rng, [4, 2, 5, 7])),
      [0, 1, 2, 0],
    );
    expect(loss).to.be.closeTo(Math.log(3), 0.01);
  });
});

describe('Sequential with taps and frozen layers', () => {
  it('forwardWithTaps returns the output and the named activations', () => {
    const rng = new Rng(8);
    const net = smallCnn(rng);
    const x = randomTensor(rng, [2, 2, 5, 7]);
    const { y, taps } = net.forwardWithTaps(x, ['relu1', 'pool2']);
    expect([...taps.keys()]).to.deep.equal(['relu1', 'pool2']);
    expect(taps.get('relu1')!.shape).to.deep.equal([2, 3, 5, 8]);
    expect(toArray(y)).to.deep.equal(toArray(net.forward(x)));
  });

  it('backward with tap gradients matches numerical gradients of output loss + tap losses', () => {
    const rng = new Rng(9);
    const net = smallCnn(rng);
    const x = randomTensor(rng, [2, 2, 5, 7]);
    const names = ['relu1', 'conv2'];
    const { y, taps } = net.forwardWithTaps(x, names);
    const dy = rng.fillNormal(like(y));
    const tapGradients = new Map(names.map((n) => [n, rng.fillNormal(like(taps.get(n)!))]));
    const loss = (): number => {
      const r = net.forwardWithTaps(x, names);
      let s = dot(dy, r.y);
      for (const n of names) s += dot(tapGradients.get(n)!, r.taps.get(n)!);
      return s;
    };
    loss();
    zeroGrad(net.params());
    const dx = copy(net.backward(dy, { tapGradients }));
    const targets = [
      { name: 'input', value: x, grad: dx },
      ...net.params().map((p) => ({ name: p.name, value: p.value, grad: copy(p.grad) })),
    ];
    const result = checkGradients(loss, targets);
    expect(result.maxError).to.be.below(1e-6, result.describe());
  });

  it('backward(null) starts at the deepest tap and matches numerical gradients of the tap losses', () => {
    const rng = new Rng(10);
    const net = smallCnn(rng).freeze();
    const x = randomTensor(rng, [1, 2, 5, 7]);
    const names = ['relu1', 'relu2'];
    const { y, taps } = net.forwardWithTaps(x, names, { stopAtDeepestTap: true });
    expect(y).to.equal(taps.get('relu2'));
    const tapGradients = new Map(names.map((n) => [n, rng.fillNormal(like(taps.get(n)!))]));
    const loss = (): number => {
      const r = net.forwardWithTaps(x, names, { stopAtDeepestTap: true });
      return names.reduce((s, n) => s + dot(tapGradients.get(n)!, r.taps.get(n)!), 0);
    };
    zeroGrad(net.params());
    const dx = copy(net.backward(null, { tapGradients }));
    const result = checkGradients(loss, [{ name: 'input', value: x, grad: dx }]);
    expect(result.maxError).to.be.below(1e-6, result.describe());
    // Frozen: no weight gradient was computed anywhere.
    for (const p of net.params())
      expect(
        toArray(p.grad).every((v) => v === 0),
        p.name,
      ).to.equal(true);
  });

  it('freeze covers chapter 3 layers without a frozen switch, and trainableParams skips frozen ones', () => {
    const rng = new Rng(11);
    const net = smallCnn(rng).freeze(['conv1', 'fc']);
    expect(net.isFrozen('fc')).to.equal(true);
    expect(net.trainableParams().map((p) => p.name)).to.deep.equal(['conv2.weight', 'conv2.bias']);
    const x = randomTensor(rng, [2, 2, 5, 7]);
    const y = net.forward(x);
    zeroGrad(net.params());
    net.backward(rng.fillNormal(like(y)));
    for (const name of ['conv1.weight', 'fc.weight', 'fc.bias']) {
      const p = net.params().find((q) => q.name === name)!;
      expect(
        toArray(p.grad).every((v) => v === 0),
        name,
      ).to.equal(true);
    }
    expect(
      toArray(net.params().find((q) => q.name === 'conv2.weight')!.grad).some((v) => v !== 0),
    ).to.equal(true);
  });

  it('throws naming the layers when a tap name is unknown, and when backward has nothing to start from', () => {
    const net = smallCnn(new Rng(12));
    expect(() => net.forwardWithTaps(zeros([1, 2, 5, 7]), ['relu9'])).to.throw(
      /no layer named 'relu9'.*conv1, relu1/,
    );
    net.forwardWithTaps(zeros([1, 2, 5, 7]), ['relu1'], { stopAtDeepestTap: true });
    expect(() => net.backward(zeros([1, 3]) as Tensor)).to.throw(/stopped after layer relu1/);
    expect(() => net.backward(null)).to.throw(/no tap gradients/);
  });
});
