import { expect } from 'chai';
import fc from 'fast-check';
import {
  poolBusyMs,
  startGemmPool,
  stopGemmPool,
  wakePool,
  withoutPool,
} from '../../lib/core/gemm-pool.js';
import {
  BLOCKS,
  CONTROL_WORDS,
  convUnitArgs,
  convUnits,
  guidedBounds,
  JOB,
  KIND,
  MAX_GEMM_BLOCKS,
  NEXT,
  runBlock,
  SPIN_MS,
} from '../../lib/core/gemm-pool-protocol.js';
import {
  convPassStaged,
  gemmKernel,
  gemmWasm,
  gemmWasmStaged,
  gemmWasmStagedBatch,
  kernelRegions,
  type Im2colArgs,
} from '../../lib/core/gemm-wasm.js';
import { Rng } from '../../lib/core/rng.js';
import { compareToNaive, mulberry32, random } from './gemm-fixtures.js';
import ndarray from 'ndarray';

const check = compareToNaive(gemmWasm);

// An im2col geometry of `images` 32×32 images of C channels, 3×3 kernel, pad 1, the column
// matrix of all images side by side (row length images·1024), in fresh kernel regions filled
// with seeded values; returns the arguments of image 0 and the byte steps between images.
function stagedIm2col(
  images: number,
  C: number,
): { args: Im2colArgs; imageStep: number; colsStep: number; x: number; cols: number } {
  const [H, W, P] = [32, 32, 1024];
  const L = images * P;
  const { heap, at } = kernelRegions([images * C * H * W, C * 9 * L]);
  const [x, cols] = at as [number, number];
  const rng = new Rng(5);
  for (let i = 0; i < images * C * H * W; i++) heap[(x >> 2) + i] = rng.normal();
  for (let i = 0; i < C * 9 * L; i++) heap[(cols >> 2) + i] = rng.normal();
  const args: Im2colArgs = [x, C, H, W, 3, 3, H, W, 1, 1, 1, 1, 1, 1, cols, L];
  return { args, imageStep: C * H * W * 4, colsStep: P * 4, x, cols };
}

// Sleep `ms` on this thread without spinning (Atomics.wait on a word nobody changes).
const pause = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

