import { expect } from 'chai';
import {
  Rng,
  checkGradients,
  copy,
  dot,
  fromArray,
  gemmKernel,
  kernelRegions,
  startGemmPool,
  stopGemmPool,
  toArray,
  zeros,
  type Tensor,
} from '../../lib/core/index.js';
import {
  conv2dBackwardInput,
  conv2dForward,
  conv2dNaiveBackwardInput,
  conv2dNaiveForward,
  convGeometry,
  setConvAlgorithm,
  setConvGemm,
  type ConvAlgorithm,
  type ConvGeometry,
  type Padding,
} from '../../lib/cnn/index.js';
import {
  AT,
  BT,
  F4x4,
  G,
  conv2dWinogradBackwardInput,
  conv2dWinogradForward,
  winogradEligible,
  winogradOutputs,
  winogradTiles,
  type WinogradScheme,
} from '../../lib/cnn/winograd.js';
import { scratchBase } from '../../lib/core/gemm-wasm.js';
import { setWinogradScheme } from '../../lib/cnn/conv2d-winograd-wasm.js';
import { layouts, randomTensor, relativeDifference, type Layout } from './helpers.js';

interface WinogradCase {
  N: number;
  C: number;
  F: number;
  H: number;
  W: number;
  pad: Padding;
  bias: boolean;
}

// Random shapes for the reference: odd and even H, W (so partial last tiles), H or W below 4,
// pads 0, 1, 2 and asymmetric, batches of 2 and 3, with and without bias.
const cases: WinogradCase[] = [
  { N: 2, C: 3, F: 4, H: 8, W: 8, pad: 1, bias: true },
  { N: 2, C: 2, F: 3, H: 7, W: 9, pad: 1, bias: false },
  { N: 3, C: 1, F: 2, H: 5, W: 6, pad: 0, bias: true },
  { N: 2, C: 4, F: 5, H: 3, W: 3, pad: 0, bias: true },
  { N: 2, C: 2, F: 2, H: 2, W: 5, pad: 1, bias: true },
  { N: 2, C: 3, F: 2, H: 1, W: 1, pad: 1, bias: false },
  { N: 2, C: 2, F: 3, H: 6, W: 3, pad: 2, bias: true },
  { N: 2, C: 3, F: 2, H: 5, W: 7, pad: [0, 2, 1, 0], bias: true },
  { N: 2, C: 2, F: 3, H: 4, W: 9, pad: [2, 1, 0, 2], bias: false },
  { N: 2, C: 5, F: 6, H: 11, W: 10, pad: [1, 0], bias: true },
];

const label = (c: WinogradCase): string =>
  `N ${c.N}, ${c.C}→${c.F}, ${c.H}×${c.W}, pad ${JSON.stringify(c.pad)}${c.bias ? ', bias' : ''}`;

interface Problem {
  x: Tensor;
  w: Tensor;
  b: Tensor | null;
  dy: Tensor;
  geom: ConvGeometry;
}

function problem(
  c: WinogradCase,
  seed: number,
  dtype: 'float64' | 'float32',
  layout: Layout,
): Problem {
  const rng = new Rng(seed);
  const x = randomTensor(rng, [c.N, c.C, c.H, c.W], layout, dtype);
  const w = randomTensor(rng, [c.F, c.C, 3, 3], layout, dtype);
  const b = c.bias ? randomTensor(rng, [c.F], layout, dtype) : null;
  const geom = convGeometry(x.shape, w.shape, { pad: c.pad });
  const dy = randomTensor(rng, [c.N, c.F, geom.outH, geom.outW], layout, dtype);
  return { x, w, b, dy, geom };
}

