// The row passes of the centred style statistic (lib/style/rows.ts) give the bits of their plain
// loops when the arrays are resident and the WebAssembly kernel runs them, on one thread and
// split over the pool; and the plain loops compute what they say.
import { expect } from 'chai';
import {
  Rng,
  gemmKernel,
  residentZeros,
  startGemmPool,
  stopGemmPool,
} from '../../lib/core/index.js';
import { addToRows, centre, rowMeans } from '../../lib/style/rows.js';

// Rows of every length mod 4 (the kernel's four-lane body and its tail), one row, and a layer
// large enough that the pool splits it by rows.
const shapes: [number, number][] = [
  [1, 1],
  [3, 3],
  [2, 4],
  [5, 5],
  [7, 18],
  [3, 16387],
  [64, 4099],
];

function features(C: number, M: number, seed: number): Float32Array {
  // Magnitudes from 2⁻⁴⁰ to 2⁴⁰: float64 sums of such float32 values are not exact, so an order
  // of summation other than rowSum's shows in the bits (over 1 … 1000 they were exact).
  const rng = new Rng(seed);
  return Float32Array.from({ length: C * M }, () => rng.normal() * 2 ** (rng.int(81) - 40) + 0.3);
}

function resident(a: Float32Array): Float32Array {
  const r = residentZeros([a.length])!.data;
  r.set(a);
  return r;
}

const firstDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number =>
  Array.from(a).findIndex((v, i) => !Object.is(v, b[i]));

describe('style row passes (channel means, centring, per-row constants)', () => {
  for (const threads of [1, 2]) {
    it(`give the bits of the plain loops on resident arrays (${threads} thread(s))`, async () => {
      if (threads === 2) expect(await startGemmPool(2)).to.equal(2);
      const ex = gemmKernel().exports;
      const calls: string[] = [];
      const spied = {
        rowSums: ex.rowSums,
        centreRows: ex.centreRows,
        addRowConstants: ex.addRowConstants,
      };
      ex.rowSums = (...a) => (calls.push('rowSums'), spied.rowSums(...a));
      ex.centreRows = (...a) => (calls.push('centreRows'), spied.centreRows(...a));
      ex.addRowConstants = (...a) => (calls.push('addRowConstants'), spied.addRowConstants(...a));
      try {
        for (const [C, M] of shapes) {
          const f = features(C, M, C * 31 + M);
          const fr = resident(f);
          const label = `C = ${C}, M = ${M}`;
          const mu = rowMeans(f, C, M);
          const muKernel = rowMeans(fr, C, M);
          expect(firstDifference(muKernel, mu)).to.equal(-1, `means, ${label}`);
          // centre returns a scratch buffer the next call reuses: copy each result out.
          const centred = Float32Array.from(centre(f, C, M, mu).subarray(0, C * M));
          const centredKernel = Float32Array.from(centre(fr, C, M, mu).subarray(0, C * M));
          expect(firstDifference(centredKernel, centred)).to.equal(-1, `centred, ${label}`);
          const g = Float64Array.from({ length: C }, (_, i) => (i - 2.5) * 0.37);
          const [d, dr] = [Float32Array.from(f), resident(f)];
          addToRows(d, g, C, M);
          addToRows(dr, g, C, M);
          expect(firstDifference(dr, d)).to.equal(-1, `row constants, ${label}`);
        }
      } finally {
        Object.assign(ex, spied);
        if (threads === 2) await stopGemmPool();
      }
      // On one thread every kernel call is this thread's; on two the helper may take them all.
      if (threads === 1) {
        const perShape = ['rowSums', 'centreRows', 'addRowConstants'];
        expect(calls).to.deep.equal(shapes.flatMap(() => perShape));
      }
    });
  }

  it('compute the means, the centred features and the sums they say (float64 reference)', () => {
    const [C, M] = [3, 1001];
    const f = features(C, M, 9);
    const mu = rowMeans(f, C, M);
    const out = centre(f, C, M, mu);
    const d = Float32Array.from(f);
    const g = Float64Array.from([1.5, -2, 0.25]);
    addToRows(d, g, C, M);
    for (let i = 0; i < C; i++) {
      let exact = 0;
      for (let k = 0; k < M; k++) exact += f[i * M + k]!;
      exact /= M;
      expect(mu[i]).to.be.closeTo(exact, 1e-9 * Math.abs(exact) + 1e-9);
      for (const k of [0, 1, 2, 3, 500, M - 1]) {
        expect(out[i * M + k]).to.equal(Math.fround(f[i * M + k]! - mu[i]!));
        expect(d[i * M + k]).to.equal(Math.fround(f[i * M + k]! + g[i]!));
      }
    }
  });

  it('leave float64 features to the plain loops', () => {
    const f = Float64Array.from(features(2, 6, 4));
    const mu = rowMeans(f, 2, 6);
    const out = centre(f, 2, 6, mu);
    expect(out).to.be.instanceOf(Float64Array);
    expect(out[7]).to.equal(f[7]! - mu[1]!);
  });
});