describe('gemm pool', () => {
  before(async () => {
    await startGemmPool(2);
  });
  after(async () => {
    await stopGemmPool();
  });

  it('starts two threads when asked for two', async () => {
    expect(await startGemmPool(2)).to.equal(2);
  });

  it('splits a tall product by rows and still equals naive', () => {
    expect(check('float32', 301, 150, 70, { alpha: 0.5, beta: 1 })).to.be.below(1e-5);
    expect(check('float32', 257, 129, 130, { transA: true, seed: 4 })).to.be.below(1e-5);
  });

  it('splits a wide product by columns and still equals naive', () => {
    expect(check('float32', 50, 333, 190, { transB: true })).to.be.below(1e-5);
    expect(check('float32', 131, 139, 200, { beta: 2, seed: 9 })).to.be.below(1e-5);
  });

  it('splits a deep product of few rows into blocks of at least 32 rows and still equals naive', () => {
    // The first conv layer's backward-to-weights shape: 64 × 27 with a long inner dimension.
    expect(check('float32', 64, 27, 20000, { transB: true, seed: 2 })).to.be.below(1e-5);
    expect(check('float32', 37, 27, 9000, { seed: 6 })).to.be.below(1e-5);
  });

  it('gives the bits of one thread, the shared operand packed once (rows, columns, edges, views)', () => {
    // [M, N, K, transA, transB, beta]: tall (blocks of rows share packed B) and wide (blocks of
    // columns share packed A), sizes off every tile and cache block (MR 4, NR 8, KC 512), and
    // K past one KC slice so the packed panels' offsets are exercised.
    const cases: [number, number, number, boolean, boolean, number][] = [
      [301, 150, 70, false, false, 0],
      [257, 129, 1030, true, false, 1],
      [50, 333, 190, false, true, 0],
      [131, 1101, 530, true, true, 0.5],
      [64, 28, 5000, false, true, 1],
      // VGG backward-to-weights at 112 px, scaled down: 577 columns, guided blocks down to 32.
      [64, 577, 700, false, true, 1],
    ];
    for (const [M, N, K, transA, transB, beta] of cases) {
      const rand = mulberry32(M + N + K);
      const a = transA
        ? random('float32', [K, M], rand).transpose(1, 0)
        : random('float32', [M, K], rand);
      const b = transB
        ? random('float32', [N, K], rand).transpose(1, 0)
        : random('float32', [K, N], rand);
      const c0 = random('float32', [M, N], rand);
      const pooled = ndarray(c0.data.slice(), [M, N]);
      const alone = ndarray(c0.data.slice(), [M, N]);
      gemmWasm(pooled, a, b, 0.75, beta);
      withoutPool(() => gemmWasm(alone, a, b, 0.75, beta));
      const differ = pooled.data.findIndex((v, i) => !Object.is(v, alone.data[i]));
      expect(differ).to.equal(-1, `${M}×${N}×${K}: first differing element`);
    }
  });

  it('gives the bits of one thread on a batch of products, the last ones cut into row parts', () => {
    // [count, M, N, K]: M off the 4-row tile and below 4 · BATCH_PARTS (fewer parts), C with a
    // row stride wider than N (the products' C lie side by side in one matrix).
    const cases: [number, number, number, number][] = [
      [16, 64, 49, 64],
      [3, 37, 70, 400],
      [5, 5, 130, 1000],
      [2, 130, 40, 300],
    ];
    for (const [count, M, N, K] of cases) {
      const ldc = count * N + 3;
      const { heap, at } = kernelRegions([count * M * K, count * K * N, M * ldc, M * ldc]);
      const [a, b, c, ref] = at as [number, number, number, number];
      const rng = new Rng(count + M);
      for (let i = 0; i < count * (M * K + K * N); i++) heap[(a >> 2) + i] = rng.normal();
      for (let i = 0; i < M * ldc; i++) heap[(c >> 2) + i] = heap[(ref >> 2) + i] = i % 7;
      // Product i: A_i (M × K) and B_i (K × N) one after another, C_i columns i·N … of C.
      const batch = (cPtr: number): void =>
        gemmWasmStagedBatch(
          count,
          4 * M * K,
          4 * K * N,
          4 * N,
          M,
          N,
          K,
          0.5,
          a,
          K,
          1,
          b,
          N,
          1,
          1,
          cPtr,
          ldc,
          1,
        );
      withoutPool(() => batch(ref));
      batch(c);
      const differ = heap
        .subarray(c >> 2, (c >> 2) + M * ldc)
        .findIndex((v, i) => !Object.is(v, heap[(ref >> 2) + i]));
      expect(differ).to.equal(-1, `${count} × ${M}×${N}×${K}: first differing element`);
    }
  });

  it('runs `meanwhile` once on the calling thread with a job, and rethrows its error after it', () => {
    const [M, N, K] = [96, 700, 150];
    const { heap, at } = kernelRegions([M * K, K * N, M * N, M * N]);
    const [a, b, c, ref] = at as [number, number, number, number];
    const rng = new Rng(12);
    for (let i = 0; i < M * K + K * N; i++) heap[(a >> 2) + i] = rng.normal();
    const product = (cPtr: number, meanwhile?: () => void): void =>
      gemmWasmStaged(M, N, K, 1, a, K, 1, b, N, 1, 0, cPtr, N, 1, meanwhile);
    withoutPool(() => product(ref));
    const same = (): boolean =>
      heap.subarray(c >> 2, (c >> 2) + M * N).every((v, i) => Object.is(v, heap[(ref >> 2) + i]));
    let calls = 0;
    product(c, () => void calls++);
    expect(calls).to.equal(1);
    expect(same()).to.equal(true);
    heap.fill(0, c >> 2, (c >> 2) + M * N);
    expect(() =>
      product(c, () => {
        throw new Error('meanwhile failed');
      }),
    ).to.throw('meanwhile failed');
    // The product still completed (the error waited for it), and the pool goes on working.
    expect(same()).to.equal(true);
    expect(check('float32', 257, 129, 130, { seed: 6 })).to.be.below(1e-5);
  });

  it('keeps working after many calls in a row', () => {
    for (let seed = 0; seed < 20; seed++) {
      expect(check('float32', 130, 140, 120, { seed })).to.be.below(1e-5);
    }
  });

  it('surfaces a failure in a helper thread as an error, then keeps working', () => {
    const ex = gemmKernel().exports;
    const { im2col } = ex;
    // 2 images × 64 channels = 128 units in 8 blocks (1.2M column entries, past the threshold).
    // Out-of-bounds columns make every unit trap, except on the calling thread, whose im2col is
    // replaced by a slow no-op so that a helper is sure to claim blocks meanwhile.
    const { args, imageStep, colsStep } = stagedIm2col(2, 64);
    const outside = [...args] as Im2colArgs;
    outside[14] = gemmKernel().memory.buffer.byteLength + (1 << 24);
    ex.im2col = () => pause(50);
    try {
      expect(() => convPassStaged('im2col', 2, outside, imageStep, colsStep)).to.throw(
        /helper thread failed/,
      );
      // Negative control: the same job with valid addresses raises nothing.
      expect(() => convPassStaged('im2col', 2, args, imageStep, colsStep)).to.not.throw();
    } finally {
      ex.im2col = im2col;
    }
    // When the calling thread's own blocks trap too, that error surfaces (after the helpers
    // have finished theirs), and the pool runs the next jobs correctly. Which thread claims
    // which block is up to the scheduler (on a loaded machine the woken helper may take all of
    // them before the caller claims one), so count the caller's blocks and check the error
    // that case calls for; repeat until the caller's own trap has been seen.
    let ownTrapSeen = false;
    for (let attempt = 0; attempt < 50 && !ownTrapSeen; attempt++) {
      let own = 0;
      let error: unknown;
      ex.im2col = (...a) => (own++, im2col(...a));
      try {
        convPassStaged('im2col', 2, outside, imageStep, colsStep);
      } catch (e) {
        error = e;
      } finally {
        ex.im2col = im2col;
      }
      if (own > 0) expect(error).to.be.instanceOf(WebAssembly.RuntimeError);
      else expect(String(error)).to.match(/helper thread failed/);
      ownTrapSeen = own > 0;
    }
    expect(ownTrapSeen).to.equal(true, 'the calling thread never claimed a block in 50 jobs');
    expect(check('float32', 257, 129, 130, { seed: 3 })).to.be.below(1e-5);
  });

  it('counts the milliseconds each thread spends in blocks, not in wake-ups', () => {
    const sum = (xs: number[] | null): number => (xs ?? []).reduce((s, x) => s + x, 0);
    const before = poolBusyMs()!;
    expect(before).to.have.length(2);
    wakePool();
    expect(poolBusyMs()).to.deep.equal(before);
    const t0 = performance.now();
    expect(check('float32', 301, 150, 700, { seed: 3 })).to.be.below(1e-5);
    const wall = performance.now() - t0;
    const after = poolBusyMs()!;
    expect(sum(after) - sum(before)).to.be.above(0);
    expect(sum(after) - sum(before)).to.be.at.most(2 * wall);
  });

  it('withoutPool runs every call on the calling thread, then hands the pool back', () => {
    const ex = gemmKernel().exports;
    const { im2col } = ex;
    // A job whose blocks trap wherever the real im2col runs: on the helpers, with the pool.
    const { args, imageStep, colsStep } = stagedIm2col(2, 64);
    const outside = [...args] as Im2colArgs;
    outside[14] = gemmKernel().memory.buffer.byteLength + (1 << 24);
    let calls = 0;
    ex.im2col = () => void calls++;
    try {
      // Set aside, the pool gets nothing: one call per image, all on this thread (no-ops here).
      withoutPool(() => convPassStaged('im2col', 2, outside, imageStep, colsStep));
      expect(calls).to.equal(2);
      // Handed back, the helpers take blocks again (and trap on them).
      ex.im2col = () => pause(50);
      expect(() => convPassStaged('im2col', 2, outside, imageStep, colsStep)).to.throw(
        /helper thread failed/,
      );
    } finally {
      ex.im2col = im2col;
    }
    expect(check('float32', 257, 129, 130, { seed: 5 })).to.be.below(1e-5);
  });
});

