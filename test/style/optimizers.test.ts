import { expect } from 'chai';
import { DivergenceError } from '../../lib/core/index.js';
import { Rng } from '../../lib/core/index.js';
import { Adam, LBFGS, type Objective } from '../../lib/style/index.js';
import { twoLoopRecursion, twoLoopRecursionReference } from '../../lib/style/lbfgs.js';

// Rosenbrock in n dimensions: Σ 100 (x[i+1] − x[i]²)² + (1 − x[i])², minimum 0 at all ones.
const rosenbrock: Objective = (x, g) => {
  g.fill(0);
  let f = 0;
  for (let i = 0; i + 1 < x.length; i++) {
    const a = x[i + 1]! - x[i]! * x[i]!;
    const b = 1 - x[i]!;
    f += 100 * a * a + b * b;
    g[i] += -400 * a * x[i]! - 2 * b;
    g[i + 1] += 200 * a;
  }
  return f;
};

// A convex quadratic ½ xᵀ D x − bᵀx with diagonal D spread over 1..100 (condition number 100).
function quadratic(n: number): { f: Objective; solution: Float64Array } {
  const D = Float64Array.from({ length: n }, (_, i) => 1 + (99 * i) / (n - 1));
  const b = Float64Array.from({ length: n }, (_, i) => Math.sin(i + 1));
  const solution = Float64Array.from(b, (bi, i) => bi / D[i]!);
  const f: Objective = (x, g) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      g[i] = D[i]! * x[i]! - b[i]!;
      s += 0.5 * D[i]! * x[i]! * x[i]! - b[i]! * x[i]!;
    }
    return s;
  };
  return { f, solution };
}

