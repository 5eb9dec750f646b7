import { expect } from 'chai';
import { Rng, copy, fromArray, reshape, toArray, type Tensor } from '../../lib/core/index.js';
import {
  Graph,
  LRN,
  caffeClip,
  caffeDeprocess,
  caffePreprocess,
  dream,
  dreamStep,
  octaveSizes,
  resizeBilinear,
  roll2d,
} from '../../lib/pretrained/index.js';
import { Pointwise, randomTensor } from './helpers.js';

// A tiny "feature network": two 1×1 convolutions with an LRN between them.
function tinyNet(seed: number): Graph {
  const rng = new Rng(seed);
  return new Graph([
    { name: 'conv1', input: 'data', layer: new Pointwise(rng, 3, 4, 'conv1') },
    { name: 'norm1', input: 'conv1', layer: new LRN(3, { alpha: 0.5 }) },
    { name: 'conv2', input: 'norm1', layer: new Pointwise(rng, 4, 2, 'conv2') },
  ]);
}

function objective(net: Graph, image: Tensor, layer: string): number {
  const [C, H, W] = image.shape as [number, number, number];
  const { taps } = net.forwardWithTaps(reshape(copy(image), [1, C, H, W]), [layer]);
  return toArray(taps.get(layer)!).reduce((s, v) => s + 0.5 * v * v, 0);
}

describe('DeepDream', () => {
  it('roll2d shifts circularly like np.roll (worked example)', () => {
    const x = fromArray([1, 2, 3, 4, 5, 6], [1, 2, 3]);
    expect(toArray(roll2d(x, 0, 1))).to.deep.equal([3, 1, 2, 6, 4, 5]);
    expect(toArray(roll2d(x, 1, -1))).to.deep.equal([5, 6, 4, 2, 3, 1]);
    expect(toArray(roll2d(roll2d(x, 3, 5), -3, -5))).to.deep.equal(toArray(x));
  });

  it('resizeBilinear aligns corners like zoom(order = 1) (worked example)', () => {
    const x = fromArray([0, 3], [1, 1, 2]);
    expect(toArray(resizeBilinear(x, 1, 4))).to.deep.equal([0, 1, 2, 3]);
    const y = resizeBilinear(fromArray([0, 2, 4, 6], [1, 2, 2]), 3, 3);
    expect(toArray(y)).to.deep.equal([0, 1, 2, 2, 3, 4, 4, 5, 6]);
  });

  it('octave sizes shrink by 1.4 each time, rounded, smallest first', () => {
    expect(octaveSizes(224, 300, 4, 1.4)).to.deep.equal([
      [81, 109],
      [114, 153],
      [160, 214],
      [224, 300],
    ]);
  });

  it('one normalized step moves the image by stepSize on average and raises the objective', () => {
    const net = tinyNet(1);
    const image = randomTensor(new Rng(2), [3, 5, 6]);
    const before = copy(image);
    const o0 = objective(net, image, 'norm1');
    const reported = dreamStep(net, image, { layer: 'norm1', stepSize: 0.01, jitter: 0 });
    expect(reported).to.be.closeTo(o0, 1e-9);
    const moved = toArray(image).map((v, k) => Math.abs(v - toArray(before)[k]!));
    expect(moved.reduce((a, b) => a + b, 0) / moved.length).to.be.closeTo(0.01, 1e-12);
    expect(objective(net, image, 'norm1')).to.be.above(o0);
  });

  it('clips each channel to its range after a step', () => {
    const net = tinyNet(3);
    const image = randomTensor(new Rng(4), [3, 4, 4]);
    dreamStep(net, image, {
      layer: 'conv2',
      stepSize: 5,
      jitter: 2,
      rng: new Rng(5),
      clip: { lo: [-0.1, -1, -2], hi: [0.1, 1, 2] },
    });
    for (let c = 0; c < 3; c++) {
      const v = toArray(image.pick(c, null, null) as Tensor);
      expect(Math.max(...v.map(Math.abs))).to.be.at.most([0.1, 1, 2][c]!);
    }
  });

  it('dreams over octaves: same shape out, a larger objective, the same result from the same seed', () => {
    const image = randomTensor(new Rng(6), [3, 12, 10]);
    const run = (): Tensor =>
      dream(tinyNet(7), image, {
        layer: 'conv2',
        octaves: 3,
        iterations: 3,
        jitter: 2,
        stepSize: 0.05,
        rng: new Rng(8),
      });
    const out = run();
    expect(out.shape).to.deep.equal([3, 12, 10]);
    expect(objective(tinyNet(7), out, 'conv2')).to.be.above(objective(tinyNet(7), image, 'conv2'));
    expect(toArray(run())).to.deep.equal(toArray(out));
    expect(toArray(image)).to.deep.equal(toArray(randomTensor(new Rng(6), [3, 12, 10])));
  });

  it('reports each step to onStep, octave by octave', () => {
    const calls: [number, number][] = [];
    dream(tinyNet(9), randomTensor(new Rng(1), [3, 6, 6]), {
      layer: 'conv1',
      octaves: 2,
      iterations: 2,
      jitter: 0,
      onStep: (octave, step) => calls.push([octave, step]),
    });
    expect(calls).to.deep.equal([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
  });

  it('caffePreprocess and caffeDeprocess invert each other (RGB [0, 1] ↔ BGR − mean)', () => {
    const rgb = fromArray([0.2, 0.4, 0.6], [3, 1, 1]);
    const bgr = caffePreprocess(rgb);
    expect(toArray(bgr)).to.deep.equal(
      [0.6 * 255 - 104, 0.4 * 255 - 116, 0.2 * 255 - 122].map(Math.fround),
    );
    toArray(caffeDeprocess(bgr)).forEach((v, i) =>
      expect(v).to.be.closeTo([0.2, 0.4, 0.6][i]!, 1e-6),
    );
    expect(caffeClip()).to.deep.equal({ lo: [-104, -116, -122], hi: [151, 139, 133] });
  });
});
