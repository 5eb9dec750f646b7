import { expect } from 'chai';
import fc from 'fast-check';
import {
  Rng,
  ShapeError,
  checkGradients,
  copy,
  dot,
  fromArray,
  like,
  toArray,
  zeros,
  type Tensor,
} from '../../lib/core/index.js';
import {
  conv2dBackwardInput,
  conv2dBackwardWeights,
  conv2dForward,
  conv2dNaiveBackwardInput,
  conv2dNaiveBackwardWeights,
  conv2dNaiveForward,
  convGeometry,
  setConvAlgorithm,
  setConvGemm,
  type ConvGeometry,
  type ConvOptions,
} from '../../lib/cnn/index.js';
import { setConvColumns } from '../../lib/cnn/conv2d-wasm.js';
import { startGemmPool, stopGemmPool } from '../../lib/core/gemm-pool.js';
import {
  createGemmKernel,
  gemmKernel,
  gemmWasmStaged,
  kernelRegions,
  setGemmKernel,
  writeIm2colDescriptor,
  type Im2colArgs,
  type Im2colDescriptor,
} from '../../lib/core/gemm-wasm.js';
import { layouts, randomTensor, relativeDifference, type Layout } from './helpers.js';

// The tutorial's worked example (learn_dl cnn.py init_test): a 5×5×3 input, two 3×3×3 filters,
// stride 2, zero padding 1, biases 1 and 0.
const exampleX = fromArray(
  [
    [0, 1, 1, 0, 2, 2, 2, 2, 2, 1, 1, 0, 0, 2, 0, 0, 1, 1, 0, 0, 1, 2, 0, 0, 2],
    [1, 0, 2, 2, 0, 0, 0, 0, 2, 0, 1, 2, 1, 2, 1, 1, 0, 0, 0, 0, 1, 2, 1, 1, 1],
    [2, 1, 2, 0, 0, 1, 0, 0, 1, 0, 0, 2, 1, 0, 1, 0, 1, 2, 2, 2, 2, 1, 0, 0, 1],
  ].flat(),
  [1, 3, 5, 5],
);
const exampleW = fromArray(
  [
    [-1, 1, 0, 0, 1, 0, 0, 1, 1, -1, -1, 0, 0, 0, 0, 0, -1, 0, 0, 0, -1, 0, 1, 0, 1, -1, -1],
    [1, 1, -1, -1, -1, 1, 0, -1, 1, 0, 1, 0, -1, 0, -1, -1, 1, 0, -1, 0, 0, -1, 0, 1, -1, 0, 0],
  ].flat(),
  [2, 3, 3, 3],
);
const exampleB = fromArray([1, 0], [2]);

type Impl = {
  forward: typeof conv2dForward;
  backwardInput: typeof conv2dBackwardInput;
  backwardWeights: typeof conv2dBackwardWeights;
};
const fast: Impl = {
  forward: conv2dForward,
  backwardInput: conv2dBackwardInput,
  backwardWeights: conv2dBackwardWeights,
};
const naive: Impl = {
  forward: conv2dNaiveForward,
  backwardInput: conv2dNaiveBackwardInput,
  backwardWeights: conv2dNaiveBackwardWeights,
};

// Check dL/dx, dL/dw, dL/db of L = Σ dy ⊙ conv(x, w, b) against central differences.
function gradientCheck(
  impl: Impl,
  xShape: number[],
  wShape: number[],
  options: ConvOptions,
  seed: number,
) {
  const rng = new Rng(seed);
  const x = randomTensor(rng, xShape);
  const w = randomTensor(rng, wShape);
  const b = randomTensor(rng, [wShape[0]!]);
  const geom = convGeometry(x.shape, w.shape, options);
  const out = zeros([geom.N, geom.F, geom.outH, geom.outW]);
  const dy = rng.fillNormal(like(out));
  const dx = impl.backwardInput(like(x), dy, w, geom);
  const dw = like(w);
  const db = like(b);
  impl.backwardWeights(dw, db, dy, x, geom);
  const loss = (): number => dot(dy, impl.forward(out, x, w, b, geom));
  return checkGradients(loss, [
    { name: 'x', value: x, grad: dx },
    { name: 'w', value: w, grad: dw },
    { name: 'b', value: b, grad: db },
  ]);
}

const gradientConfigs: { label: string; x: number[]; w: number[]; options: ConvOptions }[] = [
  {
    label: 'stride 2, pad 1, 3×2 kernel',
    x: [2, 3, 5, 4],
    w: [2, 3, 3, 2],
    options: { stride: 2, pad: 1 },
  },
  {
    label: 'dilation 2, pad 2',
    x: [2, 2, 6, 5],
    w: [3, 2, 2, 3],
    options: { dilation: 2, pad: 2 },
  },
  {
    label: 'asymmetric pad [0, 2, 1, 0], stride [1, 2]',
    x: [2, 2, 4, 5],
    w: [2, 2, 3, 2],
    options: { pad: [0, 2, 1, 0], stride: [1, 2] },
  },
];

