import { expect } from 'chai';
import fc from 'fast-check';
import ndarray from 'ndarray';
import { gemm, gemmNaive, gemmStrided } from '../../lib/core/gemm.js';
import { compareToNaive, mulberry32, random, relativeError, tolerance } from './gemm-fixtures.js';

const check = compareToNaive(gemm);

describe('gemm', () => {
  it('multiplies a hand-checked 2×3 by 3×2 example', () => {
    const a = ndarray(new Float64Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    const b = ndarray(new Float64Array([7, 8, 9, 10, 11, 12]), [3, 2]);
    const c = ndarray(new Float64Array(4), [2, 2]);
    gemm(c, a, b);
    expect(Array.from(c.data)).to.deep.equal([58, 64, 139, 154]);
  });

  it('returns the output array it was given', () => {
    const a = ndarray(new Float64Array(6), [2, 3]);
    const b = ndarray(new Float64Array(6), [3, 2]);
    const c = ndarray(new Float64Array(4), [2, 2]);
    expect(gemm(c, a, b)).to.equal(c);
    expect(gemmNaive(c, a, b)).to.equal(c);
  });

  it('throws naming all three shapes when they do not fit', () => {
    const a = ndarray(new Float64Array(12), [3, 4]);
    const b = ndarray(new Float64Array(10), [5, 2]);
    const c = ndarray(new Float64Array(6), [3, 2]);
    expect(() => gemm(c, a, b)).to.throw('gemm: cannot multiply [3, 4] by [5, 2] into [3, 2]');
    expect(() => gemmNaive(c, a, b)).to.throw('[3, 4] by [5, 2] into [3, 2]');
  });

  // The blocking in gemm.ts: a 3×2 register tile (MR × NR) and MC = 120, KC = 256, NC = 1024.
  it('equals naive on every tile and block edge (float64, beta 0 over NaN)', () => {
    for (const M of [1, 2, 3, 4, 5, 119, 120, 121, 241]) {
      for (const [N, K] of [
        [1, 1],
        [7, 300],
        [33, 257],
      ] as const) {
        expect(check('float64', M, N, K, { seed: M * 31 + N })).to.be.below(
          1e-12,
          `${M}×${N}×${K}`,
        );
      }
    }
  });

  it('equals naive across NC and KC block boundaries with beta 1 and alpha −0.5', () => {
    expect(check('float64', 9, 2051, 40, { alpha: -0.5, beta: 1 })).to.be.below(1e-12);
    expect(check('float32', 70, 20, 520, { alpha: -0.5, beta: 1 })).to.be.below(1e-5);
  });

  it('fills the fixed-size packs exactly at full blocks and one past them', () => {
    // M = MC, N = NC, K = KC use every slot of the packed planes; one more in each direction
    // starts a second, nearly empty block.
    for (const [M, N, K] of [
      [120, 1024, 256],
      [121, 1025, 257],
      [3, 1024, 512],
      [4, 2047, 3],
    ] as const) {
      expect(check('float64', M, N, K, { beta: 1 })).to.be.below(1e-12, `${M}×${N}×${K}`);
    }
  });

  it('leaves nothing behind in the packs: a large product then a small one', () => {
    // The packs are module-level and reused across calls, so a small call after a large one
    // finds the large one's data past its own slivers; it must neither read nor store it.
    expect(check('float64', 121, 67, 300)).to.be.below(1e-12);
    expect(check('float32', 5, 3, 7)).to.be.below(1e-5);
    expect(check('float64', 1, 1, 257)).to.be.below(1e-12);
  });

  it('equals naive on transposed operands', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const opts = { transA: true, transB: true, alpha: 2, beta: 0.5 };
      expect(check(dtype, 37, 45, 70, opts)).to.be.below(tolerance(dtype));
      expect(check(dtype, 5, 3, 2, opts)).to.be.below(tolerance(dtype));
    }
  });

  it('writes through sliced, stepped and offset views without touching the rest', () => {
    const rand = mulberry32(7);
    const bigA = random('float64', [40, 50], rand);
    const bigB = random('float32', [60, 30], rand);
    const bigC = random('float64', [45, 45], rand);
    const a = bigA.lo(3, 2).hi(33, 21).step(1, 1); // 33×21
    const bb = bigB.lo(2, 4).hi(21, 17).step(1, -1); // 21×17, columns reversed
    const c = bigC.lo(4, 6).step(1, 2).hi(33, 17); // 33×17, every other column
    const expected = ndarray(new Float64Array(33 * 17), [33, 17]);
    for (let i = 0; i < 33; i++) for (let j = 0; j < 17; j++) expected.set(i, j, c.get(i, j));
    const before = bigC.data.slice();
    gemmNaive(expected, a, bb, 1.5, -1);
    gemm(c, a, bb, 1.5, -1);
    expect(relativeError(c, expected)).to.be.below(1e-12);
    for (let i = 0; i < 45; i++) {
      for (let j = 0; j < 45; j++) {
        const inside = i >= 4 && i < 37 && j >= 6 && (j - 6) % 2 === 0 && j < 6 + 2 * 17;
        if (!inside) expect(bigC.get(i, j)).to.equal(before[i * 45 + j]);
      }
    }
  });

  it('equals naive on random shapes, views and dtypes (property)', () => {
    const dims = fc.integer({ min: 1, max: 70 });
    const args = fc.record({
      M: dims,
      N: dims,
      K: dims,
      transA: fc.boolean(),
      transB: fc.boolean(),
      alpha: fc.constantFrom(1, -1, 0.25),
      beta: fc.constantFrom(0, 1, 2),
      dtype: fc.constantFrom('float32' as const, 'float64' as const),
      seed: fc.nat(),
    });
    fc.assert(
      fc.property(args, ({ M, N, K, dtype, ...opts }) => {
        return check(dtype, M, N, K, opts) < tolerance(dtype);
      }),
      { seed: 42, numRuns: 150 },
    );
  });

  it('handles K = 0 and alpha = 0 as a pure scaling of C', () => {
    const c = ndarray(new Float64Array([1, NaN, 3, 4]), [2, 2]);
    gemmStrided(
      2,
      2,
      0,
      1,
      new Float64Array(0),
      0,
      0,
      1,
      new Float64Array(0),
      0,
      2,
      1,
      0,
      c.data,
      0,
      2,
      1,
    );
    expect(Array.from(c.data)).to.deep.equal([0, 0, 0, 0]);
    const d = new Float32Array([1, 2, 3, 4]);
    const x = new Float64Array([NaN, 1, 1, 1]);
    gemmStrided(2, 2, 2, 0, x, 0, 2, 1, x, 0, 2, 1, 2, d, 0, 2, 1);
    expect(Array.from(d)).to.deep.equal([2, 4, 6, 8]);
  });

  it('mixes float32 and float64 operands through raw strides', () => {
    const rand = mulberry32(3);
    const a = random('float32', [64, 48], rand);
    const b = random('float64', [48, 40], rand);
    const c = ndarray(new Float32Array(64 * 40).fill(NaN), [64, 40]);
    const expected = ndarray(new Float64Array(64 * 40), [64, 40]);
    gemmNaive(expected, a, b);
    gemmStrided(64, 40, 48, 1, a.data, 0, 48, 1, b.data, 0, 40, 1, 0, c.data, 0, 40, 1);
    expect(relativeError(c, expected)).to.be.below(1e-5);
  });
});