describe('gemm pool: waking the helpers', () => {
  afterEach(async () => {
    await stopGemmPool();
  });

  it('wakePool does nothing without a pool (and there is no busy time to report)', () => {
    expect(poolBusyMs()).to.equal(null);
    wakePool();
    expect(check('float32', 130, 129, 131, { seed: 6 })).to.be.below(1e-5);
  });

  for (const threads of [2, 3]) {
    it(`wakePool returns once the helpers took the empty job, and the pool computes as before (${threads} threads)`, async () => {
      expect(await startGemmPool(threads)).to.equal(threads);
      for (let i = 0; i < 20; i++) {
        wakePool();
        // Alternate with real jobs, as the benchmark does.
        if (i % 5 === 0) expect(check('float32', 257, 129, 130, { seed: i })).to.be.below(1e-5);
      }
      withoutPool(() => wakePool()); // the pool is still there, set aside: wakes it just the same
      expect(check('float32', 257, 129, 130, { seed: 99 })).to.be.below(1e-5);
    });
  }

  it('wakePool returns when no helper is there to take its job yet (this thread takes it)', async () => {
    // Called before the helpers have even started: none can take the block within SPIN_MS.
    const ready = startGemmPool(2);
    wakePool();
    expect(await ready).to.equal(2);
    wakePool();
    expect(check('float32', 257, 129, 130, { seed: 7 })).to.be.below(1e-5);
  });

  it('a wake block holds its helper until every block is claimed, at most SPIN_MS', () => {
    const ctl = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
    const job = new Float64Array(JOB.length);
    job[JOB.kind] = KIND.wake;
    const tag = 5;
    Atomics.store(ctl, BLOCKS, 2);
    // Both blocks claimed: back at once, nothing changed.
    Atomics.store(ctl, NEXT, (tag << 16) | 2);
    runBlock(gemmKernel().exports, job, 1, 1, ctl);
    expect(Atomics.load(ctl, NEXT)).to.equal((tag << 16) | 2);
    // One still unclaimed (its helper asleep): it waits the whole SPIN_MS, then gives up.
    Atomics.store(ctl, NEXT, (tag << 16) | 1);
    const t0 = performance.now();
    runBlock(gemmKernel().exports, job, 0, 1, ctl);
    expect(performance.now() - t0).to.be.at.least(SPIN_MS);
  });
});