describe('Winograd F(2×2, 3×3) reference', () => {
  it('its matrices reproduce 1-D F(2, 3): Aᵀ[(G g) ⊙ (Bᵀ d)] = the correlation of d with g', () => {
    const d = [0.3, -1.2, 2.5, 0.7];
    const g = [1.5, -0.4, 0.9];
    const Gg = G.map((row) => row.reduce((s, v, k) => s + v * g[k]!, 0));
    const Btd = BT.map((row) => row.reduce((s, v, k) => s + v * d[k]!, 0));
    const y = AT.map((row) => row.reduce((s, v, k) => s + v * Gg[k]! * Btd[k]!, 0));
    const direct = [0, 1].map((i) => g.reduce((s, gk, k) => s + gk * d[i + k]!, 0));
    expect(y[0]).to.be.closeTo(direct[0]!, 1e-14);
    expect(y[1]).to.be.closeTo(direct[1]!, 1e-14);
  });

  it('the 1-D identity fails with one sign of G flipped (negative control)', () => {
    const wrong = G.map((row, i) => (i === 2 ? [row[0]!, -row[1]!, -row[2]!] : row));
    const d = [0.3, -1.2, 2.5, 0.7];
    const g = [1.5, -0.4, 0.9];
    const Gg = wrong.map((row) => row.reduce((s, v, k) => s + v * g[k]!, 0));
    const Btd = BT.map((row) => row.reduce((s, v, k) => s + v * d[k]!, 0));
    const y = AT.map((row) => row.reduce((s, v, k) => s + v * Gg[k]! * Btd[k]!, 0));
    const direct = [0, 1].map((i) => g.reduce((s, gk, k) => s + gk * d[i + k]!, 0));
    expect(Math.abs(y[0]! - direct[0]!) + Math.abs(y[1]! - direct[1]!)).to.be.above(0.1);
  });

  it('is eligible for 3×3, stride 1, dilation 1 only', () => {
    expect(winogradEligible(convGeometry([1, 1, 5, 5], [1, 1, 3, 3], { pad: 2 }))).to.equal(true);
    expect(winogradEligible(convGeometry([1, 1, 5, 5], [1, 1, 3, 3], { stride: 2 }))).to.equal(
      false,
    );
    expect(winogradEligible(convGeometry([1, 1, 5, 5], [1, 1, 3, 3], { dilation: 2 }))).to.equal(
      false,
    );
    expect(winogradEligible(convGeometry([1, 1, 5, 5], [1, 1, 3, 2]))).to.equal(false);
    expect(() =>
      conv2dWinogradForward(
        zeros([1, 1, 2, 2]),
        zeros([1, 1, 5, 5]),
        zeros([1, 1, 3, 3]),
        null,
        convGeometry([1, 1, 5, 5], [1, 1, 3, 3], { stride: 2 }),
      ),
    ).to.throw(RangeError, /stride 2×2/);
  });

  for (const [i, c] of cases.entries()) {
    it(`float64 forward and backward-input equal naive (${label(c)})`, () => {
      const layout: Layout =
        i % 3 === 0 ? 'contiguous' : i % 3 === 1 ? 'offset-strided' : 'reversed';
      const { x, w, b, dy, geom } = problem(c, 100 + i, 'float64', layout);
      const outShape = [c.N, c.F, geom.outH, geom.outW];
      const out = conv2dWinogradForward(zeros(outShape), x, w, b, geom);
      const expected = conv2dNaiveForward(zeros(outShape), x, w, b, geom);
      expect(relativeDifference(out, expected)).to.be.below(1e-13, 'forward');
      const dx = conv2dWinogradBackwardInput(zeros(x.shape), dy, w, geom);
      const dxExpected = conv2dNaiveBackwardInput(zeros(x.shape), dy, w, geom);
      expect(relativeDifference(dx, dxExpected)).to.be.below(1e-13, 'backward input');
    });
  }

  for (const [i, c] of cases.entries()) {
    it(`F(4×4, 3×3): float64 forward and backward-input equal naive (${label(c)})`, () => {
      const layout: Layout = i % 2 === 0 ? 'contiguous' : 'offset-strided';
      const { x, w, b, dy, geom } = problem(c, 200 + i, 'float64', layout);
      const outShape = [c.N, c.F, geom.outH, geom.outW];
      const out = conv2dWinogradForward(zeros(outShape), x, w, b, geom, F4x4);
      const expected = conv2dNaiveForward(zeros(outShape), x, w, b, geom);
      expect(relativeDifference(out, expected)).to.be.below(1e-12, 'forward');
      const dx = conv2dWinogradBackwardInput(zeros(x.shape), dy, w, geom, F4x4);
      const dxExpected = conv2dNaiveBackwardInput(zeros(x.shape), dy, w, geom);
      expect(relativeDifference(dx, dxExpected)).to.be.below(1e-12, 'backward input');
    });
  }

  it('F(4×4, 3×3) fails with one entry of Bᵀ changed (negative control)', () => {
    const c = cases[0]!;
    const { x, w, b, geom } = problem(c, 5, 'float64', 'contiguous');
    const wrong: WinogradScheme = {
      ...F4x4,
      BT: F4x4.BT.map((row, i) => (i === 3 ? row.map((v, j) => (j === 1 ? -v : v)) : row)),
    };
    const outShape = [c.N, c.F, geom.outH, geom.outW];
    const out = conv2dWinogradForward(zeros(outShape), x, w, b, geom, wrong);
    const expected = conv2dNaiveForward(zeros(outShape), x, w, b, geom);
    expect(relativeDifference(out, expected)).to.be.above(1e-3);
  });

  it('float32 reference stays within float32 rounding of naive', () => {
    const c = cases[9]!;
    const { x, w, b, geom } = problem(c, 7, 'float32', 'contiguous');
    const outShape = [c.N, c.F, geom.outH, geom.outW];
    const out = conv2dWinogradForward(zeros(outShape, 'float32'), x, w, b, geom);
    const expected = conv2dNaiveForward(zeros(outShape, 'float32'), x, w, b, geom);
    expect(relativeDifference(out, expected)).to.be.below(1e-5);
  });
});

