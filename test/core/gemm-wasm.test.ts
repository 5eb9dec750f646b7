import { expect } from 'chai';
import fc from 'fast-check';
import ndarray from 'ndarray';
import { gemm, gemmNaive } from '../../lib/core/gemm.js';
import {
  createGemmKernel,
  gemmKernel,
  gemmWasm,
  gemmWasmStaged,
  gemmWasmStrided,
  relaxedSimdSupported,
  residentAddress,
  residentAlloc,
  setGemmKernel,
  wasmSimdSupported,
} from '../../lib/core/gemm-wasm.js';
import { compareToNaive, mulberry32, random, relativeError } from './gemm-fixtures.js';

const check = compareToNaive(gemmWasm);
// Problems under 8³ multiply-adds take the TypeScript path; K = 515 keeps every edge case on the
// SIMD kernel and also crosses its KC = 512 block.
const K = 515;

describe('gemmWasm builds', () => {
  it('finds WebAssembly SIMD and relaxed SIMD in this Node', () => {
    expect(wasmSimdSupported).to.equal(true);
    expect(relaxedSimdSupported()).to.equal(true);
    expect(gemmKernel().fused).to.equal(true);
  });

  // a·b + c with a = b = 1 + 2⁻¹² and c = −1: the exact product 1 + 2⁻¹¹ + 2⁻²⁴ rounds to
  // 1 + 2⁻¹¹ in float32 (a tie, to even), so mul then add gives 2⁻¹¹, while a fused
  // multiply-add rounds once and keeps the 2⁻²⁴.
  it('rounds once per multiply-add in the fused build, twice in the plain one', () => {
    const n = 8;
    const x = 1 + 2 ** -12;
    const a = new Float32Array(n * n);
    const b = new Float32Array(n * n);
    for (let i = 0; i < n; i++) {
      a[i * n] = -1; // A[i][0] · B[0][j] = −1 comes first and seeds the accumulator
      a[i * n + 1] = x;
      b[i] = 1;
      b[n + i] = x;
    }
    for (const fused of [true, false]) {
      setGemmKernel(createGemmKernel(true, fused));
      try {
        const c = new Float32Array(n * n);
        gemmWasmStrided(n, n, n, 1, a, 0, n, 1, b, 0, n, 1, 0, c, 0, n, 1);
        const expected = fused ? 2 ** -11 + 2 ** -24 : 2 ** -11;
        expect([...c].every((v) => v === expected)).to.equal(true, `fused = ${fused}: ${c[0]}`);
      } finally {
        setGemmKernel(undefined);
      }
    }
  });
});

for (const fused of [true, false]) describeBuild(fused);