describe('conv2d', () => {
  it('forward matches the hand-computed 5×5×3 example (two 3×3×3 filters, stride 2, pad 1)', () => {
    const geom = convGeometry(exampleX.shape, exampleW.shape, { stride: 2, pad: 1 });
    // out[0,0,0,0] by hand: (0·1 + 1·0 + 2·1 + 2·1) + 0 + (2·1 + 1·0 − 1·1 − 0·1) + bias 1 = 6.
    const expected = [6, 7, 5, 3, -1, -1, 2, -1, 4, 2, -5, -8, 1, -4, -4, 0, -5, -5];
    for (const impl of [naive, fast]) {
      const out = impl.forward(zeros([1, 2, 3, 3]), exampleX, exampleW, exampleB, geom);
      expect(toArray(out)).to.deep.equal(expected);
    }
  });

  it('output size follows ⌊(in + 2·pad − kernel) / stride⌋ + 1', () => {
    expect(convGeometry([1, 3, 5, 5], [2, 3, 3, 3], { stride: 2, pad: 1 })).to.include({
      outH: 3,
      outW: 3,
    });
    const g = convGeometry([1, 1, 7, 6], [1, 1, 3, 2], {
      stride: [2, 3],
      pad: [1, 0, 2, 1],
      dilation: 2,
    });
    // H: ⌊(7 + 1 + 0 − 5) / 2⌋ + 1 = 2;  W: ⌊(6 + 2 + 1 − 3) / 3⌋ + 1 = 3.
    expect(g).to.include({ outH: 2, outW: 3, padTop: 1, padBottom: 0, padLeft: 2, padRight: 1 });
    expect(Object.isFrozen(g)).to.equal(true);
  });

  for (const impl of [
    ['naive', naive],
    ['fast', fast],
  ] as const) {
    for (const cfg of gradientConfigs) {
      it(`${impl[0]} backward (input, weights, bias) matches numerical gradient (${cfg.label})`, () => {
        const result = gradientCheck(impl[1], cfg.x, cfg.w, cfg.options, 7);
        // Observed about 1e-10: conv is linear in each argument.
        expect(result.maxError).to.be.below(1e-7, result.describe());
      });
    }
  }

  it('gradient check catches a backward that forgets to flip the filter', () => {
    const wrong: Impl = {
      ...fast,
      backwardInput: (dx, dy, w, geom) => {
        const flipped = w.step(1, 1, -1, -1) as Tensor;
        return conv2dBackwardInput(dx, dy, flipped, geom);
      },
    };
    const result = gradientCheck(wrong, [2, 2, 5, 4], [2, 2, 3, 3], { pad: 1 }, 3);
    expect(result.maxError).to.be.above(1e-2);
  });

  it('backward to the weights accumulates into dw and db', () => {
    const rng = new Rng(5);
    const x = randomTensor(rng, [2, 2, 4, 4]);
    const w = randomTensor(rng, [3, 2, 3, 3]);
    const geom = convGeometry(x.shape, w.shape, { pad: 1 });
    const dy = randomTensor(rng, [2, 3, 4, 4]);
    for (const impl of [naive, fast]) {
      const once = like(w);
      const onceB = zeros([3]);
      impl.backwardWeights(once, onceB, dy, x, geom);
      const twice = like(w);
      const twiceB = zeros([3]);
      impl.backwardWeights(twice, twiceB, dy, x, geom);
      impl.backwardWeights(twice, twiceB, dy, x, geom);
      expect(
        relativeDifference(
          twice,
          fromArray(
            toArray(once).map((v) => 2 * v),
            w.shape,
          ),
        ),
      ).to.be.below(1e-14);
      expect(
        relativeDifference(
          twiceB,
          fromArray(
            toArray(onceB).map((v) => 2 * v),
            [3],
          ),
        ),
      ).to.be.below(1e-14);
    }
  });

  // 'wasm' runs float32 through im2col, GEMM and col2im in kernel memory (float64 stays on the
  // TypeScript path); 'wasm + pool' does so with the GEMM handed to the thread pool's runner.
  for (const tier of ['wasm', 'wasm + pool', 'typescript'] as const) {
    it(`fast kernels (${tier} GEMM) equal naive on random shapes, strides, paddings, dilations and views`, async () => {
      setConvGemm(tier === 'typescript' ? 'typescript' : 'wasm');
      if (tier === 'wasm + pool') expect(await startGemmPool(2)).to.equal(2);
      try {
        const config = fc.record({
          N: fc.integer({ min: 1, max: 3 }),
          C: fc.integer({ min: 1, max: 4 }),
          F: fc.integer({ min: 1, max: 5 }),
          H: fc.integer({ min: 1, max: 9 }),
          W: fc.integer({ min: 1, max: 9 }),
          kH: fc.integer({ min: 1, max: 4 }),
          kW: fc.integer({ min: 1, max: 4 }),
          stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
          dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
          pad: fc.tuple(
            fc.integer({ min: 0, max: 2 }),
            fc.integer({ min: 0, max: 2 }),
            fc.integer({ min: 0, max: 2 }),
            fc.integer({ min: 0, max: 2 }),
          ),
          layouts: fc.tuple(...Array.from({ length: 5 }, () => fc.constantFrom(...layouts))),
          dtype: fc.constantFrom('float64' as const, 'float32' as const),
          seed: fc.integer({ min: 0, max: 1000 }),
        });
        fc.assert(
          fc.property(config, (c) => {
            const [pT, pB, pL, pR] = c.pad;
            const spanH = c.dilation[0] * (c.kH - 1) + 1;
            const spanW = c.dilation[1] * (c.kW - 1) + 1;
            fc.pre(spanH <= c.H + pT + pB && spanW <= c.W + pL + pR);
            compareFastNaive(c, c.layouts);
          }),
          { seed: 20261128, numRuns: 150 },
        );
      } finally {
        setConvGemm('wasm');
        await stopGemmPool();
      }
    });
  }

  it('throws naming both shapes when channels mismatch', () => {
    expect(() => convGeometry([2, 3, 8, 8], [4, 2, 3, 3])).to.throw(
      ShapeError,
      /\[4, 2, 3, 3\].*\[2, 3, 8, 8\]|\[2, 3, 8, 8\].*\[4, 2, 3, 3\]/,
    );
  });

  it('throws naming the numbers when the kernel is larger than the padded input', () => {
    expect(() =>
      convGeometry([1, 1, 4, 9], [1, 1, 3, 3], { dilation: 2, pad: [0, 0, 1, 1] }),
    ).to.throw(
      RangeError,
      /kernel height 5 \(size 3, dilation 2\) is larger than the padded input height 4/,
    );
    expect(() => convGeometry([1, 1, 2, 2], [1, 1, 5, 1], { pad: 1 })).to.throw(
      /kernel height 5 \(size 5, dilation 1\) is larger than the padded input height 4 \(2 \+ pad 1 \+ 1\); output height would be 0/,
    );
  });

  it('throws on a zero or negative stride or dilation and on negative padding', () => {
    expect(() => convGeometry([1, 1, 4, 4], [1, 1, 3, 3], { stride: 0 })).to.throw(/stride/);
    expect(() => convGeometry([1, 1, 4, 4], [1, 1, 3, 3], { dilation: [1, 0] })).to.throw(
      /dilation/,
    );
    expect(() => convGeometry([1, 1, 4, 4], [1, 1, 3, 3], { pad: -1 })).to.throw(/padding/);
  });

  it('kernels throw naming both shapes when the output does not fit the geometry', () => {
    const geom = convGeometry([1, 2, 4, 4], [3, 2, 3, 3]);
    expect(() =>
      conv2dForward(zeros([1, 3, 3, 2]), zeros([1, 2, 4, 4]), zeros([3, 2, 3, 3]), null, geom),
    ).to.throw(ShapeError, /\[1, 3, 3, 2\].*\[1, 3, 2, 2\]/);
  });
});

