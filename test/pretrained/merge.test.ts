import { expect } from 'chai';
import { Rng, ShapeError, fromArray, toArray, zeros } from '../../lib/core/index.js';
import { Concat, EltwiseSum, checkMergeGradients } from '../../lib/pretrained/index.js';
import { randomTensor } from './helpers.js';

describe('Concat', () => {
  it('joins channels in input order (worked example)', () => {
    // a: 1 channel of 2×1, b: 2 channels of 2×1.
    const a = fromArray([1, 2], [1, 1, 2, 1]);
    const b = fromArray([3, 4, 5, 6], [1, 2, 2, 1]);
    const y = new Concat().forward([a, b]);
    expect(y.shape).to.deep.equal([1, 3, 2, 1]);
    expect(toArray(y)).to.deep.equal([1, 2, 3, 4, 5, 6]);
  });

  it('backward hands each input its slab of dy', () => {
    const concat = new Concat();
    concat.forward([zeros([1, 1, 2, 1]), zeros([1, 2, 2, 1])]);
    const [da, db] = concat.backward(fromArray([1, 2, 3, 4, 5, 6], [1, 3, 2, 1]));
    expect(toArray(da!)).to.deep.equal([1, 2]);
    expect(toArray(db!)).to.deep.equal([3, 4, 5, 6]);
  });

  it('backward matches numerical gradient (three inputs, strided views)', () => {
    const rng = new Rng(3);
    const xs = [2, 1, 3].map((C) => randomTensor(rng, [2, C, 3, 2], { strided: C === 1 }));
    const report = checkMergeGradients(new Concat(), xs);
    expect(report.maxError).to.be.below(1e-6, report.describe()); // typically 1e-9…1e-11; rounding near 0 reaches ~1e-7
  });

  it('backward matches numerical gradient along the height axis', () => {
    const rng = new Rng(4);
    const xs = [1, 2].map((H) => randomTensor(rng, [2, 3, H, 2]));
    const report = checkMergeGradients(new Concat({ axis: 2 }), xs);
    expect(report.maxError).to.be.below(1e-6, report.describe()); // typically 1e-9…1e-11; rounding near 0 reaches ~1e-7
  });

  it('throws a ShapeError naming the input whose other axes differ', () => {
    expect(() => new Concat().forward([zeros([1, 2, 3, 3]), zeros([1, 2, 3, 4])])).to.throw(
      ShapeError,
      /concat input 1 \(axis 1\): got shape \[1, 2, 3, 4\], expected \[1, \*, 3, 3\]/,
    );
  });
});

describe('EltwiseSum', () => {
  it('computes y = Σ c_i x_i (worked example with Caffe coefficients [1, −1])', () => {
    const a = fromArray([5, 7], [1, 2, 1, 1]);
    const b = fromArray([2, 10], [1, 2, 1, 1]);
    expect(toArray(new EltwiseSum().forward([a, b]))).to.deep.equal([7, 17]);
    expect(toArray(new EltwiseSum({ coefficients: [1, -1] }).forward([a, b]))).to.deep.equal([
      3, -3,
    ]);
  });

  it('backward gives each input c_i · dy', () => {
    const sum = new EltwiseSum({ coefficients: [2, -1] });
    sum.forward([zeros([1, 2]), zeros([1, 2])]);
    const [da, db] = sum.backward(fromArray([1, 3], [1, 2]));
    expect(toArray(da!)).to.deep.equal([2, 6]);
    expect(toArray(db!)).to.deep.equal([-1, -3]);
  });

  it('backward matches numerical gradient (three inputs, coefficients)', () => {
    const rng = new Rng(5);
    const xs = [0, 1, 2].map((i) => randomTensor(rng, [2, 3, 2, 3], { strided: i === 1 }));
    const report = checkMergeGradients(new EltwiseSum({ coefficients: [0.5, -2, 1] }), xs);
    expect(report.maxError).to.be.below(1e-6, report.describe()); // typically 1e-9…1e-11; rounding near 0 reaches ~1e-7
  });

  it('throws a ShapeError naming the input whose shape differs', () => {
    expect(() =>
      new EltwiseSum({ name: 'res2a' }).forward([zeros([1, 4]), zeros([1, 5])]),
    ).to.throw(ShapeError, /EltwiseSum\(res2a\) input 1: got shape \[1, 5\], expected \[1, 4\]/);
  });
});
