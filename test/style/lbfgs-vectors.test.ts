// L-BFGS's vector operations (lib/style/lbfgs-vectors.ts) give the same bits on vectors in kernel
// memory, where the WebAssembly kernel runs them (on one thread or split over the pool), as their
// TypeScript loops on ordinary arrays; and those loops compute what they say.
import { expect } from 'chai';
import { Rng, gemmKernel, startGemmPool, stopGemmPool } from '../../lib/core/index.js';
import {
  BLOCK,
  axpy,
  axpyDot,
  axpyScaleDot,
  dotProduct,
  vectorZeros,
} from '../../lib/style/lbfgs-vectors.js';

// Lengths around every edge: the four-lane body's tail, one block, a block and a tail, and the
// twelve blocks of a 256 px image (196608 entries), which the pool splits.
const lengths = [1, 3, 4, 5, BLOCK - 1, BLOCK, BLOCK + 3, 2 * BLOCK + 7, 12 * BLOCK];

// Magnitudes from 2⁻⁴⁰ to 2⁴⁰, so float64 sums are inexact and any other order shows in the bits.
function values(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => rng.normal() * 2 ** (rng.int(81) - 40));
}

function inKernel(a: Float64Array): Float64Array {
  const v = vectorZeros(a.length);
  v.set(a);
  return v;
}

const firstDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number =>
  Array.from(a).findIndex((v, i) => !Object.is(v, b[i]));

// Every operation on copies of the same vectors, returning its results.
function runAll(n: number, place: (a: Float64Array) => Float64Array): (number | Float64Array)[] {
  const [x, z, y0] = [values(n, 1), values(n, 2), values(n, 3)];
  const [a, b, c] = [place(x), place(z), place(y0)];
  const d1 = dotProduct(a, b);
  const d2 = axpyDot(c, -0.37, a, b);
  const d3 = axpyScaleDot(c, 1.9, b, 0.61, a);
  axpy(c, 2.5e-3, a);
  return [d1, d2, d3, Float64Array.from(c)];
}

describe('L-BFGS vector operations', () => {
  for (const threads of [1, 2]) {
    it(`give the bits of the TypeScript loops in kernel memory (${threads} thread(s))`, async () => {
      if (threads === 2) expect(await startGemmPool(2)).to.equal(2);
      const ex = gemmKernel().exports;
      const spied = {
        dotBlocks: ex.dotBlocks,
        axpyScaleDotBlocks: ex.axpyScaleDotBlocks,
        axpyBlocks: ex.axpyBlocks,
      };
      let kernelCalls = 0;
      ex.dotBlocks = (...a) => (kernelCalls++, spied.dotBlocks(...a));
      ex.axpyScaleDotBlocks = (...a) => (kernelCalls++, spied.axpyScaleDotBlocks(...a));
      ex.axpyBlocks = (...a) => (kernelCalls++, spied.axpyBlocks(...a));
      try {
        for (const n of lengths) {
          const plain = runAll(n, (a) => Float64Array.from(a));
          const calls = kernelCalls;
          const kernel = runAll(n, inKernel);
          if (threads === 1) expect(kernelCalls).to.be.above(calls, `kernel ran, n = ${n}`);
          for (let i = 0; i < 3; i++) {
            expect(Object.is(kernel[i], plain[i])).to.equal(true, `dot ${i}, n = ${n}`);
          }
          expect(firstDifference(kernel[3] as Float64Array, plain[3] as Float64Array)).to.equal(
            -1,
            `y, n = ${n}`,
          );
        }
      } finally {
        Object.assign(ex, spied);
        if (threads === 2) await stopGemmPool();
      }
    });
  }

  it('compute the dot products and updates they say (to float64 rounding)', () => {
    const n = BLOCK + 5;
    const [x, z] = [values(n, 4).map((v) => v / 2 ** 30), values(n, 5).map((v) => v / 2 ** 30)];
    const y = values(n, 6).map((v) => v / 2 ** 30);
    let exact = 0;
    for (let i = 0; i < n; i++) exact += x[i]! * z[i]!;
    const scale = x.reduce((s, v, i) => s + Math.abs(v * z[i]!), 0);
    expect(Math.abs(dotProduct(x, z) - exact)).to.be.below(1e-12 * scale);
    const updated = Float64Array.from(y);
    const d = axpyScaleDot(updated, 0.5, x, 3, z);
    for (const i of [0, 1, 2, 3, 4, BLOCK, n - 1]) {
      expect(updated[i]).to.equal((y[i]! + 0.5 * x[i]!) * 3);
    }
    let expected = 0;
    for (let i = 0; i < n; i++) expected += z[i]! * updated[i]!;
    expect(Math.abs(d - expected)).to.be.below(1e-12 * scale * 10);
  });
});
