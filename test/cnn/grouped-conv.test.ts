// Grouped convolution (Conv2d `groups`): the layer runs chapter 4's kernels once per group on
// channel-slice views. Held against a direct grouped loop, against an ordinary convolution with a
// block-diagonal weight, against the naive kernels, and against finite differences.
import { expect } from 'chai';
import {
  Rng,
  ShapeError,
  checkLayerGradients,
  copy,
  fill,
  tensor,
  zeroGrad,
  zeros,
  type DType,
  type Tensor,
} from '../../lib/core/index.js';
import { Conv2d, type Conv2dOptions } from '../../lib/cnn/index.js';
import { randomTensor, relativeDifference } from './helpers.js';

/**
 * The definition, loop by loop: output channel f belongs to group g = ⌊f / (F/groups)⌋ and sums
 * over that group's input channels only, y[n,f,oh,ow] = b[f] + Σ_{c<C/groups} Σ_i Σ_j
 * w[f,c,i,j] · x[n, g·C/groups + c, oh·s − pad + i·d, ow·s − pad + j·d].
 */
function groupedLoop(
  x: Tensor,
  w: Tensor,
  b: Tensor,
  groups: number,
  { stride, pad, dilation }: { stride: number; pad: number; dilation: number },
): Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [F, Cg, kH, kW] = w.shape as [number, number, number, number];
  const outH = Math.floor((H + 2 * pad - dilation * (kH - 1) - 1) / stride) + 1;
  const outW = Math.floor((W + 2 * pad - dilation * (kW - 1) - 1) / stride) + 1;
  expect(Cg * groups).to.equal(C);
  const y = zeros([N, F, outH, outW]);
  for (let n = 0; n < N; n++)
    for (let f = 0; f < F; f++) {
      const g = Math.floor(f / (F / groups));
      for (let oh = 0; oh < outH; oh++)
        for (let ow = 0; ow < outW; ow++) {
          let s = b.get(f);
          for (let c = 0; c < Cg; c++)
            for (let i = 0; i < kH; i++)
              for (let j = 0; j < kW; j++) {
                const h = oh * stride - pad + i * dilation;
                const v = ow * stride - pad + j * dilation;
                if (h < 0 || h >= H || v < 0 || v >= W) continue;
                s += w.get(f, c, i, j) * x.get(n, g * Cg + c, h, v);
              }
          y.set(n, f, oh, ow, s);
        }
    }
  return y;
}

/** The ordinary weight [F, C, kH, kW] that is zero outside each group's diagonal block. */
function blockDiagonal(w: Tensor, groups: number): Tensor {
  const [F, Cg, kH, kW] = w.shape as [number, number, number, number];
  const full = zeros([F, Cg * groups, kH, kW]);
  for (let f = 0; f < F; f++) {
    const g = Math.floor(f / (F / groups));
    for (let c = 0; c < Cg; c++)
      for (let i = 0; i < kH; i++)
        for (let j = 0; j < kW; j++) full.set(f, g * Cg + c, i, j, w.get(f, c, i, j));
  }
  return full;
}

const geometry = { stride: 2, pad: 1, dilation: 2 };