function describeBuild(fused: boolean): void {
  describe(`gemmWasm (${fused ? 'fused multiply-add' : 'plain SIMD'} build)`, () => {
    before(() => setGemmKernel(createGemmKernel(true, fused)));
    after(() => setGemmKernel(undefined));

    it('runs the build it asked for', () => {
      expect(gemmKernel().fused).to.equal(fused);
    });

    it('equals naive on every edge of the 4×8 register tile', () => {
      for (const M of [1, 2, 3, 4, 5, 7, 8, 9]) {
        for (const N of [1, 3, 7, 8, 9, 15, 16, 17]) {
          expect(check('float32', M, N, K, { seed: M * 100 + N })).to.be.below(
            1e-5,
            `${M}×${N}×${K}`,
          );
        }
      }
    });

    it('equals naive across the MC, KC and NC block edges with alpha and beta', () => {
      expect(check('float32', 150, 20, 600, { alpha: -0.5, beta: 1 })).to.be.below(1e-5);
      expect(check('float32', 7, 4101, 9, { alpha: 2, beta: 0.5 })).to.be.below(1e-5);
      expect(check('float32', 131, 33, 513)).to.be.below(1e-5);
    });

    it('equals naive on transposed operands', () => {
      const opts = { transA: true, transB: true, alpha: 1.5, beta: -1 };
      expect(check('float32', 37, 45, 70, opts)).to.be.below(1e-5);
      expect(check('float32', 64, 9, 128, { transA: true })).to.be.below(1e-5);
    });

    it('writes a sparse, reversed view of a large output and nothing else', () => {
      const rand = mulberry32(11);
      const a = random('float32', [40, 60], rand).hi(40, 50);
      const b = random('float32', [50, 30], rand).step(1, -1);
      const big = random('float32', [400, 400], rand);
      const c = big.lo(10, 20).step(9, 12).hi(40, 30);
      const expected = ndarray(new Float64Array(40 * 30), [40, 30]);
      for (let i = 0; i < 40; i++) for (let j = 0; j < 30; j++) expected.set(i, j, c.get(i, j));
      const before = big.data.slice();
      gemmNaive(expected, a, b, 1, 0.5);
      gemmWasm(c, a, b, 1, 0.5);
      expect(relativeError(c, expected)).to.be.below(1e-5);
      let touched = 0;
      for (let i = 0; i < big.data.length; i++) if (big.data[i] !== before[i]) touched++;
      expect(touched).to.be.at.most(40 * 30);
    });

    it('falls back to the TypeScript gemm for float64 and mixed types', () => {
      const rand = mulberry32(5);
      const a = random('float64', [40, 50], rand);
      const b = random('float32', [50, 30], rand);
      const c = ndarray(new Float64Array(40 * 30), [40, 30]);
      const d = ndarray(new Float64Array(40 * 30), [40, 30]);
      gemmWasm(c, a, b);
      gemm(d, a, b);
      expect(Array.from(c.data)).to.deep.equal(Array.from(d.data));
    });

    it('throws naming all three shapes when they do not fit', () => {
      const a = ndarray(new Float32Array(12), [3, 4]);
      const b = ndarray(new Float32Array(10), [5, 2]);
      const c = ndarray(new Float32Array(6), [3, 2]);
      expect(() => gemmWasm(c, a, b)).to.throw(
        'gemm: cannot multiply [3, 4] by [5, 2] into [3, 2]',
      );
    });

    it('clears C when K = 0 and beta = 0', () => {
      const c = new Float32Array(64 * 64).fill(NaN);
      gemmWasmStrided(64, 64, 0, 1, c, 0, 1, 1, c, 0, 1, 1, 0, c, 0, 64, 1);
      expect(c.every((v) => v === 0)).to.equal(true);
    });

    it('equals naive on random shapes and views (property)', () => {
      const dims = fc.integer({ min: 1, max: 60 });
      const args = fc.record({
        M: dims,
        N: dims,
        K: fc.integer({ min: 1, max: 400 }),
        transA: fc.boolean(),
        transB: fc.boolean(),
        alpha: fc.constantFrom(1, -1, 0.25),
        beta: fc.constantFrom(0, 1, 2),
        seed: fc.nat(),
      });
      fc.assert(
        fc.property(args, ({ M, N, K, ...opts }) => check('float32', M, N, K, opts) < 1e-5),
        { seed: 42, numRuns: 60 },
      );
    });
  });
}

describe('gemmWasmStaged on resident operands only', () => {
  // Scratch lies above resident storage, and only kernelRegions used to grow the memory over it:
  // a product whose operands are all resident (no kernelRegions call) ran its packs past the end
  // of the memory once resident storage had pushed the scratch there.
  it('grows the memory over the scratch regions itself', () => {
    setGemmKernel(createGemmKernel(true));
    try {
      const n = 64;
      const [a, b, c] = [n * n, n * n, n * n].map((floats) => residentAlloc(floats)!);
      // Enough resident storage after them that the scratch starts past the memory's end.
      const filler = residentAlloc(gemmKernel().memory.buffer.byteLength / 4);
      expect(filler).to.not.equal(null);
      a!.fill(1);
      b!.fill(2);
      const [pa, pb, pc] = [a, b, c].map((t) => residentAddress(t!, 0)!);
      gemmWasmStaged(n, n, n, 1, pa!, n, 1, pb!, n, 1, 0, pc!, n, 1);
      expect(c!.every((v) => v === 2 * n)).to.equal(true);
    } finally {
      setGemmKernel(undefined);
    }
  });
});