// The three passes on one tier: out, dx, and dw, db accumulated onto seeded nonzero starts.
function passes(
  tier: 'wasm' | 'typescript',
  x: Tensor,
  w: Tensor,
  b: Tensor,
  dy: Tensor,
  geom: ConvGeometry,
  gradLayout: Layout = 'contiguous',
): Tensor[] {
  setConvGemm(tier);
  try {
    const rng = new Rng(99);
    const out = conv2dForward(zeros(dy.shape, 'float32'), x, w, b, geom);
    const dx = conv2dBackwardInput(zeros(x.shape, 'float32'), dy, w, geom);
    // dw and db start random: backward-to-weights accumulates.
    const dw = randomTensor(rng, w.shape, gradLayout, 'float32');
    const db = randomTensor(rng, b.shape, gradLayout, 'float32');
    conv2dBackwardWeights(dw, db, dy, x, geom);
    return [out, dx, dw, db];
  } finally {
    setConvGemm('wasm');
  }
}

interface Shape {
  N: number;
  C: number;
  F: number;
  H: number;
  W: number;
  k: [number, number];
  options: ConvOptions;
}

// Largest relative difference between the float32 passes in kernel memory and the TypeScript
// path, over out, dx, dw and db, on inputs laid out as `layout`.
function kernelVersusTypescript(s: Shape, seed: number, layout: Layout = 'contiguous'): number {
  const rng = new Rng(seed);
  const x = randomTensor(rng, [s.N, s.C, s.H, s.W], layout, 'float32');
  const w = randomTensor(rng, [s.F, s.C, ...s.k], layout, 'float32');
  const b = randomTensor(rng, [s.F], layout, 'float32');
  const geom = convGeometry(x.shape, w.shape, s.options);
  const dy = randomTensor(rng, [s.N, s.F, geom.outH, geom.outW], layout, 'float32');
  const onKernel = passes('wasm', x, w, b, dy, geom);
  const reference = passes('typescript', x, w, b, dy, geom);
  return Math.max(...onKernel.map((t, i) => relativeDifference(t, reference[i]!)));
}

