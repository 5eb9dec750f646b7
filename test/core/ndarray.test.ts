import { expect } from 'chai';
import {
  ShapeError,
  assertShape,
  copy,
  fromArray,
  isContiguous,
  reshape,
  reuseTensor,
  toArray,
  zeros,
  dot,
  type Tensor,
} from '../../lib/core/index.js';

describe('ndarray helpers', () => {
  it('builds tensors from arrays in row-major order', () => {
    const t = fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(t.get(1, 0)).to.equal(4);
    expect(t.data).to.be.instanceOf(Float64Array);
    expect(fromArray([1, 2], [2], 'float32').data).to.be.instanceOf(Float32Array);
  });

  it('throws naming both shapes when a shape does not match', () => {
    const t = zeros([2, 3, 5, 4]);
    expect(() => assertShape(t, [2, 4, 5, 4], 'conv input')).to.throw(
      ShapeError,
      'conv input: got shape [2, 3, 5, 4], expected [2, 4, 5, 4]',
    );
    expect(() => fromArray([1, 2, 3], [2, 2])).to.throw(
      ShapeError,
      /3 values cannot fill shape \[2, 2\]/,
    );
  });

  it('copies a transposed view into a contiguous tensor', () => {
    const t = fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
    const tt = t.transpose(1, 0);
    expect(isContiguous(tt)).to.equal(false);
    const c = copy(tt);
    expect(isContiguous(c)).to.equal(true);
    expect(toArray(c)).to.deep.equal([1, 4, 2, 5, 3, 6]);
    expect(() => reshape(tt, [6])).to.throw(/contiguous/);
    expect(toArray(reshape(c, [6]))).to.deep.equal([1, 4, 2, 5, 3, 6]);
  });

  it('computes dot products over views', () => {
    const a = fromArray([1, 2, 3, 4], [2, 2]);
    expect(dot(a, a.transpose(1, 0))).to.equal(1 + 6 + 6 + 16);
  });
});

describe('reuseTensor', () => {
  it('returns the cached tensor while shape and dtype match, a new zeroed one otherwise', () => {
    const cache = new Map<string, Tensor>();
    const a = reuseTensor(cache, 'y', [2, 3], 'float32');
    a.data[0] = 7;
    expect(reuseTensor(cache, 'y', [2, 3], 'float32')).to.equal(a);
    const b = reuseTensor(cache, 'y', [3, 2], 'float32');
    expect(b).to.not.equal(a);
    expect(b.data[0]).to.equal(0);
    const c = reuseTensor(cache, 'y', [3, 2], 'float64');
    expect(c).to.not.equal(b);
    expect(c.data).to.be.instanceOf(Float64Array);
    expect(reuseTensor(cache, 'other', [3, 2], 'float64')).to.not.equal(c);
  });
});