describe('gemm pool protocol: guided blocks', () => {
  // The invariants every caller relies on: the blocks tile 0 … extent without gap or overlap,
  // inner bounds fall on whole units (so no two threads write one register tile or cache line of
  // C), and there are at most MAX_GEMM_BLOCKS of them (the job's slots).
  function checkBounds(extent: number, unit: number, threads: number, least: number): void {
    const bounds = guidedBounds(extent, unit, threads, least);
    const where = `${extent} by ${unit}, ${threads} threads, least ${least}: ${bounds.join(' ')}`;
    expect(bounds[0], where).to.equal(0);
    expect(bounds.at(-1), where).to.equal(extent);
    expect(bounds.length - 1, where).to.be.within(1, MAX_GEMM_BLOCKS);
    const sizes = bounds.slice(1).map((b, i) => b - bounds[i]!);
    for (let i = 0; i + 1 < sizes.length; i++) {
      expect(bounds[i + 1]! % unit, where).to.equal(0);
      // Blocks only shrink (the last may be a partial unit), and all but the last keep `least`.
      expect(sizes[i]!, where).to.be.at.least(Math.max(sizes[i + 1]!, least));
    }
  }

  it('tiles any extent into shrinking blocks of whole units (property)', () => {
    const args = fc.record({
      extent: fc.integer({ min: 1, max: 60000 }),
      unit: fc.constantFrom(4, 16),
      threads: fc.integer({ min: 1, max: 8 }),
      least: fc.constantFrom(4, 16, 32, 64),
    });
    fc.assert(
      fc.property(args, ({ extent, unit, threads, least }) => {
        checkBounds(extent, unit, threads, Math.max(least, unit));
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it('ends a 577-column product (VGG backward-to-weights) in a block of 32 columns or fewer', () => {
    const bounds = guidedBounds(577, 16, 2, 32);
    expect(bounds[1]).to.equal(160); // ⌈37 units / 4⌉ = 10 units first
    expect(577 - bounds.at(-2)!).to.be.at.most(32);
  });

  it('keeps to MAX_GEMM_BLOCKS on a very wide product', () => {
    const bounds = guidedBounds(50176 * 16, 16, 8, 16);
    expect(bounds.length - 1).to.be.at.most(MAX_GEMM_BLOCKS);
    checkBounds(50176 * 16, 16, 8, 16);
  });
});

describe('gemm pool protocol: conv units', () => {
  // Every block of the job run alone, last to first (blocks of `unitSize` units, merged into one
  // call per image or channel by runBlock), must build the same bits as one whole call per image.
  // breakPadTop runs the units one by one without folding their kernel row into padTop instead.
  function blocksVersusWhole(
    pass: 'im2col' | 'col2im',
    rows: boolean,
    unitSize: number,
    breakPadTop = false,
  ): number {
    const k = gemmKernel();
    const images = 2;
    const { args, imageStep, colsStep, x, cols } = stagedIm2col(images, 3);
    const args2 = [...args] as Im2colArgs;
    args2[6] = args2[7] = 16; // stride 2: 16×16 outputs
    args2[8] = args2[9] = 2;
    args2[12] = 2; // dilation 2 down the kernel's rows
    args2[10] = 2; // pad 2 on top
    const heap = new Float32Array(k.memory.buffer);
    const region = pass === 'im2col' ? cols : x;
    const bytes = pass === 'im2col' ? 3 * 9 * args2[15] * 4 : images * imageStep;
    // Gaps between the images' columns are never written; both runs start them at 7.
    const whole = () => {
      heap.fill(7, region >> 2, (region + bytes) >> 2);
      for (let n = 0; n < images; n++) {
        const a = [...args2] as Im2colArgs;
        a[0] += n * imageStep;
        a[14] += n * colsStep;
        k.exports[pass](...a);
      }
      return heap.slice(region >> 2, (region + bytes) >> 2);
    };
    const job = new Float64Array(JOB.length);
    job.set(args2);
    job[JOB.kind] = pass === 'im2col' ? KIND.im2col : KIND.col2im;
    job[JOB.images] = images;
    job[JOB.imageStep] = imageStep;
    job[JOB.colsStep] = colsStep;
    job[JOB.rows] = rows ? 1 : 0;
    job[JOB.unitSize] = unitSize;
    const reference = new Uint32Array(whole().buffer);
    heap.fill(7, region >> 2, (region + bytes) >> 2);
    const units = convUnits(job);
    if (breakPadTop) {
      for (let u = units - 1; u >= 0; u--) {
        const a = convUnitArgs(job, u, 1);
        a[10] = args2[10];
        k.exports[pass](...a);
      }
    } else {
      for (let b = Math.ceil(units / unitSize) - 1; b >= 0; b--) runBlock(k.exports, job, b, 0);
    }
    const result = new Uint32Array(heap.slice(region >> 2, (region + bytes) >> 2).buffer);
    return result.findIndex((v, i) => v !== reference[i]);
  }

  for (const unitSize of [1, 2, 4]) {
    it(`im2col by kernel rows builds the whole column matrix to the bit (${unitSize} per block)`, () => {
      expect(blocksVersusWhole('im2col', true, unitSize)).to.equal(-1);
    });

    it(`im2col by channels builds the whole column matrix to the bit (${unitSize} per block)`, () => {
      expect(blocksVersusWhole('im2col', false, unitSize)).to.equal(-1);
    });

    it(`col2im by channels builds the whole dx to the bit (${unitSize} per block)`, () => {
      expect(blocksVersusWhole('col2im', false, unitSize)).to.equal(-1);
    });
  }

  it('catches kernel-row units that do not fold their row into padTop (negative control)', () => {
    expect(blocksVersusWhole('im2col', true, 1, true)).to.be.above(-1);
  });
});
