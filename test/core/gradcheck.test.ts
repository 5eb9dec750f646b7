import { expect } from 'chai';
import {
  Rng,
  checkGradients,
  checkLayerGradients,
  compareGradient,
  makeParam,
  requireCache,
  zeros,
  type Layer,
  type Param,
  type Tensor,
} from '../../lib/core/index.js';

// A tiny affine layer y = x W + b written with .get/.set, used to test the checker itself.
// `bug` injects the mistakes the checker must catch.
class TestAffine implements Layer {
  readonly weight: Param;
  readonly bias: Param;
  #x: Tensor | undefined;
  constructor(
    rng: Rng,
    readonly nIn: number,
    readonly nOut: number,
    readonly bug: 'none' | 'scale' | 'transpose' = 'none',
  ) {
    this.weight = makeParam('test.weight', [nIn, nOut]);
    this.bias = makeParam('test.bias', [nOut]);
    rng.fillNormal(this.weight.value);
    rng.fillNormal(this.bias.value);
  }
  forward(x: Tensor): Tensor {
    this.#x = x;
    const [N] = x.shape as [number];
    const y = zeros([N, this.nOut]);
    for (let n = 0; n < N; n++)
      for (let j = 0; j < this.nOut; j++) {
        let s = this.bias.value.get(j);
        for (let i = 0; i < this.nIn; i++) s += x.get(n, i) * this.weight.value.get(i, j);
        y.set(n, j, s);
      }
    return y;
  }
  backward(dy: Tensor): Tensor {
    const x = requireCache(this.#x, 'TestAffine');
    const [N] = x.shape as [number];
    const dx = zeros(x.shape);
    for (let n = 0; n < N; n++)
      for (let i = 0; i < this.nIn; i++) {
        let s = 0;
        for (let j = 0; j < this.nOut; j++) {
          // The transpose bug reads W[j][i] instead of W[i][j] (only possible when square).
          const w =
            this.bug === 'transpose' ? this.weight.value.get(j, i) : this.weight.value.get(i, j);
          s += dy.get(n, j) * w;
        }
        dx.set(n, i, this.bug === 'scale' ? 1.01 * s : s);
      }
    for (let n = 0; n < N; n++)
      for (let j = 0; j < this.nOut; j++) {
        this.bias.grad.set(j, this.bias.grad.get(j) + dy.get(n, j));
        for (let i = 0; i < this.nIn; i++)
          this.weight.grad.set(i, j, this.weight.grad.get(i, j) + x.get(n, i) * dy.get(n, j));
      }
    return dx;
  }
  params(): Param[] {
    return [this.weight, this.bias];
  }
}

describe('gradient check', () => {
  it('passes a correct backward on the input and every named parameter', () => {
    const rng = new Rng(1);
    const result = checkLayerGradients(new TestAffine(rng, 4, 3), rng.fillNormal(zeros([2, 4])));
    expect(result.reports.map((r) => r.name)).to.deep.equal(['input', 'test.weight', 'test.bias']);
    // Smooth layer in float64 with h = 1e-5: typically around 1e-10.
    expect(result.maxError).to.be.below(1e-6, result.describe());
  });

  it('fails a backward whose dx is scaled by 1.01 (negative control)', () => {
    const rng = new Rng(2);
    const result = checkLayerGradients(
      new TestAffine(rng, 4, 3, 'scale'),
      rng.fillNormal(zeros([2, 4])),
    );
    expect(result.maxError).to.be.above(1e-3);
    expect(result.describe()).to.match(/input \[2, 4\]: max relative error/);
  });

  it('fails a transposition bug that an all-ones upstream gradient would hide', () => {
    const rng = new Rng(3);
    const result = checkLayerGradients(
      new TestAffine(rng, 3, 3, 'transpose'),
      rng.fillNormal(zeros([2, 3])),
    );
    expect(result.maxError).to.be.above(1e-2, result.describe());
  });

  it('reports the worst entries with their indices', () => {
    const x = new Rng(4).fillNormal(zeros([3, 2]));
    const wrong = zeros([3, 2]);
    // f(x) = Σ x², whose gradient is 2x; leave entry [2, 1] wrong on purpose.
    for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) wrong.set(i, j, 2 * x.get(i, j));
    wrong.set(2, 1, 0.5);
    const f = (): number => {
      let s = 0;
      for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) s += x.get(i, j) ** 2;
      return s;
    };
    const report = compareGradient('x', f, x, wrong);
    expect(report.worst[0]!.index).to.deep.equal([2, 1]);
    expect(report.worst[0]!.analytic).to.equal(0.5);
    expect(report.worst[0]!.numeric).to.be.closeTo(2 * x.get(2, 1), 1e-8);
  });

  it('restores every perturbed value exactly', () => {
    const x = new Rng(5).fillNormal(zeros([4, 5]));
    const before = Array.from(x.data);
    const grad = zeros([4, 5]);
    checkGradients(() => x.get(0, 0) * 3, [{ name: 'x', value: x, grad }]);
    expect(Array.from(x.data)).to.deep.equal(before);
  });

  it('checks a seeded random sample of a large tensor and says so', () => {
    const x = new Rng(6).fillNormal(zeros([50, 40]));
    const grad = zeros([50, 40]);
    for (let k = 0; k < 2000; k++) grad.data[k] = 2 * x.data[k]!;
    const f = (): number => x.data.reduce((s, v) => s + v * v, 0);
    const result = checkGradients(f, [{ name: 'x', value: x, grad }], { sample: 30 });
    expect(result.reports[0]!.checked).to.equal(30);
    expect(result.describe()).to.contain('30 of 2000 entries checked');
    expect(result.maxError).to.be.below(1e-6, result.describe());
  });

  it('refuses float32 tensors with a clear message', () => {
    const x = zeros([2], 'float32');
    expect(() => compareGradient('x', () => 0, x, x)).to.throw(
      /needs float64 tensors, but x is float32/,
    );
  });

  it('treats a NaN gradient as a failure', () => {
    const x = new Rng(7).fillNormal(zeros([3]));
    const grad = zeros([3]);
    grad.set(1, NaN);
    const report = compareGradient('x', () => x.get(1), x, grad);
    expect(report.maxError).to.equal(Infinity);
  });
});