describe('Conv2d with groups', () => {
  for (const [C, F, groups] of [
    [4, 6, 2],
    [3, 3, 3], // depthwise
    [3, 6, 3], // depthwise with two filters per channel
  ] as const) {
    const label = `C ${C}, F ${F}, groups ${groups}`;

    it(`forward equals the grouped loop of the definition (${label}, strided input view)`, () => {
      const rng = new Rng(1);
      const conv = new Conv2d(C, F, 3, { groups, rng, ...geometry });
      rng.fillNormal(conv.bias!.value);
      expect(conv.weight.value.shape).to.deep.equal([F, C / groups, 3, 3]);
      const x = randomTensor(rng, [2, C, 7, 6], 'offset-strided');
      const want = groupedLoop(x, conv.weight.value, conv.bias!.value, groups, geometry);
      expect(relativeDifference(conv.forward(x), want)).to.be.below(1e-12);
    });

    it(`backward matches the numerical gradient for input, weight and bias (float64, ${label})`, () => {
      const rng = new Rng(2);
      const conv = new Conv2d(C, F, [3, 2], {
        groups,
        rng,
        stride: [1, 2],
        pad: 1,
        dilation: [2, 1],
      });
      rng.fillNormal(conv.bias!.value);
      const report = checkLayerGradients(conv, randomTensor(rng, [2, C, 6, 5]));
      expect(report.reports.map((r) => r.name)).to.deep.equal([
        'input',
        'conv.weight',
        'conv.bias',
      ]);
      expect(report.maxError).to.be.below(1e-7, report.describe());
    });
  }

  it('equals an ordinary convolution with the block-diagonal weight, and differs from one without the zeros', () => {
    const rng = new Rng(3);
    const grouped = new Conv2d(4, 6, 3, { groups: 2, rng, pad: 1 });
    const x = randomTensor(rng, [2, 4, 5, 5]);
    const full = blockDiagonal(grouped.weight.value, 2);
    const bias = copy(grouped.bias!.value);
    const ordinary = new Conv2d(4, 6, 3, { pad: 1, weights: { weight: full, bias } });
    expect(relativeDifference(grouped.forward(x), ordinary.forward(x))).to.be.below(1e-12);
    // Negative control: one weight across the groups (output 0 reading input channel 3) changes
    // the ordinary convolution, so the comparison above does see cross-group mixing.
    full.set(0, 3, 1, 1, 1);
    expect(relativeDifference(grouped.forward(x), ordinary.forward(x))).to.be.above(1e-3);
  });

  for (const dtype of ['float64', 'float32'] as const) {
    it(`fast kernels equal the naive ones per group on forward, dx, dw and db (${dtype})`, () => {
      const rng = new Rng(4);
      const tolerance = dtype === 'float64' ? 1e-12 : 1e-5;
      for (const [C, F, groups] of [
        [4, 6, 2],
        [6, 6, 6],
        [6, 4, 2],
      ] as const) {
        const make = (kernels: 'fast' | 'naive', source?: Conv2d): Conv2d => {
          const options: Conv2dOptions = { groups, stride: [2, 1], pad: [1, 0, 2, 1], kernels };
          if (source === undefined) return new Conv2d(C, F, [3, 2], { ...options, rng, dtype });
          const weights = { weight: copy(source.weight.value), bias: copy(source.bias!.value) };
          return new Conv2d(C, F, [3, 2], { ...options, weights });
        };
        const fast = make('fast');
        rng.fillNormal(fast.bias!.value);
        const naive = make('naive', fast);
        const x = randomTensor(rng, [3, C, 6, 5], 'offset-strided', dtype);
        const y = fast.forward(x);
        expect(relativeDifference(y, naive.forward(x))).to.be.below(tolerance);
        const dy = randomTensor(rng, y.shape, 'reversed', dtype);
        for (const layer of [fast, naive]) zeroGrad(layer.params());
        expect(relativeDifference(fast.backward(dy), naive.backward(dy))).to.be.below(tolerance);
        for (const [p, q] of fast.params().map((p, i) => [p, naive.params()[i]!] as const)) {
          expect(relativeDifference(p.grad, q.grad), p.name).to.be.below(tolerance);
        }
      }
    });
  }

  it('a frozen grouped conv leaves its gradients alone; without inputGrad it returns a zero dx', () => {
    const rng = new Rng(5);
    const x = randomTensor(rng, [1, 4, 4, 4]);
    const frozen = new Conv2d(4, 4, 3, { groups: 4, rng });
    frozen.frozen = true;
    const dy = randomTensor(rng, frozen.forward(x).shape);
    expect(relativeDifference(frozen.backward(dy), zeros([1, 4, 4, 4]))).to.be.above(0);
    expect(frozen.weight.grad.data.every((v) => v === 0)).to.equal(true);
    const first = new Conv2d(4, 4, 3, { groups: 2, rng, inputGrad: false });
    first.forward(x);
    expect(first.backward(dy).data.every((v) => v === 0)).to.equal(true);
    expect(first.weight.grad.data.some((v) => v !== 0)).to.equal(true);
  });

  it('throws naming the numbers when the channels do not split into the groups', () => {
    expect(() => new Conv2d(6, 4, 3, { groups: 4, name: 'c' })).to.throw(
      RangeError,
      /Conv2d\(c\): 6 input channels do not split into 4 equal groups/,
    );
    expect(() => new Conv2d(4, 6, 3, { groups: 4, name: 'c' })).to.throw(
      RangeError,
      /Conv2d\(c\): 6 output channels do not split into 4 equal groups/,
    );
    expect(() => new Conv2d(4, 4, 3, { groups: 0 })).to.throw(
      RangeError,
      /groups must be an integer ≥ 1, got 0/,
    );
  });

  it('throws naming both shapes when the input does not have the channels of the groups', () => {
    const conv = new Conv2d(4, 6, 3, { groups: 2, name: 'g2' });
    expect(() => conv.forward(zeros([1, 6, 5, 5]))).to.throw(
      ShapeError,
      /Conv2d\(g2\) input x \[N, C, H, W\]: got shape \[1, 6, 5, 5\], expected \[1, 4, 5, 5\].*2 groups expect 4 channels/,
    );
  });
});

describe('Conv2d adopting given weights', () => {
  for (const dtype of ['float32', 'float64'] as DType[]) {
    it(`takes the tensors as its parameters without copying or drawing (${dtype})`, () => {
      const data = dtype === 'float32' ? new Float32Array(6 * 2 * 9) : new Float64Array(6 * 2 * 9);
      const weight = tensor(data, [6, 2, 3, 3]);
      fill(weight, 0.5);
      const bias = zeros([6], dtype);
      const conv = new Conv2d(4, 6, 3, { groups: 2, weights: { weight, bias }, rng: new Rng(1) });
      expect(conv.weight.value).to.equal(weight);
      expect(conv.weight.value.data).to.equal(data);
      expect(conv.bias!.value).to.equal(bias);
      expect(conv.weight.grad.data).to.not.equal(data);
      expect(data.every((v) => v === 0.5)).to.equal(true); // the rng drew nothing into it
      expect(conv.forward(zeros([1, 4, 3, 3], dtype)).shape).to.deep.equal([1, 6, 1, 1]);
    });
  }

  it('throws naming the layer and both shapes when the weights do not fit', () => {
    const weight = zeros([6, 4, 3, 3], 'float32');
    expect(() => new Conv2d(4, 6, 3, { name: 'conv1', groups: 2, weights: { weight } })).to.throw(
      ShapeError,
      /Conv2d\(conv1\) weight to adopt: got shape \[6, 4, 3, 3\], expected \[6, 2, 3, 3\]/,
    );
    const ok = zeros([6, 2, 3, 3], 'float32');
    expect(
      () =>
        new Conv2d(4, 6, 3, {
          name: 'conv1',
          groups: 2,
          weights: { weight: ok, bias: zeros([4], 'float32') },
        }),
    ).to.throw(ShapeError, /Conv2d\(conv1\) bias to adopt: got shape \[4\], expected \[6\]/);
    expect(
      () =>
        new Conv2d(4, 6, 3, {
          name: 'conv1',
          groups: 2,
          dtype: 'float64',
          weights: { weight: ok },
        }),
    ).to.throw(/the weight to adopt is float32, not float64/);
  });
});
