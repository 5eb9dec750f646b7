import { expect } from 'chai';
import { Rng, ShapeError, fromArray, toArray, zeros } from '../../lib/core/index.js';
import { Linear } from '../../lib/mlp/index.js';
import {
  FlattenFrom,
  Graph,
  Softmax,
  nsfwPreprocess,
  nsfwScore,
  resizePillowBilinear,
} from '../../lib/pretrained/index.js';
import { randomTensor } from './helpers.js';

describe('open_nsfw scoring', () => {
  it('resizes like Pillow BILINEAR: shrinking widens the triangle, enlarging interpolates centres', () => {
    // Halving: the triangle has radius 2 input pixels, centred at 1 and 3, so the weights are
    // (0.75, 0.75, 0.25) and (0.25, 0.75, 0.75), normalized by 1.75.
    const row = fromArray([0, 2, 4, 6], [1, 1, 4]);
    const half = toArray(resizePillowBilinear(row, 1, 2));
    expect(half[0]).to.be.closeTo(10 / 7, 1e-6);
    expect(half[1]).to.be.closeTo(32 / 7, 1e-6);
    // Doubling [0, 4]: output centres at input 0.25 and 0.75 of pixel 0, clamped at the edges.
    expect(toArray(resizePillowBilinear(fromArray([0, 4], [1, 1, 2]), 1, 4))).to.deep.equal([
      0, 1, 3, 4,
    ]);
  });

  it('preprocesses to [1, 3, 224, 224] BGR · 255 − mean with a central crop', () => {
    const rgb = zeros([3, 300, 280], 'float32');
    for (let i = 0; i < 300; i++) for (let j = 0; j < 280; j++) rgb.set(0, i, j, 1);
    const x = nsfwPreprocess(rgb);
    expect(x.shape).to.deep.equal([1, 3, 224, 224]);
    expect(x.get(0, 0, 10, 10)).to.equal(-104); // blue channel: 0 · 255 − 104
    expect(x.get(0, 2, 10, 10)).to.be.closeTo(255 - 123, 1e-4); // red channel
  });

  it('scores an image with a tiny two-class net: the NSFW probability, in [0, 1]', () => {
    const fc = new Linear(3 * 4 * 4, 2, { rng: new Rng(1), name: 'fc', dtype: 'float32' });
    const net = new Graph([
      { name: 'flat', input: 'data', layer: new FlattenFrom() },
      { name: 'fc', input: 'flat', layer: fc },
      { name: 'prob', input: 'fc', layer: new Softmax() },
    ]);
    const image = randomTensor(new Rng(2), [3, 9, 7], { dtype: 'float32' });
    for (let k = 0; k < image.size; k++) image.data[k] = Math.abs(image.data[k]!) % 1;
    const score = nsfwScore(net, image, { size: 6, crop: 4 });
    const probs = toArray(net.forward(nsfwPreprocess(image, { size: 6, crop: 4 })));
    expect(score).to.equal(probs[1]);
    expect(score).to.be.within(0, 1);
  });

  it('throws a ShapeError for an image that is not RGB [3, H, W]', () => {
    expect(() => nsfwPreprocess(zeros([1, 8, 8]))).to.throw(ShapeError);
  });
});
