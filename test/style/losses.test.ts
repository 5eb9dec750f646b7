import { expect } from 'chai';
import {
  Rng,
  checkGradients,
  copy,
  fromArray,
  toArray,
  zeros,
  type Tensor,
} from '../../lib/core/index.js';
import {
  blendStyleTargets,
  contentLoss,
  contentTargetNorm,
  gram,
  styleLoss,
  styleTarget,
  totalVariation,
  type StyleTargetOptions,
} from '../../lib/style/index.js';

describe('gram', () => {
  it('is F Fᵀ divided by the number of positions on a 2×(1×2) example', () => {
    const F = fromArray([1, 2, 3, 4], [2, 1, 2]);
    // F Fᵀ = [[1·1 + 2·2, 1·3 + 2·4], [·, 3·3 + 4·4]] = [[5, 11], [11, 25]]; M = 2.
    expect(toArray(gram(F))).to.deep.equal([2.5, 5.5, 5.5, 12.5]);
  });

  it('accepts [1, C, H, W] and gives the same matrix as [C, H, W]', () => {
    const F = new Rng(1).fillNormal(zeros([5, 3, 4]));
    const F4 = fromArray(toArray(F), [1, 5, 3, 4]);
    expect(toArray(gram(F4))).to.deep.equal(toArray(gram(F)));
  });

  it('subtracts channel means when centred', () => {
    const F = fromArray([1, 3, 10, 14], [2, 1, 2]);
    // centred rows [-1, 1] and [-2, 2]: covariance [[1, 2], [2, 4]].
    expect(toArray(gram(F, { centred: true }))).to.deep.equal([1, 2, 2, 4]);
  });

  it('gives the same result in float32 as in float64 to single precision', () => {
    const F = new Rng(2).fillNormal(zeros([7, 5, 6]));
    const a = toArray(gram(F));
    const b = toArray(gram(copy(F, 'float32')));
    a.forEach((v, i) => expect(b[i]).to.be.closeTo(v, 1e-5));
  });
});

describe('contentLoss', () => {
  it('is ½ Σ (F − P)² with gradient F − P (eq. 1–2)', () => {
    const F = fromArray([1, 2, 3], [3, 1, 1]);
    const P = fromArray([0, 2, 5], [3, 1, 1]);
    const { loss, dF } = contentLoss(F, P);
    expect(loss).to.equal(2.5);
    expect(toArray(dF)).to.deep.equal([1, 0, -2]);
  });

  for (const normalize of ['paper', 'target'] as const) {
    it(`matches the numerical gradient (normalize: ${normalize})`, () => {
      const rng = new Rng(3);
      const F = rng.fillNormal(zeros([3, 4, 5]));
      const P = rng.fillNormal(zeros([3, 4, 5]));
      const { dF } = contentLoss(F, P, { normalize });
      const r = checkGradients(
        () => contentLoss(F, P, { normalize }).loss,
        [{ name: 'F', value: F, grad: dF }],
      );
      expect(r.maxError).to.be.below(1e-6, r.describe()); // typically 1e-8 (worst at tiny entries)
    });
  }

  it("gives the same bits with the target's Σ P² passed in (contentTargetNorm)", () => {
    const rng = new Rng(4);
    const F = rng.fillNormal(zeros([3, 4, 5]));
    const P = rng.fillNormal(zeros([3, 4, 5]), 0, 3);
    const norm = contentTargetNorm(P);
    const own = contentLoss(F, P, { normalize: 'target', gradientScale: 0.7 });
    const given = contentLoss(F, P, {
      normalize: 'target',
      gradientScale: 0.7,
      targetSquaredNorm: norm,
    });
    expect(given.loss).to.equal(own.loss);
    expect(toArray(given.dF)).to.deep.equal(toArray(own.dF));
    // And it is used: a wrong norm changes the loss.
    expect(
      contentLoss(F, P, { normalize: 'target', targetSquaredNorm: 2 * norm }).loss,
    ).to.be.closeTo(own.loss / 2, 1e-12);
  });

  it('names both shapes when they differ', () => {
    expect(() => contentLoss(zeros([2, 3, 3]), zeros([2, 3, 4]))).to.throw(
      /\[2, 3, 4\].*\[2, 3, 3\]/,
    );
  });
});

describe('styleLoss', () => {
  const cases: StyleTargetOptions[] = [
    { statistic: 'gram', normalize: 'paper' },
    { statistic: 'gram', normalize: 'target' },
    { statistic: 'centred', normalize: 'paper' },
    { statistic: 'centred', normalize: 'target' },
  ];
  for (const options of cases) {
    it(`matches the numerical gradient (${options.statistic}, ${options.normalize})`, () => {
      const rng = new Rng(4);
      // Style image of a different size than the optimized one: the per-position Gram allows it.
      const target = styleTarget(rng.fillNormal(zeros([1, 6, 5, 3])), options);
      const F = rng.fillNormal(zeros([1, 6, 4, 7]));
      const { dF } = styleLoss(F, target);
      const r = checkGradients(
        () => styleLoss(F, target).loss,
        [{ name: 'F', value: F, grad: dF }],
      );
      expect(r.maxError).to.be.below(1e-6, r.describe()); // typically 1e-8 (worst at tiny entries)
    });
  }

  it('equals the paper’s 1/(4N²M²) Σ (G − A)² with unnormalized Gram matrices (eq. 4)', () => {
    const rng = new Rng(5);
    const A = rng.fillNormal(zeros([3, 2, 4]));
    const F = rng.fillNormal(zeros([3, 2, 4]));
    const N = 3;
    const M = 8;
    const G = toArray(gram(F)).map((v) => v * M);
    const Ag = toArray(gram(A)).map((v) => v * M);
    const expected = G.reduce((s, g, i) => s + (g - Ag[i]!) ** 2, 0) / (4 * N * N * M * M);
    expect(styleLoss(F, styleTarget(A)).loss).to.be.closeTo(expected, 1e-12);
  });

  it('is zero with a zero gradient when the image is the style image', () => {
    const A = new Rng(6).fillNormal(zeros([4, 3, 3]));
    const { loss, dF } = styleLoss(A, styleTarget(A, { statistic: 'centred' }));
    expect(loss).to.be.below(1e-24);
    expect(Math.max(...toArray(dF).map(Math.abs))).to.be.below(1e-12);
  });

  it('blends targets of several style images by their weights', () => {
    const rng = new Rng(7);
    const t1 = styleTarget(rng.fillNormal(zeros([2, 3, 3])));
    const t2 = styleTarget(rng.fillNormal(zeros([2, 3, 3])));
    const b = blendStyleTargets([t1, t2], [3, 1]);
    expect(b.gram[1]).to.be.closeTo(0.75 * t1.gram[1]! + 0.25 * t2.gram[1]!, 1e-12);
  });

  it('refuses features whose channel count differs from the target', () => {
    const t = styleTarget(zeros([3, 2, 2]));
    expect(() => styleLoss(zeros([4, 2, 2]), t)).to.throw(/channels differ/);
  });
});