// Shapes past every block edge of the GEMM (KC = 512 deep, MC = 128 rows, NC = 4096 columns) and
// of the batching: three images in products of two (K·P ≈ 1.5M of a 4M budget), then one.
const blockEdges: [string, Shape][] = [
  ['K = C·kH·kW = 513 > KC', { N: 1, C: 57, F: 5, H: 5, W: 6, k: [3, 3], options: { pad: 1 } }],
  ['F = 129 > MC', { N: 1, C: 2, F: 129, H: 4, W: 5, k: [3, 3], options: { pad: 1 } }],
  ['outH·outW = 4225 > NC', { N: 1, C: 2, F: 3, H: 65, W: 65, k: [3, 3], options: { pad: 1 } }],
  [
    'three images, two per product',
    { N: 3, C: 32, F: 3, H: 72, W: 72, k: [3, 3], options: { pad: 1 } },
  ],
  [
    'dw in 16 pieces of the columns and the four left over',
    { N: 1, C: 2, F: 32, H: 242, W: 242, k: [3, 3], options: { pad: 1 } },
  ],
];

describe('conv2d in WebAssembly kernel memory (float32)', () => {
  it('equals the TypeScript path on every edge of the 4×8 GEMM tile and the 4-lane row copies', () => {
    for (const stride of [1, 2]) {
      for (let F = 1; F <= 9; F++) {
        for (const W of [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17]) {
          const s: Shape = { N: 1, C: 2, F, H: 3, W, k: [3, 3], options: { pad: 1, stride } };
          const error = kernelVersusTypescript(s, F * 100 + W);
          expect(error).to.be.below(1e-5, `F = ${F}, W = ${W}, stride ${stride}`);
        }
      }
    }
  });

  for (const [label, shape] of blockEdges) {
    it(`equals the TypeScript path across block edges (${label})`, () => {
      expect(kernelVersusTypescript(shape, 3)).to.be.below(1e-5);
    });
  }

  it('equals the TypeScript path on strided, transposed and reversed views', () => {
    const shape: Shape = {
      N: 2,
      C: 3,
      F: 5,
      H: 7,
      W: 9,
      k: [3, 2],
      options: { pad: [1, 0, 2, 1], stride: [1, 2], dilation: [2, 1] },
    };
    for (const layout of layouts) {
      expect(kernelVersusTypescript(shape, 8, layout)).to.be.below(1e-5, layout);
    }
  });

  it('equals the TypeScript path with the GEMM split over the thread pool', async () => {
    expect(await startGemmPool(2)).to.equal(2);
    try {
      // Each pass is 20 × 1800 × 144 multiply-adds, past the pool's 128³ threshold.
      const shape: Shape = { N: 2, C: 16, F: 20, H: 30, W: 30, k: [3, 3], options: { pad: 1 } };
      expect(kernelVersusTypescript(shape, 4)).to.be.below(1e-5);
      expect(kernelVersusTypescript(blockEdges[3]![1], 5)).to.be.below(1e-5);
    } finally {
      await stopGemmPool();
    }
  });

  it('grows an unshared kernel memory, refreshing its views, and stays equal', () => {
    const saved = gemmKernel();
    const fresh = createGemmKernel(false);
    setGemmKernel(fresh);
    try {
      expect(fresh.memory.buffer).to.not.be.instanceOf(SharedArrayBuffer);
      const small: Shape = { N: 1, C: 2, F: 3, H: 6, W: 7, k: [3, 3], options: { pad: 1 } };
      expect(kernelVersusTypescript(small, 1)).to.be.below(1e-5);
      const before = fresh.memory.buffer;
      // cols alone is 288 × 4096 floats (4.5 MiB), beyond what the small call needed.
      const large: Shape = { N: 1, C: 32, F: 8, H: 64, W: 64, k: [3, 3], options: { pad: 1 } };
      expect(kernelVersusTypescript(large, 2)).to.be.below(1e-5);
      expect(fresh.memory.buffer.byteLength).to.be.above(before.byteLength);
      expect(before.byteLength).to.equal(0, 'growth detaches the old unshared buffer');
      expect(kernelVersusTypescript(small, 1)).to.be.below(1e-5);
    } finally {
      setGemmKernel(saved);
    }
  });

  it("setConvGemm('typescript') leaves kernel memory untouched", () => {
    const saved = gemmKernel();
    const fresh = createGemmKernel(false);
    setGemmKernel(fresh);
    setConvGemm('typescript');
    try {
      const rng = new Rng(6);
      const x = randomTensor(rng, [1, 8, 16, 16], 'contiguous', 'float32');
      const w = randomTensor(rng, [8, 8, 3, 3], 'contiguous', 'float32');
      const geom = convGeometry(x.shape, w.shape, { pad: 1 });
      const out = conv2dForward(zeros([1, 8, 16, 16], 'float32'), x, w, null, geom);
      conv2dBackwardInput(zeros(x.shape, 'float32'), out, w, geom);
      conv2dBackwardWeights(zeros(w.shape, 'float32'), null, out, x, geom);
      expect(fresh.memory.buffer.byteLength).to.equal(65536, 'still the one initial page');
    } finally {
      setConvGemm('wasm');
      setGemmKernel(saved);
    }
  });

  // The analytic gradients come from the float32 kernels; the numerical ones from the float64
  // forward (conv is linear, so both describe the same function).
  for (const cfg of gradientConfigs) {
    it(`float32 backward (input, weights, bias) matches numerical gradient (${cfg.label})`, () => {
      const result = float32GradientCheck(fast, cfg.x, cfg.w, cfg.options, 7);
      // Observed about 1e-7: the analytic side is rounded to float32.
      expect(result.maxError).to.be.below(1e-4, result.describe());
    });
  }

  it('float32 gradient check catches a backward that forgets to flip the filter', () => {
    const wrong: Impl = {
      ...fast,
      backwardInput: (dx, dy, w, geom) => {
        const flipped = w.step(1, 1, -1, -1) as Tensor;
        return conv2dBackwardInput(dx, dy, flipped, geom);
      },
    };
    const result = float32GradientCheck(wrong, [2, 2, 5, 4], [2, 2, 3, 3], { pad: 1 }, 3);
    expect(result.maxError).to.be.above(1e-2);
  });
});

