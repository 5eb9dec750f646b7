import { expect } from 'chai';
import { Rng, copy, zeros, type Tensor } from '../../lib/core/index.js';
import { matmul } from '../../lib/mlp/matmul.js';

// The obvious triple loop with .get: the reference the packed kernel must equal.
function naive(a: Tensor, b: Tensor): number[][] {
  const [M, K] = a.shape as [number, number];
  const N = b.shape[1]!;
  return Array.from({ length: M }, (_, i) =>
    Array.from({ length: N }, (_, j) => {
      let s = 0;
      for (let k = 0; k < K; k++) s += a.get(i, k) * b.get(k, j);
      return s;
    }),
  );
}

describe('matmul (the MLP chapter product helper)', () => {
  it('equals the naive product on transposed, strided and offset views', () => {
    const rng = new Rng(1);
    for (const [M, K, N] of [
      [1, 1, 1],
      [5, 7, 3],
      [8, 13, 9],
      [2, 4, 6],
    ] as const) {
      const a = rng.fillNormal(zeros([K, M])).transpose(1, 0);
      const big = rng.fillNormal(zeros([K + 1, 2 * N]));
      const b = big.lo(1, 0).step(1, 2);
      const c = zeros([M, N]);
      matmul(c, a, b);
      const expected = naive(a, b);
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) expect(c.get(i, j)).to.be.closeTo(expected[i]![j]!, 1e-12);
    }
  });

  it('accumulates with beta = 1 and scales with alpha', () => {
    const rng = new Rng(2);
    const a = rng.fillNormal(zeros([3, 4]));
    const b = rng.fillNormal(zeros([4, 5]));
    const c = rng.fillNormal(zeros([3, 5]));
    const c0 = copy(c);
    matmul(c, a, b, 2, 1);
    const ab = naive(a, b);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 5; j++)
        expect(c.get(i, j)).to.be.closeTo(c0.get(i, j) + 2 * ab[i]![j]!, 1e-12);
  });

  it('throws naming the shapes when the inner sizes differ', () => {
    expect(() => matmul(zeros([2, 2]), zeros([2, 3]), zeros([4, 2]))).to.throw(/\[4, 2\]/);
  });
});
