import { expect } from 'chai';
import fc from 'fast-check';
import {
  Rng,
  checkGradients,
  copy,
  dot,
  fromArray,
  like,
  toArray,
  zeros,
} from '../../lib/core/index.js';
import {
  avgPool2dBackward,
  avgPool2dForward,
  avgPool2dNaiveBackward,
  avgPool2dNaiveForward,
  globalAvgPool2dBackward,
  globalAvgPool2dForward,
  maxPool2dBackward,
  maxPool2dForward,
  maxPool2dNaiveBackward,
  maxPool2dNaiveForward,
  poolGeometry,
  type PoolGeometry,
  type PoolOptions,
} from '../../lib/cnn/index.js';
import { layouts, randomTensor, relativeDifference } from './helpers.js';

// The tutorial's pooling example (learn_dl cnn.py init_pool_test): 2 channels of 4×4, 2×2 windows,
// stride 2. Its windows have no ties at the maximum.
const poolX = fromArray(
  [1, 1, 2, 4, 5, 6, 7, 8, 3, 2, 1, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 3, 4, 5, 6],
  [1, 2, 4, 4],
);
const poolDy = fromArray([1, 2, 2, 4, 3, 5, 8, 2], [1, 2, 2, 2]);

const outShape = (g: PoolGeometry) => [g.N, g.C, g.outH, g.outW];

// L = Σ dy ⊙ pool(x), checked against central differences.
function poolGradientCheck(
  kind: 'max' | 'avg',
  shape: number[],
  options: PoolOptions,
  seed: number,
) {
  const rng = new Rng(seed);
  const x = randomTensor(rng, shape);
  const geom = poolGeometry(x.shape, options);
  const out = zeros(outShape(geom));
  const dy = rng.fillNormal(like(out));
  const argmax = new Int32Array(out.size);
  const dx = like(x);
  if (kind === 'max') {
    maxPool2dForward(out, argmax, x, geom);
    maxPool2dBackward(dx, dy, argmax, geom);
  } else {
    avgPool2dBackward(dx, dy, geom);
  }
  const forward = () =>
    kind === 'max' ? maxPool2dForward(out, argmax, x, geom) : avgPool2dForward(out, x, geom);
  return checkGradients(() => dot(dy, forward()), [{ name: 'x', value: x, grad: dx }]);
}

