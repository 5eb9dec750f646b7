import { expect } from 'chai';
import { Rng, zeros, type Tensor } from '../../lib/core/index.js';
import {
  conv2dNaiveBackwardInput,
  conv2dNaiveForward,
  convGeometry,
  type ConvGeometry,
  type Padding,
} from '../../lib/cnn/index.js';
import {
  AT,
  BT,
  G,
  conv2dWinogradBackwardInput,
  conv2dWinogradForward,
  winogradEligible,
} from '../../lib/cnn/winograd.js';
import { randomTensor, relativeDifference, type Layout } from './helpers.js';

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

  it('float32 reference stays within float32 rounding of naive', () => {
    const c = cases[9]!;
    const { x, w, b, geom } = problem(c, 7, 'float32', 'contiguous');
    const outShape = [c.N, c.F, geom.outH, geom.outW];
    const out = conv2dWinogradForward(zeros(outShape, 'float32'), x, w, b, geom);
    const expected = conv2dNaiveForward(zeros(outShape, 'float32'), x, w, b, geom);
    expect(relativeDifference(out, expected)).to.be.below(1e-5);
  });
});