// gradientCheck with the backward passes run on float32 copies of x, w, b, dy.
function float32GradientCheck(
  impl: Impl,
  xShape: number[],
  wShape: number[],
  options: ConvOptions,
  seed: number,
) {
  const rng = new Rng(seed);
  const x = randomTensor(rng, xShape);
  const w = randomTensor(rng, wShape);
  const b = randomTensor(rng, [wShape[0]!]);
  const geom = convGeometry(x.shape, w.shape, options);
  const out = zeros([geom.N, geom.F, geom.outH, geom.outW]);
  const dy = rng.fillNormal(like(out));
  const [x32, w32, dy32] = [copy(x, 'float32'), copy(w, 'float32'), copy(dy, 'float32')];
  const dx = copy(impl.backwardInput(zeros(x.shape, 'float32'), dy32, w32, geom), 'float64');
  const dw32 = zeros(w.shape, 'float32');
  const db32 = zeros(b.shape, 'float32');
  impl.backwardWeights(dw32, db32, dy32, x32, geom);
  const loss = (): number => dot(dy, conv2dForward(out, x, w, b, geom));
  return checkGradients(loss, [
    { name: 'x', value: x, grad: dx },
    { name: 'w', value: w, grad: copy(dw32, 'float64') },
    { name: 'b', value: b, grad: copy(db32, 'float64') },
  ]);
}

interface Case {
  N: number;
  C: number;
  F: number;
  H: number;
  W: number;
  kH: number;
  kW: number;
  stride: [number, number];
  dilation: [number, number];
  pad: [number, number, number, number];
  dtype: 'float64' | 'float32';
  seed: number;
}