describe('totalVariation', () => {
  it('is the mean squared neighbour difference along rows plus along columns', () => {
    // One channel [[0, 1], [2, 4]]: horizontal (1² + 2²)/2 = 2.5, vertical (2² + 3²)/2 = 6.5.
    const { loss } = totalVariation(fromArray([0, 1, 2, 4], [1, 2, 2]));
    expect(loss).to.equal(9);
  });

  it('matches the numerical gradient on a 2×3×5 image', () => {
    const x = new Rng(8).fillNormal(zeros([1, 2, 3, 5]));
    const { dImage } = totalVariation(x);
    const r = checkGradients(
      () => totalVariation(x).loss,
      [{ name: 'image', value: x, grad: dImage }],
    );
    expect(r.maxError).to.be.below(1e-6, r.describe()); // typically 1e-8 (worst at tiny entries)
  });
});

describe('loss gradients into a given buffer', () => {
  const rng = new Rng(77);
  const F = rng.fillUniform(zeros([1, 4, 5, 6], 'float32'), -1, 1);
  const P = rng.fillUniform(zeros([1, 4, 5, 6], 'float32'), -1, 1);
  const S = rng.fillUniform(zeros([1, 4, 7, 3], 'float32'), -1, 1);
  const image = rng.fillUniform(zeros([3, 5, 6], 'float32'), 0, 1);

  it('writes the same values as a fresh tensor, over stale contents, and returns that buffer', () => {
    for (const statistic of ['gram', 'centred'] as const) {
      const target = styleTarget(S, { statistic, normalize: 'target' });
      const out = rng.fillUniform(zeros([1, 4, 5, 6], 'float32'), -9, 9);
      const fresh = styleLoss(F, target);
      const reused = styleLoss(F, target, out);
      expect(reused.dF).to.equal(out);
      expect(reused.loss).to.equal(fresh.loss);
      expect(Array.from(out.data)).to.deep.equal(Array.from(fresh.dF.data));
    }
    const out = rng.fillUniform(zeros([1, 4, 5, 6], 'float32'), -9, 9);
    const c = contentLoss(F, P, { normalize: 'target', out });
    expect(c.dF).to.equal(out);
    const cFresh = contentLoss(F, P, { normalize: 'target' });
    expect(c.loss).to.equal(cFresh.loss);
    expect(Array.from(out.data)).to.deep.equal(Array.from(cFresh.dF.data));
    const tvOut = rng.fillUniform(zeros([3, 5, 6], 'float32'), -9, 9);
    const tv = totalVariation(image, tvOut);
    expect(tv.dImage).to.equal(tvOut);
    expect(Array.from(tvOut.data)).to.deep.equal(Array.from(totalVariation(image).dImage.data));
  });

  it('scales the gradient, not the loss, by gradientScale (the layer weight the caller folds in)', () => {
    const close = (a: Tensor, b: Tensor, w: number, what: string): void => {
      const worst = Math.max(...Array.from(a.data, (v, i) => Math.abs(v - w * b.data[i]!)));
      const size = Math.max(...Array.from(b.data, (v) => Math.abs(w * v)));
      expect(worst / size).to.be.below(1e-6, what);
    };
    for (const statistic of ['gram', 'centred'] as const) {
      const target = styleTarget(S, { statistic, normalize: 'target' });
      const [plain, scaled] = [styleLoss(F, target), styleLoss(F, target, undefined, -2.5)];
      expect(scaled.loss).to.equal(plain.loss);
      close(scaled.dF, plain.dF, -2.5, statistic);
    }
    const [plain, scaled] = [contentLoss(F, P), contentLoss(F, P, { gradientScale: 3e3 })];
    expect(scaled.loss).to.equal(plain.loss);
    close(scaled.dF, plain.dF, 3e3, 'content');
  });

  it('refuses a buffer of another shape or dtype, naming both shapes', () => {
    const target = styleTarget(S);
    expect(() => styleLoss(F, target, zeros([1, 4, 6, 5], 'float32'))).to.throw(
      /\[1, 4, 6, 5\].*\[1, 4, 5, 6\]|\[1, 4, 5, 6\].*\[1, 4, 6, 5\]/,
    );
    expect(() => contentLoss(F, P, { out: zeros([1, 4, 5, 6], 'float64') })).to.throw(/float32/);
  });
});
