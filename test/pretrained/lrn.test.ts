import { expect } from 'chai';
import {
  Rng,
  ShapeError,
  checkLayerGradients,
  fromArray,
  toArray,
  zeros,
  type DType,
} from '../../lib/core/index.js';
import {
  LRN,
  lrnBackward,
  lrnForward,
  lrnNaiveBackward,
  lrnNaiveForward,
  lrnWindow,
  type LrnOptions,
} from '../../lib/pretrained/index.js';
import { randomTensor, relativeDifference } from './helpers.js';

describe('LRN', () => {
  it('forward matches the hand-computed 3-channel example (size 3, α/n = 1, β = 0.5)', () => {
    // One pixel, channels x = [1, 2, 2]: s = 1 + Σ_window x² = [1+1+4, 1+1+4+4, 1+4+4] = [6, 10, 9].
    const x = fromArray([1, 2, 2], [1, 3, 1, 1]);
    const y = new LRN(3, { alpha: 3, beta: 0.5, k: 1 }).forward(x);
    const expected = [1 / Math.sqrt(6), 2 / Math.sqrt(10), 2 / 3];
    toArray(y).forEach((v, i) => expect(v).to.be.closeTo(expected[i]!, 1e-15));
  });

  it('uses the ONNX window [c − ⌊(n−1)/2⌋, c + ⌈(n−1)/2⌉] for an even size', () => {
    expect(lrnWindow(2)).to.deep.equal({ before: 0, after: 1 });
    expect(lrnWindow(5)).to.deep.equal({ before: 2, after: 2 });
    // size 2, α/n = 1, β = 1: s = 1 + [1+4, 4+4, 4] = [6, 9, 5].
    const y = new LRN(2, { alpha: 2, beta: 1, k: 1 }).forward(fromArray([1, 2, 2], [1, 3, 1, 1]));
    const expected = [1 / 6, 2 / 9, 2 / 5];
    toArray(y).forEach((v, i) => expect(v).to.be.closeTo(expected[i]!, 1e-15));
  });

  for (const dtype of ['float64', 'float32'] as DType[]) {
    for (const size of [1, 2, 3, 5, 8]) {
      it(`fast kernels equal naive (${dtype}, size ${size}, strided views)`, () => {
        const rng = new Rng(10 + size);
        const p: LrnOptions = { size, alpha: 0.7, beta: 0.75, k: 1.5 };
        const shape = [2, 6, 3, 4];
        const x = randomTensor(rng, shape, { strided: true, dtype });
        const dy = randomTensor(rng, shape, { strided: true, dtype });
        const [y, s, y2, s2, dx, dx2] = [0, 1, 2, 3, 4, 5].map(() => zeros(shape, dtype));
        lrnForward(y!, s!, x, p);
        lrnNaiveForward(y2!, s2!, x, p);
        lrnBackward(dx!, dy, x, y!, s!, p);
        lrnNaiveBackward(dx2!, dy, x, y2!, s2!, p);
        const tol = dtype === 'float64' ? 1e-12 : 1e-5;
        expect(relativeDifference(y!, y2!)).to.be.below(tol);
        expect(relativeDifference(s!, s2!)).to.be.below(tol);
        expect(relativeDifference(dx!, dx2!)).to.be.below(tol);
      });
    }
  }

  for (const [size, C] of [
    [5, 7],
    [4, 6],
    [3, 2],
  ] as const) {
    it(`backward matches numerical gradient (size ${size}, ${C} channels, α = 0.5, β = 0.75)`, () => {
      const rng = new Rng(7);
      const x = randomTensor(rng, [2, C, 3, 2]);
      const report = checkLayerGradients(new LRN(size, { alpha: 0.5, beta: 0.75, k: 2 }), x);
      expect(report.maxError).to.be.below(1e-6, report.describe()); // typically 1e-9…1e-11; rounding near 0 reaches ~1e-7
    });
  }

  it('throws a ShapeError for an input that is not [N, C, H, W]', () => {
    expect(() => new LRN(3).forward(zeros([2, 3]))).to.throw(ShapeError, /\[2, 3\]/);
  });

  it('throws naming the layer when backward comes before forward', () => {
    expect(() => new LRN(3, { name: 'norm1' }).backward(zeros([1, 3, 1, 1]))).to.throw(
      /LRN\(norm1\)\.backward called before forward/,
    );
  });
});
