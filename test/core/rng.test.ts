import { expect } from 'chai';
import { Rng, zeros, toArray } from '../../lib/core/index.js';

describe('Rng', () => {
  it('gives the same stream for the same seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    for (let i = 0; i < 100; i++) expect(a.next()).to.equal(b.next());
    expect(a.normal()).to.equal(b.normal());
  });

  it('gives different streams for different seeds', () => {
    expect(new Rng(1).next()).to.not.equal(new Rng(2).next());
  });

  it('draws uniforms in [0, 1) with mean near 1/2', () => {
    const rng = new Rng(7);
    let s = 0;
    for (let i = 0; i < 20000; i++) {
      const u = rng.next();
      expect(u).to.be.at.least(0).and.below(1);
      s += u;
    }
    expect(s / 20000).to.be.closeTo(0.5, 0.01);
  });

  it('draws normals with the requested mean and standard deviation', () => {
    const rng = new Rng(3);
    const n = 40000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal(2, 3);
      s += z;
      s2 += z * z;
    }
    const mean = s / n;
    expect(mean).to.be.closeTo(2, 0.05);
    expect(Math.sqrt(s2 / n - mean * mean)).to.be.closeTo(3, 0.05);
  });

  it('shuffles into a permutation, reproducibly', () => {
    const p = new Rng(5).permutation(50);
    expect([...p].sort((a, b) => a - b)).to.deep.equal([...Array(50).keys()]);
    expect([...new Rng(5).permutation(50)]).to.deep.equal([...p]);
  });

  it('chooses k distinct values below n', () => {
    const c = new Rng(9).choice(1000, 100);
    expect(new Set(c).size).to.equal(100);
    expect(Math.max(...c)).to.be.below(1000);
    expect(() => new Rng(1).choice(3, 4)).to.throw(/cannot draw 4 distinct values from 3/);
  });

  it('fills a view the same as a contiguous tensor of its shape', () => {
    const big = zeros([4, 6]);
    const view = big.lo(1, 2).hi(2, 3);
    new Rng(11).fillNormal(view);
    const dense = new Rng(11).fillNormal(zeros([2, 3]));
    expect(toArray(view)).to.deep.equal(toArray(dense));
    expect(big.get(0, 0)).to.equal(0);
  });
});