// Run `body` with the conv algorithm forced to `kind`, counting the kernel's Winograd input
// transforms (one call per image and band), and restore 'auto' afterwards.
function withAlgorithm<T>(
  kind: ConvAlgorithm,
  body: () => T,
): { result: T; winogradCalls: number } {
  const ex = gemmKernel().exports;
  const { winogradInputs, winograd4Inputs, winogradBands } = ex;
  let winogradCalls = 0;
  ex.winogradInputs = (...args) => (winogradCalls++, winogradInputs(...args));
  ex.winograd4Inputs = (...args) => (winogradCalls++, winograd4Inputs(...args));
  ex.winogradBands = (...args) => (winogradCalls++, winogradBands(...args));
  setConvAlgorithm(kind);
  try {
    return { result: body(), winogradCalls };
  } finally {
    setConvAlgorithm('auto');
    ex.winogradInputs = winogradInputs;
    ex.winograd4Inputs = winograd4Inputs;
    ex.winogradBands = winogradBands;
  }
}

// Forward and backward-input through conv2d.ts (out, dx) on one problem.
function passes(p: Problem, dtype: 'float64' | 'float32'): [Tensor, Tensor] {
  const { x, w, b, dy, geom } = p;
  const out = conv2dForward(zeros(dy.shape, dtype), x, w, b, geom);
  const dx = conv2dBackwardInput(zeros(x.shape, dtype), dy, w, geom);
  return [out, dx];
}