// Run both implementations on the same inputs (laid out as the given views) and compare.
function compareFastNaive(c: Case, views: readonly Layout[]): void {
  const rng = new Rng(c.seed);
  const x = randomTensor(rng, [c.N, c.C, c.H, c.W], views[0], c.dtype);
  const w = randomTensor(rng, [c.F, c.C, c.kH, c.kW], views[1], c.dtype);
  const b = randomTensor(rng, [c.F], views[2], c.dtype);
  const geom: ConvGeometry = convGeometry(x.shape, w.shape, {
    stride: c.stride,
    dilation: c.dilation,
    pad: c.pad,
  });
  const outShape = [c.N, c.F, geom.outH, geom.outW];
  const dy = randomTensor(rng, outShape, views[3], c.dtype);
  const tol = c.dtype === 'float64' ? 1e-12 : 1e-5;
  const pair = (make: () => Tensor) => [make(), make()] as const;

  const [outFast, outNaive] = pair(() => randomTensor(rng, outShape, views[4], c.dtype));
  conv2dForward(outFast, x, w, b, geom);
  conv2dNaiveForward(outNaive, x, w, b, geom);
  expect(relativeDifference(outFast, outNaive)).to.be.below(tol, 'forward');

  const [dxFast, dxNaive] = pair(() => randomTensor(rng, x.shape, views[4], c.dtype));
  conv2dBackwardInput(dxFast, dy, w, geom);
  conv2dNaiveBackwardInput(dxNaive, dy, w, geom);
  expect(relativeDifference(dxFast, dxNaive)).to.be.below(tol, 'backward input');

  // Both start from the same nonzero gradient, to see that they accumulate the same way.
  const dw0 = randomTensor(new Rng(c.seed + 1), w.shape, views[4], c.dtype);
  const dwFast = dw0;
  const dwNaive = randomTensor(new Rng(c.seed + 1), w.shape, views[4], c.dtype);
  const dbFast = randomTensor(new Rng(c.seed + 2), [c.F], views[2], c.dtype);
  const dbNaive = randomTensor(new Rng(c.seed + 2), [c.F], views[2], c.dtype);
  conv2dBackwardWeights(dwFast, dbFast, dy, x, geom);
  conv2dNaiveBackwardWeights(dwNaive, dbNaive, dy, x, geom);
  expect(relativeDifference(dwFast, dwNaive)).to.be.below(tol, 'backward weights');
  expect(relativeDifference(dbFast, dbNaive)).to.be.below(tol, 'backward bias');
}

// The three float32 passes on one shape, as bit patterns, with the kernel's im2col / col2im
// calls on the calling thread recorded by their channel count C (so a test can tell whether a
// pass was split into one-channel units or ran whole).
function wasmPassBits(
  s: Shape,
  seed: number,
  layout: Layout,
  columns: 'implicit' | 'built' = 'built',
): { bits: Uint32Array[]; channels: number[] } {
  const rng = new Rng(seed);
  const x = randomTensor(rng, [s.N, s.C, s.H, s.W], layout, 'float32');
  const w = randomTensor(rng, [s.F, s.C, ...s.k], layout, 'float32');
  const b = randomTensor(rng, [s.F], layout, 'float32');
  const geom = convGeometry(x.shape, w.shape, s.options);
  const dy = randomTensor(rng, [s.N, s.F, geom.outH, geom.outW], layout, 'float32');
  const ex = gemmKernel().exports;
  const channels: number[] = [];
  const { im2col, col2im } = ex;
  ex.im2col = (...args) => (channels.push(args[1]), im2col(...args));
  ex.col2im = (...args) => (channels.push(args[1]), col2im(...args));
  // im2col for every pass, so that 3×3 stride-1 shapes do not go to Winograd (winograd.test.ts).
  setConvAlgorithm('im2col');
  setConvColumns(columns);
  try {
    const out = passes('wasm', x, w, b, dy, geom, layout);
    return {
      bits: out.map((t) => new Uint32Array(Float32Array.from(toArray(t)).buffer)),
      channels,
    };
  } finally {
    setConvAlgorithm('auto');
    setConvColumns('implicit');
    ex.im2col = im2col;
    ex.col2im = col2im;
  }
}

// Above the pool's im2col threshold (1M column entries): the first layer's three channels (split
// by kernel rows), a batch of three images in odd geometry, and two images per product (split
// by channels); below it, a small batch.
const poolShapes: [string, Shape, boolean][] = [
  [
    'three channels, 200×200',
    { N: 1, C: 3, F: 8, H: 200, W: 200, k: [3, 3], options: { pad: 1 } },
    true,
  ],
  [
    'a batch of three, strided and dilated',
    {
      N: 3,
      C: 32,
      F: 8,
      H: 80,
      W: 80,
      k: [3, 2],
      options: { pad: [1, 0, 2, 1], stride: [1, 2], dilation: [2, 1] },
    },
    true,
  ],
  ['three images, two per product', blockEdges[3]![1], true],
  // [cols; 1] narrow (K1 = 19 ≤ F) and deep (19 · 242² ≥ 1M): dw in 16 pieces of the columns,
  // one product each, plus the four columns left over.
  [
    'backward-to-weights in pieces of the columns',
    { N: 1, C: 2, F: 32, H: 242, W: 242, k: [3, 3], options: { pad: 1 } },
    true,
  ],
  [
    'below the threshold',
    { N: 2, C: 3, F: 4, H: 9, W: 8, k: [3, 3], options: { pad: 1, stride: 2 } },
    false,
  ],
];

