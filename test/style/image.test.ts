import { expect } from 'chai';
import { Rng, fromArray, toArray, zeros, type Tensor } from '../../lib/core/index.js';
import {
  fitLongestSide,
  initialImage,
  blendedStyleImage,
  originalColors,
  resizeImage,
} from '../../lib/style/index.js';

describe('resizeImage', () => {
  it('fits chelsea’s 451×300 into a longest side of 256 as 256×170', () => {
    expect(fitLongestSide(300, 451, 256)).to.deep.equal([170, 256]);
  });

  it('keeps a constant image constant when shrinking and enlarging', () => {
    const img = zeros([3, 7, 9]);
    img.data.fill(0.3);
    for (const [h, w] of [
      [3, 4],
      [11, 20],
    ] as const) {
      for (const v of resizeImage(img, h, w).data) expect(v).to.be.closeTo(0.3, 1e-6);
    }
  });

  it('averages a 1-pixel checkerboard to grey when halving (no aliasing)', () => {
    const img = zeros([1, 8, 8]);
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) img.set(0, i, j, (i + j) % 2);
    for (const v of resizeImage(img, 4, 4).data) expect(v).to.be.closeTo(0.5, 0.15);
  });
});

describe('originalColors', () => {
  it('keeps the stylized luminance and the content’s colour', () => {
    const rng = new Rng(1);
    const stylized = rng.fillUniform(zeros([3, 2, 2]), 0.3, 0.7);
    const content = rng.fillUniform(zeros([3, 2, 2]), 0.3, 0.7);
    const out = originalColors(stylized, content);
    const Y = (t: Tensor, k: number) =>
      0.299 * t.data[k]! + 0.587 * t.data[4 + k]! + 0.114 * t.data[8 + k]!;
    for (let k = 0; k < 4; k++) expect(Y(out, k)).to.be.closeTo(Y(stylized, k), 1e-3);
  });
});

describe('initialImage', () => {
  it('is the content image for init content, and seeded noise otherwise', () => {
    const content = fromArray([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [3, 1, 2]);
    expect(toArray(initialImage(content, 'content', new Rng(0)))).to.deep.equal(
      toArray(fromArray([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [3, 1, 2], 'float32')),
    );
    const a = toArray(initialImage(content, 'noise', new Rng(5)));
    expect(a).to.deep.equal(toArray(initialImage(content, 'noise', new Rng(5))));
    for (const v of a) expect(v).to.be.within(0.4, 0.6);
  });

  it("blends 0.95 of the content with 0.05 of the style image for 'mixed', as the original tool did", () => {
    const content = fromArray([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [3, 1, 2]);
    const style = fromArray([1, 1, 0, 0, 1, 0], [3, 1, 2]);
    const mixed = toArray(initialImage(content, 'mixed', new Rng(0), { style }));
    const expected = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6].map(
      (c, i) => 0.95 * c + 0.05 * [1, 1, 0, 0, 1, 0][i]!,
    );
    mixed.forEach((v, i) => expect(v).to.be.closeTo(expected[i]!, 1e-6));
    expect(() => initialImage(content, 'mixed', new Rng(0))).to.throw(/pass \{ style \}/);
  });
});

describe('blendedStyleImage', () => {
  it('averages several style images with their blend weights', () => {
    const a = fromArray([1, 1, 1, 1, 1, 1], [3, 1, 2]);
    const b = fromArray([0, 0, 0, 0, 0, 0], [3, 1, 2]);
    const blend = toArray(
      blendedStyleImage(
        [
          { image: a, weight: 3 },
          { image: b, weight: 1 },
        ],
        1,
        2,
      ),
    );
    for (const v of blend) expect(v).to.be.closeTo(0.75, 1e-6);
  });
});