// Both schemes of the separate passes (the bands are F(2×2, 3×3) either way).
for (const m of [2, 4] as const) {
  describe(`Winograd F(${m}×${m}, 3×3) on the WebAssembly kernel (float32)`, () => {
    before(() => setWinogradScheme(m));
    after(() => setWinogradScheme('auto'));

    for (const [i, c] of cases.entries()) {
      it(`forward and backward-input equal naive on every view (${label(c)})`, () => {
        for (const layout of layouts) {
          const p = problem(c, 200 + i, 'float32', layout);
          const { result, winogradCalls } = withAlgorithm('winograd', () => passes(p, 'float32'));
          expect(winogradCalls).to.be.above(0, 'ran Winograd');
          const { x, w, b, dy, geom } = p;
          const out = conv2dNaiveForward(zeros(dy.shape, 'float32'), x, w, b, geom);
          const dx = conv2dNaiveBackwardInput(zeros(x.shape, 'float32'), dy, w, geom);
          // Observed about 2e-7 (relative to the largest output).
          expect(relativeDifference(result[0], out)).to.be.below(1e-5, `forward, ${layout}`);
          expect(relativeDifference(result[1], dx)).to.be.below(1e-5, `backward input, ${layout}`);
        }
      });
    }

    // Larger than the naive kernels can check quickly: held to im2col, itself held to naive.
    // 16 + 16 channels at 370×371 (185 × 186 tiles, the last vector group partial) go band by band
    // (winogradBands); 7 × 13 tiles leave a partial vector group; a batch of 40 small images
    // shares one pass; pad 3 crops in backward. `calls` counts the kernel calls of forward and
    // backward that start on tiles: input transforms (one per image) or bands (one per image).
    const large: [string, WinogradCase, number][] = [
      ['bands of tile rows', { N: 1, C: 16, F: 16, H: 370, W: 371, pad: 1, bias: true }, 2],
      [
        'two images, odd sizes',
        { N: 2, C: 9, F: 11, H: 13, W: 25, pad: [2, 0, 1, 2], bias: true },
        4,
      ],
      [
        'a batch of 40 images in one pass',
        { N: 40, C: 8, F: 8, H: 6, W: 6, pad: 1, bias: false },
        80,
      ],
      ['pad 3 (a crop in backward)', { N: 1, C: 8, F: 5, H: 9, W: 10, pad: 3, bias: true }, 2],
    ];
    for (const [name, c, calls] of large) {
      it(`forced Winograd equals forced im2col (${name})`, () => {
        const p = problem(c, 7, 'float32', 'contiguous');
        const wino = withAlgorithm('winograd', () => passes(p, 'float32'));
        const im2col = withAlgorithm('im2col', () => passes(p, 'float32'));
        expect(wino.winogradCalls).to.equal(calls);
        expect(im2col.winogradCalls).to.equal(0);
        expect(relativeDifference(wino.result[0], im2col.result[0])).to.be.below(1e-5, 'forward');
        expect(relativeDifference(wino.result[1], im2col.result[1])).to.be.below(1e-5, 'backward');
      });
    }

    it('equals im2col with the products split over the thread pool', async () => {
      expect(await startGemmPool(2)).to.equal(2);
      try {
        const p = problem(large[0]![1], 8, 'float32', 'offset-strided');
        const wino = withAlgorithm('winograd', () => passes(p, 'float32'));
        const im2col = withAlgorithm('im2col', () => passes(p, 'float32'));
        expect(relativeDifference(wino.result[0], im2col.result[0])).to.be.below(1e-5, 'forward');
        expect(relativeDifference(wino.result[1], im2col.result[1])).to.be.below(1e-5, 'backward');
      } finally {
        await stopGemmPool();
      }
    });

    // Both ways through the kernel give the same bits on one thread and on two: large images go
    // band by band (winogradBands: each band's tiles are computed by the same code whichever
    // thread takes it), smaller batches through the three separate passes split over the pool by
    // channels (channelPassStaged). 64 channels at 32 × 32 tiles make 16 bands; 7 × 200 tiles
    // make 7 bands, too few, and put the passes past the pool's threshold (1M floats).
    const inputs = m === 2 ? 'winogradInputs' : 'winograd4Inputs';
    // F(4×4)'s bands need 8 rows of 4×4 tiles within the band size: 16 channels at 64 × 192.
    const poolCases: [string, WinogradCase, 'winogradBands' | typeof inputs][] = [
      [
        'bands',
        m === 2
          ? { N: 1, C: 64, F: 64, H: 64, W: 64, pad: 1, bias: true }
          : { N: 1, C: 16, F: 16, H: 64, W: 192, pad: 1, bias: true },
        'winogradBands',
      ],
      ['passes', { N: 1, C: 64, F: 48, H: 14, W: 400, pad: 1, bias: true }, inputs],
    ];
    for (const [name, c, spied] of poolCases) {
      it(`gives the same bits on the thread pool (${name})`, async () => {
        const p = problem(c, 9, 'float32', 'contiguous');
        const bits = (t: Tensor): Uint32Array =>
          new Uint32Array(Float32Array.from(toArray(t)).buffer);
        const ex = gemmKernel().exports;
        const original = ex[spied] as (...a: number[]) => void;
        // The share of one call: bands (argument 16 of winogradBands) or channels (argument 1).
        const share: number[] = [];
        const total: number[] = [];
        const spy = (...a: number[]): void => {
          share.push(spied === 'winogradBands' ? a[16]! : a[1]!);
          original(...a);
        };
        (ex as unknown as Record<string, unknown>)[spied] = spy;
        let one, two;
        try {
          one = withAlgorithm('winograd', () => passes(p, 'float32')).result.map(bits);
          total.push(...share.splice(0));
          expect(await startGemmPool(2)).to.equal(2);
          try {
            two = withAlgorithm('winograd', () => passes(p, 'float32')).result.map(bits);
          } finally {
            await stopGemmPool();
          }
        } finally {
          (ex as unknown as Record<string, unknown>)[spied] = original;
        }
        expect(total.length).to.be.above(0, `${spied} ran on one thread`);
        // On two threads this thread ran parts of the work (or none, if the helper took it all).
        const whole = Math.max(...total);
        expect(share.every((n) => n < whole)).to.equal(true, `shares: ${share.join(' ')}`);
        for (let i = 0; i < 2; i++) {
          const differ = two[i]!.findIndex((v, j) => v !== one[i]![j]);
          expect(differ).to.equal(-1, i === 0 ? 'forward' : 'backward-input');
        }
      });
    }

    // winogradBands is the three steps of the unfused passes run band by band on the same kernel
    // functions; whatever bands a call covers and in whatever order, y gets the same bits. The
    // image has a partial last band (9 tile rows in bands of 2), a partial last vector group of
    // tiles (11 per row) and odd output sizes (partial last tiles).
    it('runs the three steps band by band to the bits of the separate passes', () => {
      const k = gemmKernel();
      const ex = k.exports;
      const [C, F, tilesH, tilesW, rows] = [5, 7, 9, 11, 2];
      // This scheme's kernels: m×m tiles, P = (m + 2)² planes.
      const P = (m + 2) ** 2;
      const [inputs, outputs] =
        m === 2
          ? [ex.winogradInputs, ex.winogradOutputs]
          : [ex.winograd4Inputs, ex.winograd4Outputs];
      const [outH, outW] = [m * tilesH - 1, m * tilesW - 1];
      const [Hp, Wp, T] = [m * tilesH + 2, m * tilesW + 2, tilesH * tilesW];
      const bandT = rows * tilesW;
      const uStep = 4 * ex.packedFloats(0, F, C);
      const vmFloats = P * (C * bandT + 16 + F * bandT + 16);
      const planes = [C * T + 16, F * T + 16, F * C + 16];
      const { heap, at } = kernelRegions([
        C * Hp * Wp + 16, // p (and the room F(4×4)'s input transform reads past its end)
        P * planes[2]!, // U
        (P * uStep) / 4, // U packed
        F, // bias
        vmFloats, // V and M of a band
        P * planes[0]!, // V of the passes
        P * planes[1]!, // M of the passes
        F * outH * outW, // y of the passes
        F * outH * outW, // y of the bands
      ]);
      const [pAt, uAt, upAt, bAt, vmAt, vAt, mAt, yAt, ybAt] = at as number[] as [
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      const rng = new Rng(31);
      const fill = (at: number, n: number): void => {
        for (let i = 0; i < n; i++) heap[(at >> 2) + i] = rng.normal();
      };
      fill(pAt, C * Hp * Wp);
      fill(uAt, P * planes[2]!);
      fill(bAt, F);
      // The separate passes, as the unfused path runs them.
      inputs(pAt, C, Hp, Wp, 0, tilesH, tilesW, vAt, T, planes[0]!);
      for (let xi = 0; xi < P; xi++) {
        ex.gemm(
          F,
          T,
          C,
          1,
          uAt + 4 * xi * planes[2]!,
          C,
          1,
          vAt + 4 * xi * planes[0]!,
          T,
          1,
          0,
          mAt + 4 * xi * planes[1]!,
          T,
          1,
          scratchBase(k),
        );
        ex.packAPanels(F, C, uAt + 4 * xi * planes[2]!, C, 1, upAt + xi * uStep);
      }
      outputs(mAt, F, 0, tilesH, tilesW, T, planes[1]!, yAt, outH, outW, bAt);
      const expected = heap.slice(yAt >> 2, (yAt >> 2) + F * outH * outW);
      const args = [
        pAt,
        C,
        Hp,
        Wp,
        tilesH,
        tilesW,
        rows,
        upAt,
        uStep,
        F,
        ybAt,
        outH,
        outW,
        bAt,
        m,
      ] as const;
      const bands = Math.ceil(tilesH / rows);
      for (const order of [
        [[0, bands]],
        [4, 3, 2, 1, 0].map((b) => [b, 1]),
        [
          [2, 3],
          [0, 2],
        ],
      ]) {
        heap.fill(NaN, ybAt >> 2, (ybAt >> 2) + F * outH * outW);
        for (const [band0, count] of order)
          ex.winogradBands(...args, band0!, count!, vmAt, scratchBase(k));
        const got = heap.subarray(ybAt >> 2, (ybAt >> 2) + F * outH * outW);
        const differ = got.findIndex((v, i) => !Object.is(v, expected[i]));
        expect(differ).to.equal(-1, `bands ${JSON.stringify(order)}: first difference`);
      }
    });

    it("'auto' skips few image channels and few tiles, takes Winograd elsewhere", () => {
      const run = (c: WinogradCase): number =>
        withAlgorithm('auto', () => passes(problem(c, 3, 'float32', 'contiguous'), 'float32'))
          .winogradCalls;
      expect(run({ N: 1, C: 3, F: 16, H: 32, W: 32, pad: 1, bias: true })).to.equal(0, 'C = 3');
      expect(run({ N: 1, C: 16, F: 16, H: 8, W: 8, pad: 1, bias: true })).to.equal(0, '16 tiles');
      expect(run({ N: 1, C: 16, F: 3, H: 32, W: 32, pad: 1, bias: true })).to.equal(2, 'F = 3');
      expect(run({ N: 2, C: 16, F: 16, H: 8, W: 8, pad: 1, bias: true })).to.equal(4, '32 tiles');
      const c = { N: 1, C: 16, F: 16, H: 32, W: 32, pad: 1, bias: true };
      const p = problem(c, 3, 'float64', 'contiguous');
      expect(withAlgorithm('auto', () => passes(p, 'float64')).winogradCalls).to.equal(
        0,
        'float64',
      );
    });

    it("'winograd' runs the reference for float64 and for the TypeScript tier", () => {
      const c = cases[1]!;
      const p = problem(c, 11, 'float64', 'contiguous');
      const { result } = withAlgorithm('winograd', () => passes(p, 'float64'));
      const out = conv2dNaiveForward(zeros(p.dy.shape), p.x, p.w, p.b, p.geom);
      expect(relativeDifference(result[0], out)).to.be.below(1e-13);
      const p32 = problem(c, 12, 'float32', 'contiguous');
      setConvGemm('typescript');
      try {
        const ts = withAlgorithm('winograd', () => passes(p32, 'float32'));
        expect(ts.winogradCalls).to.equal(0, 'kernel untouched');
        const out32 = conv2dNaiveForward(
          zeros(p32.dy.shape, 'float32'),
          p32.x,
          p32.w,
          p32.b,
          p32.geom,
        );
        expect(relativeDifference(ts.result[0], out32)).to.be.below(1e-5);
      } finally {
        setConvGemm('wasm');
      }
    });

    // A small net x → conv → ReLU → conv: dx from the float32 kernels (forced to Winograd, or
    // im2col), the numerical gradient from the float64 naive forward. Entries below 1% of the
    // largest, where float32 cancellation dominates (im2col too: 4e-4 on one of them), are skipped.
    function netGradientCheck(kind: ConvAlgorithm, flip: boolean) {
      const rng = new Rng(5);
      const x = randomTensor(rng, [2, 8, 6, 5]);
      const w1 = randomTensor(rng, [8, 8, 3, 3]);
      const b1 = randomTensor(rng, [8]);
      const w2 = randomTensor(rng, [8, 8, 3, 3]);
      const geom = convGeometry(x.shape, w1.shape, { pad: 1 });
      const dy = randomTensor(rng, x.shape);
      const relu = (t: Tensor): Tensor => {
        for (let i = 0; i < t.data.length; i++) t.data[i] = Math.max(0, t.data[i]!);
        return t;
      };
      const loss = (): number => {
        const h = relu(conv2dNaiveForward(zeros(x.shape), x, w1, b1, geom));
        return dot(dy, conv2dNaiveForward(zeros(x.shape), h, w2, null, geom));
      };
      const f32 = (t: Tensor): Tensor => copy(t, 'float32');
      const { result: dx, winogradCalls } = withAlgorithm(kind, () => {
        const h = conv2dForward(zeros(x.shape, 'float32'), f32(x), f32(w1), f32(b1), geom);
        // A deliberately wrong backward: the filters not rotated (the negative control).
        const w2b = flip ? (f32(w2).step(1, 1, -1, -1) as Tensor) : f32(w2);
        const dh = conv2dBackwardInput(zeros(x.shape, 'float32'), f32(dy), w2b, geom);
        for (let i = 0; i < dh.data.length; i++) if (!(h.data[i]! > 0)) dh.data[i] = 0;
        return conv2dBackwardInput(zeros(x.shape, 'float32'), dh, f32(w1), geom);
      });
      expect(winogradCalls).to.equal(kind === 'im2col' ? 0 : 6, `passes by Winograd (${kind})`);
      return checkGradients(loss, [{ name: 'x', value: x, grad: copy(dx, 'float64') }], {
        atol: 1e-2,
      });
    }

    it('float32 gradient check through conv → ReLU → conv passes (Winograd and im2col)', () => {
      const result = netGradientCheck('winograd', false);
      // Observed 5e-5 with F(2×2, 3×3) (im2col: 1.5e-5; Winograd's transforms round a little
      // more) and 1.0e-3 with F(4×4, 3×3), whose transforms have entries up to 8 and 1/24: its
      // outputs stay within 1e-5 of the largest (above), but an entry near 1% of the largest
      // carries 1e-3 of its own size.
      expect(result.maxError).to.be.below(m === 2 ? 2e-4 : 3e-3, result.describe());
      expect(netGradientCheck('im2col', false).maxError).to.be.below(2e-4);
    });

    it('the same check catches a backward with unrotated filters (negative control)', () => {
      expect(netGradientCheck('winograd', true).maxError).to.be.above(1e-2);
    });
  });
}

describe('Winograd scheme of the separate passes (auto)', () => {
  // Which input transform a forward conv runs: F(4×4, 3×3) from 32 channels and 48 tiles of 4×4
  // per batch, F(2×2, 3×3) otherwise (its filter transform and packing cost less where there are
  // few tiles, its transforms less where few channels share them).
  function inputTransforms(N: number, S: number, C = 32): { f2: number; f4: number } {
    const ex = gemmKernel().exports;
    const { winogradInputs, winograd4Inputs } = ex;
    const calls = { f2: 0, f4: 0 };
    ex.winogradInputs = (...a) => (calls.f2++, winogradInputs(...a));
    ex.winograd4Inputs = (...a) => (calls.f4++, winograd4Inputs(...a));
    try {
      const p = problem(
        { N, C, F: C, H: S, W: S, pad: 1, bias: false },
        3,
        'float32',
        'contiguous',
      );
      conv2dForward(zeros(p.dy.shape, 'float32'), p.x, p.w, p.b, p.geom);
    } finally {
      ex.winogradInputs = winogradInputs;
      ex.winograd4Inputs = winograd4Inputs;
    }
    return calls;
  }

  it('takes F(4×4, 3×3) from 32 channels and 48 tiles of 4×4, F(2×2, 3×3) otherwise', () => {
    setConvAlgorithm('winograd');
    try {
      expect(inputTransforms(1, 28)).to.deep.equal({ f2: 0, f4: 1 }); // 7 × 7 tiles
      expect(inputTransforms(1, 24)).to.deep.equal({ f2: 1, f4: 0 }); // 6 × 6
      expect(inputTransforms(2, 20)).to.deep.equal({ f2: 0, f4: 2 }); // 2 images of 5 × 5
      expect(inputTransforms(1, 28, 16)).to.deep.equal({ f2: 1, f4: 0 }); // 16 channels
    } finally {
      setConvAlgorithm('auto');
    }
  });
});

describe('F(4×4, 3×3) output transform on the WebAssembly kernel', () => {
  // Straight from M to y, against the reference's transform of the same M: output sizes whose
  // last group of four tiles is whole or not and whose last tile is partial or not, with a guard
  // band after y that no store may reach (a last tile stored whole past the image's edge would).
  for (const [outH, outW] of [
    [15, 15],
    [13, 17],
    [16, 16],
    [5, 9],
    [4, 4],
  ] as const) {
    it(`equals the reference and stays inside y (${outH} × ${outW})`, () => {
      const F = 3;
      const geom = convGeometry([1, 2, outH, outW], [F, 2, 3, 3], { pad: 1 });
      const { tilesH, tilesW } = winogradTiles(geom, 4);
      const T = tilesH * tilesW;
      const plane = F * T + 16;
      const guard = 32;
      const { heap, at } = kernelRegions([36 * plane, F * outH * outW + guard]);
      const [mAt, yAt] = at as [number, number];
      const rng = new Rng(outH * 100 + outW);
      const M = new Float64Array(36 * F * T);
      for (let xi = 0; xi < 36; xi++) {
        for (let i = 0; i < F * T; i++) {
          const v = Math.fround(rng.normal());
          heap[(mAt >> 2) + xi * plane + i] = v;
          M[xi * F * T + i] = v;
        }
      }
      const y = yAt >> 2;
      heap.fill(7, y, y + F * outH * outW + guard);
      gemmKernel().exports.winograd4Outputs(
        mAt,
        F,
        0,
        tilesH,
        tilesW,
        T,
        plane,
        yAt,
        outH,
        outW,
        0,
      );
      const expected = zeros([1, F, outH, outW]);
      winogradOutputs(expected, M, null, geom, F4x4);
      const got = fromArray(Array.from(heap.subarray(y, y + F * outH * outW)), [1, F, outH, outW]);
      expect(relativeDifference(got, expected)).to.be.below(1e-5);
      const after = heap.subarray(y + F * outH * outW, y + F * outH * outW + guard);
      expect(after.every((v) => v === 7)).to.equal(true, 'the guard after y');
    });
  }
});