describe('conv2d with im2col / col2im on the thread pool', () => {
  for (const [label, shape, split] of poolShapes) {
    it(`equals one thread bit for bit (${label})`, async () => {
      for (const layout of ['contiguous', 'reversed'] as const) {
        const one = wasmPassBits(shape, 21, layout);
        expect(one.channels.every((c) => c === shape.C)).to.equal(true, 'one thread: whole images');
        expect(await startGemmPool(2)).to.equal(2);
        let two;
        try {
          two = wasmPassBits(shape, 21, layout);
        } finally {
          await stopGemmPool();
        }
        // The calling thread takes units too, so a split pass shows calls on fewer channels here
        // (or none at all, when the scheduler ran the helper first and it took every unit).
        if (split) {
          expect(two.channels.every((c) => c < shape.C)).to.equal(true, layout);
        } else {
          expect(two.channels.length > 0 && two.channels.every((c) => c === shape.C)).to.equal(
            true,
            layout,
          );
        }
        for (let i = 0; i < 4; i++) {
          expect(two.bits[i]!.length).to.equal(one.bits[i]!.length);
          const differ = two.bits[i]!.findIndex((v, j) => v !== one.bits[i]![j]);
          expect(differ).to.equal(-1, `${layout}, output ${i} (out, dx, dw, db)`);
        }
      }
    });
  }

  it('the bit comparison catches a one-ulp change (negative control)', () => {
    const one = wasmPassBits(poolShapes[4]![1], 21, 'contiguous');
    const changed = Uint32Array.from(one.bits[1]!);
    changed[5]! ^= 1;
    expect(changed.findIndex((v, j) => v !== one.bits[1]![j])).to.equal(5);
  });
});

// Per output (out, dx, dw, db): the index of its first differing bit pattern, -1 where none
// differs, -2 where the lengths differ.
function firstDifferences(a: Uint32Array[], b: Uint32Array[]): number[] {
  return a.map((bits, i) => {
    if (bits.length !== b[i]!.length) return -2;
    return bits.findIndex((v, j) => v !== b[i]![j]);
  });
}