describe('pooling', () => {
  it('max pooling matches the tutorial example, forward and backward', () => {
    const geom = poolGeometry(poolX.shape, { kernel: 2 });
    const out = zeros([1, 2, 2, 2]);
    const argmax = new Int32Array(8);
    maxPool2dForward(out, argmax, poolX, geom);
    expect(toArray(out)).to.deep.equal([6, 8, 3, 4, 5, 7, 9, 6]);
    const dx = maxPool2dBackward(zeros([1, 2, 4, 4]), poolDy, argmax, geom);
    expect(toArray(dx)).to.deep.equal(
      [
        [0, 0, 0, 0, 0, 1, 0, 2, 2, 0, 0, 0, 0, 0, 0, 4],
        [0, 0, 0, 0, 0, 3, 0, 5, 0, 8, 0, 0, 0, 0, 0, 2],
      ].flat(),
    );
  });

  it('max pooling breaks ties by the first index in row-major order', () => {
    const x = fromArray([7, 7, 7, 7], [1, 1, 2, 2]);
    const argmax = new Int32Array(1);
    maxPool2dForward(zeros([1, 1, 1, 1]), argmax, x, poolGeometry(x.shape, { kernel: 2 }));
    expect(argmax[0]).to.equal(0);
  });

  it('output size floors by default and ceils in Caffe mode, dropping windows that start in the padding', () => {
    expect(poolGeometry([1, 1, 6, 6], { kernel: 3, stride: 2 })).to.include({ outH: 2, outW: 2 });
    expect(poolGeometry([1, 1, 6, 6], { kernel: 3, stride: 2, ceilMode: true })).to.include({
      outH: 3,
      outW: 3,
    });
    // ⌈(5 + 2 − 2) / 2⌉ + 1 = 4, but window 3 would start at 6 − 1 = 5 ≥ H + pad: dropped.
    expect(poolGeometry([1, 1, 5, 5], { kernel: 2, stride: 2, pad: 1, ceilMode: true })).to.include(
      { outH: 3 },
    );
  });

  it('average pooling counts the padding or not, as asked', () => {
    const x = fromArray([1, 2, 3, 4], [1, 1, 2, 2]);
    const counted = poolGeometry(x.shape, { kernel: 2, stride: 2, pad: 1 });
    const out = avgPool2dForward(zeros([1, 1, 2, 2]), x, counted);
    expect(toArray(out)).to.deep.equal([0.25, 0.5, 0.75, 1]);
    const uncounted = poolGeometry(x.shape, { kernel: 2, stride: 2, pad: 1, countPadding: false });
    expect(toArray(avgPool2dForward(zeros([1, 1, 2, 2]), x, uncounted))).to.deep.equal([
      1, 2, 3, 4,
    ]);
  });

  const configs: { label: string; shape: number[]; options: PoolOptions }[] = [
    { label: '2×2 stride 2', shape: [2, 2, 4, 6], options: { kernel: 2 } },
    {
      label: '3×2 stride [2, 1], pad 1',
      shape: [2, 3, 5, 4],
      options: { kernel: [3, 2], stride: [2, 1], pad: 1 },
    },
    {
      label: '3×3 stride 2, ceil mode',
      shape: [2, 2, 6, 5],
      options: { kernel: 3, stride: 2, ceilMode: true },
    },
    {
      label: '3×3 stride 2, pad 1, ceil mode, padding not counted',
      shape: [2, 2, 6, 7],
      options: { kernel: 3, stride: 2, pad: 1, ceilMode: true, countPadding: false },
    },
  ];
  for (const kind of ['max', 'avg'] as const) {
    for (const cfg of configs) {
      it(`${kind} pooling backward matches numerical gradient (${cfg.label})`, () => {
        // Random normal inputs have no near-ties (gaps ≫ h = 1e-5); observed about 1e-11.
        const result = poolGradientCheck(kind, cfg.shape, cfg.options, 11);
        expect(result.maxError).to.be.below(1e-7, result.describe());
      });
    }
  }

  it('global average pooling backward matches numerical gradient', () => {
    const rng = new Rng(2);
    const x = randomTensor(rng, [2, 3, 4, 5]);
    const dy = randomTensor(rng, [2, 3, 1, 1]);
    const dx = globalAvgPool2dBackward(like(x), dy);
    const out = zeros([2, 3, 1, 1]);
    const result = checkGradients(
      () => dot(dy, globalAvgPool2dForward(out, x)),
      [{ name: 'x', value: x, grad: dx }],
    );
    expect(result.maxError).to.be.below(1e-7, result.describe());
  });

  it('fast pooling equals naive on random shapes, windows, paddings and views', () => {
    const config = fc.record({
      N: fc.integer({ min: 1, max: 2 }),
      C: fc.integer({ min: 1, max: 3 }),
      H: fc.integer({ min: 1, max: 8 }),
      W: fc.integer({ min: 1, max: 8 }),
      kH: fc.integer({ min: 1, max: 4 }),
      kW: fc.integer({ min: 1, max: 4 }),
      sH: fc.integer({ min: 1, max: 3 }),
      sW: fc.integer({ min: 1, max: 3 }),
      pad: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)),
      ceilMode: fc.boolean(),
      countPadding: fc.boolean(),
      views: fc.tuple(
        fc.constantFrom(...layouts),
        fc.constantFrom(...layouts),
        fc.constantFrom(...layouts),
      ),
      dtype: fc.constantFrom('float64' as const, 'float32' as const),
      seed: fc.nat(1000),
    });
    fc.assert(
      fc.property(config, (c) => {
        const [pT, pB, pL, pR] = c.pad;
        fc.pre(2 * Math.max(pT, pB) <= c.kH && 2 * Math.max(pL, pR) <= c.kW);
        fc.pre(c.kH <= c.H + pT + pB && c.kW <= c.W + pL + pR);
        const rng = new Rng(c.seed);
        const x = randomTensor(rng, [c.N, c.C, c.H, c.W], c.views[0], c.dtype);
        const geom = poolGeometry(x.shape, {
          kernel: [c.kH, c.kW],
          stride: [c.sH, c.sW],
          pad: c.pad,
          ceilMode: c.ceilMode,
          countPadding: c.countPadding,
        });
        const dy = randomTensor(rng, outShape(geom), c.views[1], c.dtype);
        const tol = c.dtype === 'float64' ? 1e-12 : 1e-6;
        const make = (shape: number[]) => randomTensor(rng, shape, c.views[2], c.dtype);
        const [a1, a2] = [new Int32Array(dy.size), new Int32Array(dy.size)];
        const o1 = maxPool2dForward(make(dy.shape), a1, x, geom);
        const o2 = maxPool2dNaiveForward(make(dy.shape), a2, x, geom);
        expect(relativeDifference(o1, o2)).to.be.below(tol);
        expect(Array.from(a1)).to.deep.equal(Array.from(a2));
        const d1 = maxPool2dBackward(make(x.shape), dy, a1, geom);
        const d2 = maxPool2dNaiveBackward(make(x.shape), dy, a2, geom);
        expect(relativeDifference(d1, d2)).to.be.below(tol);
        const v1 = avgPool2dForward(make(dy.shape), x, geom);
        const v2 = avgPool2dNaiveForward(make(dy.shape), x, geom);
        expect(relativeDifference(v1, v2)).to.be.below(tol);
        const g1 = avgPool2dBackward(make(x.shape), dy, geom);
        const g2 = avgPool2dNaiveBackward(make(x.shape), dy, geom);
        expect(relativeDifference(g1, g2)).to.be.below(tol);
      }),
      { seed: 20261128, numRuns: 150 },
    );
  });

  it('2×2 stride-2 pooling (the WebAssembly kernel for float32) equals naive on random sizes and views', () => {
    // Widths up to 21 put outW on both sides of every multiple of the kernel's four lanes; odd
    // sizes leave a last row or column outside every window (and in ceil mode, leave this path).
    const config = fc.record({
      N: fc.integer({ min: 1, max: 3 }),
      C: fc.integer({ min: 1, max: 3 }),
      H: fc.integer({ min: 2, max: 9 }),
      W: fc.integer({ min: 2, max: 21 }),
      ceilMode: fc.boolean(),
      views: fc.tuple(
        fc.constantFrom(...layouts),
        fc.constantFrom(...layouts),
        fc.constantFrom(...layouts),
      ),
      dtype: fc.constantFrom('float64' as const, 'float32' as const),
      seed: fc.nat(1000),
    });
    fc.assert(
      fc.property(config, (c) => {
        const rng = new Rng(c.seed);
        const x = randomTensor(rng, [c.N, c.C, c.H, c.W], c.views[0], c.dtype);
        const geom = poolGeometry(x.shape, { kernel: 2, ceilMode: c.ceilMode });
        const dy = randomTensor(rng, outShape(geom), c.views[1], c.dtype);
        // Average pooling sums four float32 values in float32 on the kernel, in float64 here.
        const tol = c.dtype === 'float64' ? 1e-12 : 1e-6;
        const make = (shape: number[]) => randomTensor(rng, shape, c.views[2], c.dtype);
        const [a1, a2] = [new Int32Array(dy.size), new Int32Array(dy.size)];
        const o1 = maxPool2dForward(make(dy.shape), a1, x, geom);
        const o2 = maxPool2dNaiveForward(make(dy.shape), a2, x, geom);
        expect(toArray(o1)).to.deep.equal(toArray(o2));
        expect(Array.from(a1)).to.deep.equal(Array.from(a2));
        const d1 = maxPool2dBackward(make(x.shape), dy, a1, geom);
        const d2 = maxPool2dNaiveBackward(make(x.shape), dy, a2, geom);
        expect(toArray(d1)).to.deep.equal(toArray(d2));
        const v1 = avgPool2dForward(make(dy.shape), x, geom);
        const v2 = avgPool2dNaiveForward(make(dy.shape), x, geom);
        expect(relativeDifference(v1, v2)).to.be.below(tol);
        const g1 = avgPool2dBackward(make(x.shape), dy, geom);
        const g2 = avgPool2dNaiveBackward(make(x.shape), dy, geom);
        expect(relativeDifference(g1, g2)).to.be.below(tol);
      }),
      { seed: 20261129, numRuns: 200 },
    );
  });

  it('2×2 max pooling in float32 keeps the first of tied maxima and a leading NaN, in SIMD lanes and the tail', () => {
    // Five windows in a row: four fill the kernel's lanes, the fifth runs in its scalar tail.
    const top = [7, 7, NaN, 1, 1, NaN, 0, 0, 3, NaN];
    const bottom = [7, 7, 2, 3, 2, 0, 0, 5, NaN, NaN];
    for (const row of [top, bottom]) expect(row).to.have.length(10);
    const x = fromArray([...top, ...bottom], [1, 1, 2, 10], 'float32');
    const geom = poolGeometry(x.shape, { kernel: 2 });
    const [a1, a2] = [new Int32Array(5), new Int32Array(5)];
    const o1 = maxPool2dForward(zeros([1, 1, 1, 5], 'float32'), a1, x, geom);
    const o2 = maxPool2dNaiveForward(zeros([1, 1, 1, 5], 'float32'), a2, x, geom);
    expect(toArray(o1)).to.deep.equal([7, NaN, 2, 5, 3]);
    expect(Array.from(a1)).to.deep.equal([0, 2, 14, 17, 8]);
    expect(toArray(o2)).to.deep.equal(toArray(o1));
    expect(Array.from(a2)).to.deep.equal(Array.from(a1));
  });

  for (const kind of ['max', 'avg'] as const) {
    it(`float32 2×2 ${kind} pooling backward matches numerical gradient`, () => {
      // Analytic gradient from the float32 kernel, numerical from the float64 forward.
      const rng = new Rng(12);
      const x = randomTensor(rng, [2, 3, 6, 11]);
      const geom = poolGeometry(x.shape, { kernel: 2 });
      const out = zeros(outShape(geom));
      const dy = rng.fillNormal(like(out));
      const argmax = new Int32Array(out.size);
      const x32 = copy(x, 'float32');
      const dx32 = zeros(x.shape, 'float32');
      if (kind === 'max') {
        maxPool2dForward(zeros(out.shape, 'float32'), argmax, x32, geom);
        maxPool2dBackward(dx32, copy(dy, 'float32'), argmax, geom);
      } else {
        avgPool2dBackward(dx32, copy(dy, 'float32'), geom);
      }
      const forward = () =>
        kind === 'max' ? maxPool2dForward(out, argmax, x, geom) : avgPool2dForward(out, x, geom);
      const dx = copy(dx32, 'float64');
      const result = checkGradients(() => dot(dy, forward()), [{ name: 'x', value: x, grad: dx }]);
      expect(result.maxError).to.be.below(1e-6, result.describe());
      // Negative control: the gradient routed to the wrong input of each window fails.
      const shifted = like(dx);
      shifted.data.set(dx.data.subarray(0, dx.size - 1), 1);
      const wrong = checkGradients(
        () => dot(dy, forward()),
        [{ name: 'x', value: x, grad: shifted }],
      );
      expect(wrong.maxError).to.be.above(1e-2);
    });
  }

  it('throws naming both shapes when the output does not fit the geometry', () => {
    const geom = poolGeometry([1, 2, 4, 4], { kernel: 2 });
    expect(() => avgPool2dForward(zeros([1, 2, 3, 2]), zeros([1, 2, 4, 4]), geom)).to.throw(
      /\[1, 2, 3, 2\].*\[1, 2, 2, 2\]/,
    );
  });

  it('throws when the padding exceeds half the window', () => {
    expect(() => poolGeometry([1, 1, 4, 4], { kernel: 2, pad: 2 })).to.throw(/at most half/);
  });
});