function maxDiff(a: Float64Array, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('LBFGS', () => {
  it('minimizes the 2-D Rosenbrock function from (−1.2, 1) to 1e-6 in under 60 iterations', () => {
    const r = new LBFGS({
      maxIterations: 200,
      gradientTolerance: 1e-10,
      changeTolerance: 1e-15,
    }).minimize(rosenbrock, Float64Array.from([-1.2, 1]));
    expect(maxDiff(r.x, [1, 1])).to.be.below(1e-6);
    expect(r.iterations).to.be.below(60);
  });

  it('minimizes a 10-D Rosenbrock function with the backtracking line search too', () => {
    const x0 = new Float64Array(10).fill(-1);
    const r = new LBFGS({
      maxIterations: 500,
      lineSearch: 'backtracking',
      gradientTolerance: 1e-10,
    }).minimize(rosenbrock, x0);
    expect(maxDiff(r.x, new Float64Array(10).fill(1))).to.be.below(1e-5);
  });

  it('solves a 100-D convex quadratic (condition 100) to 1e-6 at conjugate gradient’s pace', () => {
    const { f, solution } = quadratic(100);
    const r = new LBFGS({
      maxIterations: 200,
      gradientTolerance: 1e-7,
      changeTolerance: 1e-15,
    }).minimize(f, new Float64Array(100));
    // ‖x − x*‖∞ ≤ ‖g‖∞ / min D = 1e-7 when it stops on the gradient tolerance.
    expect(r.reason).to.equal('gradient');
    expect(maxDiff(r.x, solution)).to.be.below(1e-6);
    // CG needs ≈ ln(1e7) / ln(11/9) ≈ 80 iterations for this condition number and tolerance.
    expect(r.iterations).to.be.below(90);
  });

  it('recycles its vectors once the history is full, and still converges as fast', () => {
    // ~80 iterations with a history of 3: the buffers the objective is handed come
    // from a small fixed set (trial gradients and evicted curvature pairs are reused), and the
    // reuse must not corrupt the curvature pairs (the solution is as exact as with fresh arrays).
    const { f, solution } = quadratic(60);
    const seen = new Set<Float64Array>();
    const counted: Objective = (x, g) => {
      seen.add(g);
      return f(x, g);
    };
    const opt = new LBFGS({ maxIterations: 200, historySize: 3, changeTolerance: 0 });
    const r = opt.minimize(counted, new Float64Array(60));
    expect(r.reason).to.equal('gradient');
    expect(r.evaluations).to.be.greaterThan(40);
    expect(seen.size).to.be.at.most(12);
    expect(maxDiff(r.x, solution)).to.be.below(1e-6);
  });

  it('keeps every evaluated point inside the bounds and ends on the boundary minimum', () => {
    // Unconstrained minimum at b/D has entries up to ≈0.99; with upper = 0.2 many are pinned.
    const { f, solution } = quadratic(50);
    let outside = 0;
    const watched: Objective = (x, g) => {
      for (const v of x) if (v < -0.2 || v > 0.2) outside++;
      return f(x, g);
    };
    const r = new LBFGS({
      maxIterations: 200,
      lower: -0.2,
      upper: 0.2,
      changeTolerance: 1e-15,
    }).minimize(watched, new Float64Array(50).fill(0.1));
    expect(outside).to.equal(0);
    const expected = Array.from(solution, (s) => Math.min(0.2, Math.max(-0.2, s)));
    expect(maxDiff(r.x, expected)).to.be.below(1e-6);
  });

  it('reaches a lower loss than plain gradient descent for the same number of evaluations', () => {
    const x0 = Float64Array.from([-1.2, 1]);
    const budget = 100;
    const r = new LBFGS({ maxIterations: budget, maxEvaluations: budget }).minimize(rosenbrock, x0);
    // Gradient descent with the best fixed step for this start (larger steps diverge).
    const x = Float64Array.from(x0);
    const g = new Float64Array(2);
    let loss = Infinity;
    for (let k = 0; k < budget; k++) {
      loss = rosenbrock(x, g);
      for (let i = 0; i < 2; i++) x[i] -= 1e-3 * g[i]!;
    }
    expect(r.evaluations).to.be.at.most(budget);
    expect(r.loss).to.be.below(loss / 1000);
  });

  it('reports the iteration count, evaluations and losses through the callback', () => {
    const seen: number[] = [];
    const r = new LBFGS({
      maxIterations: 5,
      onIteration: ({ iteration }) => {
        seen.push(iteration);
      },
    }).minimize(rosenbrock, Float64Array.from([-1.2, 1]));
    expect(seen).to.deep.equal([1, 2, 3, 4, 5]);
    expect(r.losses).to.have.length(6);
    expect(r.losses[5]).to.equal(r.loss);
  });

  it('stops when the callback says stop', () => {
    const r = new LBFGS({ maxIterations: 50, onIteration: () => 'stop' }).minimize(
      rosenbrock,
      Float64Array.from([-1.2, 1]),
    );
    expect(r.iterations).to.equal(1);
    expect(r.reason).to.equal('callback');
  });

  it('is deterministic: the same start gives bit-identical results', () => {
    const start = Float64Array.from({ length: 8 }, (_, i) => Math.cos(i));
    const a = new LBFGS({ maxIterations: 30 }).minimize(rosenbrock, start);
    const b = new LBFGS({ maxIterations: 30 }).minimize(rosenbrock, start);
    expect(Array.from(a.x)).to.deep.equal(Array.from(b.x));
  });

  it('throws a DivergenceError when the loss is not finite', () => {
    const bad: Objective = () => NaN;
    expect(() => new LBFGS().minimize(bad, new Float64Array(2))).to.throw(DivergenceError);
  });
});

describe('Adam', () => {
  it('decreases a convex quadratic and respects the bounds', () => {
    const { f } = quadratic(20);
    let outside = 0;
    const watched: Objective = (x, g) => {
      for (const v of x) if (v < 0 || v > 0.3) outside++;
      return f(x, g);
    };
    const r = new Adam({ learningRate: 0.05, maxIterations: 200, lower: 0, upper: 0.3 }).minimize(
      watched,
      new Float64Array(20).fill(0.15),
    );
    expect(outside).to.equal(0);
    expect(r.loss).to.be.below(r.initialLoss);
    expect(r.evaluations).to.equal(201);
  });

  it('loses to L-BFGS on Rosenbrock for the same number of evaluations', () => {
    const x0 = Float64Array.from([-1.2, 1]);
    const a = new Adam({ learningRate: 0.05, maxIterations: 99 }).minimize(rosenbrock, x0);
    const l = new LBFGS({ maxIterations: 100, maxEvaluations: 100 }).minimize(rosenbrock, x0);
    expect(l.evaluations).to.be.at.most(a.evaluations);
    expect(l.loss).to.be.below(a.loss);
  });
});

describe('the two-loop recursion', () => {
  // The fused passes compute the same sums in the same order as the step-by-step algorithm, so
  // q and α come out with the same bits, for no pairs, one pair and several.
  it('fused gives the bits of the step-by-step reference', () => {
    const rng = new Rng(12);
    const n = 1003;
    const vec = (): Float64Array => Float64Array.from({ length: n }, () => rng.normal());
    for (const m of [0, 1, 2, 7]) {
      const S = Array.from({ length: m }, vec);
      const Y = Array.from({ length: m }, vec);
      const rho = Array.from({ length: m }, () => 1 / (1 + rng.uniform()));
      const q0 = vec();
      const [q1, q2] = [Float64Array.from(q0), Float64Array.from(q0)];
      const [a1, a2] = [new Float64Array(m), new Float64Array(m)];
      twoLoopRecursion(q1, S, Y, rho, 0.7, a1);
      twoLoopRecursionReference(q2, S, Y, rho, 0.7, a2);
      expect(
        q1.findIndex((v, i) => !Object.is(v, q2[i])),
        `q, ${m} pairs`,
      ).to.equal(-1);
      expect(Array.from(a1)).to.deep.equal(Array.from(a2), `α, ${m} pairs`);
      if (m > 0) expect(q1.some((v, i) => v !== q0[i])).to.equal(true, 'q changed');
    }
  });
});