describe('conv2d on an implicit column matrix (the GEMM packs from the image)', () => {
  // The forward and backward-to-weights products read [cols; 1] through im2colBlock (assembly/
  // conv.ts) instead of the matrix im2col builds: the same floats, packed the same way, so every
  // output has the same bits. dx does not use the columns; it is compared too, as a control.
  it('gives the bits of the built matrix on random shapes, strides, paddings, dilations and batches', () => {
    const shape = fc.record({
      N: fc.integer({ min: 1, max: 3 }),
      C: fc.integer({ min: 1, max: 5 }),
      F: fc.integer({ min: 1, max: 9 }),
      H: fc.integer({ min: 1, max: 13 }),
      W: fc.integer({ min: 1, max: 13 }),
      k: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
      stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
      pad: fc.tuple(...Array.from({ length: 4 }, () => fc.integer({ min: 0, max: 3 }))),
      layout: fc.constantFrom(...layouts),
      seed: fc.integer({ min: 0, max: 1000 }),
    });
    fc.assert(
      fc.property(shape, (c) => {
        const [pT, pB, pL, pR] = c.pad;
        fc.pre(c.dilation[0] * (c.k[0] - 1) < c.H + pT + pB);
        fc.pre(c.dilation[1] * (c.k[1] - 1) < c.W + pL + pR);
        const s: Shape = {
          ...c,
          options: { stride: c.stride, dilation: c.dilation, pad: [pT, pB, pL, pR] },
        };
        const built = wasmPassBits(s, c.seed, c.layout, 'built');
        const implicit = wasmPassBits(s, c.seed, c.layout, 'implicit');
        expect(firstDifferences(implicit.bits, built.bits)).to.deep.equal([-1, -1, -1, -1]);
        // Only col2im (backward-to-input) is left of the column passes.
        expect(implicit.channels.length).to.equal(s.N);
      }),
      { seed: 20261129, numRuns: 120 },
    );
  });

  // Past the GEMM's blocks (a second KC-deep panel starts in the middle of the taps; an
  // NC-wide panel ends inside an output row), the 16 pieces of a narrow backward-to-weights, a
  // batch of images per product, and a large first layer that the pool cuts into many blocks.
  const edges: [string, Shape][] = [
    ...blockEdges,
    // Backward-to-weights with F ≥ K + 1 (64 ≥ 10) and [cols; 1] below the pieces' 1M entries:
    // the pool cuts dw by rows and packs the implicit B whole once (packBPanels).
    [
      'dw cut by rows, B packed whole',
      { N: 1, C: 1, F: 64, H: 300, W: 300, k: [3, 3], options: { pad: 1 } },
    ],
    // One column (ld = 1): [cols; 1] and its transpose have the same strides.
    ['one output pixel', { N: 1, C: 2, F: 3, H: 3, W: 3, k: [3, 3], options: {} }],
    [
      'a first layer, 3 → 16 at 150 px',
      { N: 1, C: 3, F: 16, H: 150, W: 150, k: [3, 3], options: { pad: 1 } },
    ],
  ];
  for (const [label, shape] of edges) {
    it(`gives the bits of the built matrix on one thread and on the pool (${label})`, async () => {
      const built = wasmPassBits(shape, 7, 'contiguous', 'built');
      const implicit = wasmPassBits(shape, 7, 'contiguous', 'implicit');
      expect(firstDifferences(implicit.bits, built.bits)).to.deep.equal([-1, -1, -1, -1]);
      expect(await startGemmPool(2)).to.equal(2);
      try {
        const pooled = wasmPassBits(shape, 7, 'contiguous', 'implicit');
        expect(firstDifferences(pooled.bits, built.bits)).to.deep.equal([-1, -1, -1, -1]);
      } finally {
        await stopGemmPool();
      }
    });
  }

  // The kernel's blocks against im2col's matrix itself, float for float: any rows (the ones
  // past C·kH·kW included) and any columns (across output rows and images) of random geometry.
  it('im2colBlock copies exactly the block of the matrix im2col builds', () => {
    const k = gemmKernel();
    const geometry = fc.record({
      images: fc.integer({ min: 1, max: 3 }),
      C: fc.integer({ min: 1, max: 3 }),
      H: fc.integer({ min: 1, max: 9 }),
      W: fc.integer({ min: 1, max: 9 }),
      k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
      pad: fc.tuple(...Array.from({ length: 4 }, () => fc.integer({ min: 0, max: 2 }))),
      block: fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat()),
    });
    fc.assert(
      fc.property(geometry, (c) => {
        const [pT, pB, pL, pR] = c.pad;
        const outH =
          Math.floor((c.H + pT + pB - c.dilation[0] * (c.k[0] - 1) - 1) / c.stride[0]) + 1;
        const outW =
          Math.floor((c.W + pL + pR - c.dilation[1] * (c.k[1] - 1) - 1) / c.stride[1]) + 1;
        fc.pre(outH >= 1 && outW >= 1);
        const image = c.C * c.H * c.W;
        const taps = c.C * c.k[0] * c.k[1];
        const rows = taps + 1; // and the ones row
        const L = c.images * outH * outW;
        const { heap, at } = kernelRegions([c.images * image, rows * L, rows * L, 16]);
        const [xAt, colsAt, blockAt, descAt] = at as [number, number, number, number];
        const rng = new Rng(c.block[0]);
        for (let i = 0; i < c.images * image; i++) heap[(xAt >> 2) + i] = rng.normal();
        const geom = [c.C, c.H, c.W, ...c.k, outH, outW, ...c.stride, pT, pL, ...c.dilation];
        for (let n = 0; n < c.images; n++) {
          const args = [
            xAt + 4 * n * image,
            ...geom,
            colsAt + 4 * n * outH * outW,
            L,
          ] as Im2colArgs;
          k.exports.im2col(...args);
        }
        heap.fill(1, (colsAt >> 2) + taps * L, (colsAt >> 2) + rows * L);
        const desc = [xAt, ...geom, 4 * image, L] as Im2colDescriptor;
        writeIm2colDescriptor(descAt, desc);
        const k0 = c.block[0] % rows;
        const kn = 1 + (c.block[1] % (rows - k0));
        const l0 = c.block[2] % L;
        const ln = 1 + (c.block[3] % (L - l0));
        heap.fill(NaN, blockAt >> 2, (blockAt >> 2) + rows * L);
        k.exports.im2colBlock(descAt, k0, kn, l0, ln, blockAt, ln);
        for (let r = 0; r < kn; r++) {
          for (let j = 0; j < ln; j++) {
            const want = heap[(colsAt >> 2) + (k0 + r) * L + l0 + j]!;
            const got = heap[(blockAt >> 2) + r * ln + j]!;
            if (!Object.is(got, want)) {
              throw new Error(`row ${k0 + r}, column ${l0 + j}: ${got}, im2col ${want}`);
            }
          }
        }
        // Nothing written past the block.
        expect(Number.isNaN(heap[(blockAt >> 2) + kn * ln]!)).to.equal(true, 'past the block');
      }),
      { seed: 29, numRuns: 300 },
    );
  });

  it('rejects strides other than along the rows or the columns, naming them', () => {
    const { at } = kernelRegions([16, 64, 64]);
    const [descAt, aAt, cAt] = at as [number, number, number];
    writeIm2colDescriptor(descAt, [0, 1, 4, 4, 1, 1, 4, 4, 1, 1, 0, 0, 1, 1, 64, 16]);
    const product = (bRs: number, bCs: number) => () =>
      gemmWasmStaged(1, 4, 1, 1, aAt, 1, 1, 0, bRs, bCs, 0, cAt, 4, 1, undefined, descAt);
    expect(product(16, 1)).not.to.throw();
    expect(product(1, 16)).not.to.throw();
    expect(product(8, 1)).to.throw(/implicit column matrix \(ld 16\).*\(8, 1\)/);
  });
});
