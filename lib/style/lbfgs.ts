// L-BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed., alg. 7.4 and 7.5) over a flat
// vector, with a strong-Wolfe line search (alg. 3.5/3.6, cubic interpolation) or backtracking, and
// box bounds handled by projection so every image the optimizer looks at has valid pixels.
import { DivergenceError } from '../core/index.js';
import { axpy, axpyDot, axpyScaleDot, dotProduct, vectorZeros } from './lbfgs-vectors.js';

/** The function to minimize: writes ∂f/∂x into `grad` and returns f(x). */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

/** What an optimizer reports after each iteration (return 'stop' from the callback to end early). */
export interface IterationInfo {
  /** Iterations done so far (1 after the first). */
  readonly iteration: number;
  /** Loss-and-gradient evaluations so far, including the one at the start. */
  readonly evaluations: number;
  readonly loss: number;
  /** The current point (do not modify). */
  readonly x: Float64Array;
}

/** Called after each iteration; return 'stop' to end the run. */
export type IterationCallback = (info: IterationInfo) => 'stop' | void;

/** The end point of a run and how it got there. */
export interface OptimizeResult {
  readonly x: Float64Array;
  readonly loss: number;
  readonly initialLoss: number;
  readonly iterations: number;
  readonly evaluations: number;
  /** The loss after each iteration (index 0 is the start). */
  readonly losses: number[];
  /** Why it stopped. */
  readonly reason: 'iterations' | 'evaluations' | 'gradient' | 'no progress' | 'callback';
}

/** An optimizer of a flat vector (L-BFGS or Adam), interchangeable in the style-transfer loop. */
export interface Minimizer {
  minimize(f: Objective, x0: Float64Array): OptimizeResult;
}

/** Options of L-BFGS. */
export interface LBFGSOptions {
  /** Curvature pairs (s, y) kept (default 10; the original style-transfer tool used 8). */
  historySize?: number;
  /** Iterations (default 100). */
  maxIterations?: number;
  /** Loss-and-gradient evaluations, counting the line searches' (default 1.25 × iterations). */
  maxEvaluations?: number;
  /** Stop when the largest free gradient entry is below this (default 1e-7). */
  gradientTolerance?: number;
  /** Stop when the loss or the step changes less than this (default 1e-9). */
  changeTolerance?: number;
  /** 'strong-wolfe' (default) or 'backtracking' (Armijo only). */
  lineSearch?: 'strong-wolfe' | 'backtracking';
  /** Lower bound of every entry (default -Infinity). */
  lower?: number;
  /** Upper bound of every entry (default +Infinity). */
  upper?: number;
  /** Called after each iteration. */
  onIteration?: IterationCallback;
}

/**
 * The two-loop recursion (Nocedal & Wright alg. 7.4): q ← H q, where H is the L-BFGS inverse
 * Hessian built from the pairs (s, y), oldest first, with H₀ = γI. `alpha` is scratch.
 * Written step by step (twoLoopRecursionReference) it is, for k newest to oldest, αₖ = ρₖ sₖᵀq, q ← q − αₖ yₖ; then q ← γq;
 * then for k oldest to newest, β = ρₖ yₖᵀq, q ← q + (αₖ − β) sₖ. Here each update of q also
 * computes the dot product the next step needs, in the same pass (the same sums in the same
 * order, so the same bits): with 50 pairs of 196k floats the recursion moved about 790 MB per
 * iteration, near one core's bandwidth, and the fused passes move a fifth less. The vector
 * operations (lbfgs-vectors.ts) run in the WebAssembly kernel, split over the thread pool, when
 * the vectors are in kernel memory (vectorZeros, as LBFGS allocates them), with the bits of
 * their TypeScript loops.
 */
export function twoLoopRecursion(
  q: Float64Array,
  S: readonly Float64Array[],
  Y: readonly Float64Array[],
  rho: readonly number[],
  gamma: number,
  alpha: Float64Array,
): void {
  const m = S.length;
  if (m === 0) {
    for (let i = 0; i < q.length; i++) q[i] *= gamma;
    return;
  }
  let d = dotProduct(S[m - 1]!, q); // sₖᵀq for the newest k
  for (let k = m - 1; k > 0; k--) {
    alpha[k] = rho[k]! * d;
    d = axpyDot(q, -alpha[k]!, Y[k]!, S[k - 1]!);
  }
  alpha[0] = rho[0]! * d;
  d = axpyScaleDot(q, -alpha[0]!, Y[0]!, gamma, Y[0]!); // y₀ᵀq after q ← γ(q − α₀y₀)
  for (let k = 0; k < m - 1; k++) {
    const beta = rho[k]! * d;
    d = axpyDot(q, alpha[k]! - beta, S[k]!, Y[k + 1]!);
  }
  axpy(q, alpha[m - 1]! - rho[m - 1]! * d, S[m - 1]!);
}

/** twoLoopRecursion written step by step, as the algorithm reads: the reference the tests hold it to. */
export function twoLoopRecursionReference(
  q: Float64Array,
  S: readonly Float64Array[],
  Y: readonly Float64Array[],
  rho: readonly number[],
  gamma: number,
  alpha: Float64Array,
): void {
  for (let k = S.length - 1; k >= 0; k--) {
    alpha[k] = rho[k]! * dotProduct(S[k]!, q);
    axpy(q, -alpha[k]!, Y[k]!);
  }
  for (let i = 0; i < q.length; i++) q[i] *= gamma;
  for (let k = 0; k < S.length; k++) {
    const beta = rho[k]! * dotProduct(Y[k]!, q);
    axpy(q, alpha[k]! - beta, S[k]!);
  }
}

/** One trial point of a line search: step t, loss, gradient and the slope along the path. */
interface Trial {
  t: number;
  f: number;
  g: Float64Array;
  gtd: number;
}

/**
 * Limited-memory BFGS on a box. Why projection rather than L-BFGS-B: L-BFGS-B (the original
 * tool's optimizer) finds a generalized Cauchy point and minimizes over a subspace, about a
 * thousand lines of Fortran. Here each trial point of the line search is projected onto the box,
 * x(t) = P(x + t·d), so every evaluated image is valid just the same; entries pinned at a bound
 * by their gradient are held fixed for the iteration, and the slope used by the Wolfe conditions
 * is the exact one-sided derivative of the projected path (clipped entries contribute nothing).
 * Curvature pairs come from the points actually visited and are skipped when sᵀy ≤ 0.
 */
export class LBFGS implements Minimizer {
  readonly historySize: number;
  readonly maxIterations: number;
  readonly maxEvaluations: number;
  readonly gradientTolerance: number;
  readonly changeTolerance: number;
  readonly lineSearch: 'strong-wolfe' | 'backtracking';
  readonly lower: number;
  readonly upper: number;
  readonly #onIteration: IterationCallback | undefined;

  /** @param options history size, iteration budget, line search, bounds, callback */
  constructor(options: LBFGSOptions = {}) {
    const {
      historySize = 10,
      maxIterations = 100,
      maxEvaluations = Math.ceil(1.25 * maxIterations),
      gradientTolerance = 1e-7,
      changeTolerance = 1e-9,
      lineSearch = 'strong-wolfe',
      lower = -Infinity,
      upper = Infinity,
      onIteration,
    } = options;
    if (!(historySize >= 1)) throw new Error(`LBFGS: historySize must be ≥ 1, got ${historySize}`);
    if (!(lower < upper))
      throw new Error(`LBFGS: lower bound ${lower} is not below upper ${upper}`);
    this.historySize = historySize;
    this.maxIterations = maxIterations;
    this.maxEvaluations = maxEvaluations;
    this.gradientTolerance = gradientTolerance;
    this.changeTolerance = changeTolerance;
    this.lineSearch = lineSearch;
    this.lower = lower;
    this.upper = upper;
    this.#onIteration = onIteration;
  }

  /** Minimize f from x0 (not modified); returns the best point found and the run's record. */
  minimize(f: Objective, x0: Float64Array): OptimizeResult {
    const n = x0.length;
    const { lower, upper } = this;
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.min(upper, Math.max(lower, x0[i]!));
    let g: Float64Array = new Float64Array(n);
    let evaluations = 0;
    const evaluate = (point: Float64Array, grad: Float64Array): number => {
      evaluations++;
      const value = f(point, grad);
      if (!Number.isFinite(value)) {
        throw new DivergenceError(`LBFGS: loss is ${value} at evaluation ${evaluations}`);
      }
      return value;
    };
    let loss = evaluate(x, g);
    const initialLoss = loss;
    const losses = [loss];

    // History of curvature pairs, oldest first: s = x₊ − x, y = g₊ − g, ρ = 1 / sᵀy.
    const S: Float64Array[] = [];
    const Y: Float64Array[] = [];
    const rho: number[] = [];
    let gamma = 1; // H₀ = γI with γ = sᵀy / yᵀy of the newest pair (eq. 7.20)
    // q (here d) and the curvature pairs live in kernel memory where they can (vectorZeros), so
    // the recursion's passes run in the kernel, on every thread of the pool.
    const d = vectorZeros(n);
    const alpha = new Float64Array(this.historySize);
    const xt = new Float64Array(n);
    // Vectors of length n (trial gradients, curvature pairs) are recycled once nothing refers to
    // them, so after the history fills up an iteration allocates nothing: the heap stays flat.
    const spare: Float64Array[] = [];
    const take = (): Float64Array => spare.pop() ?? vectorZeros(n);
    const trials: Float64Array[] = [];
    const forget = (): void => {
      spare.push(...S, ...Y);
      S.length = Y.length = rho.length = 0;
      gamma = 1;
    };

    let iteration = 0;
    let reason: OptimizeResult['reason'] = 'iterations';
    while (iteration < this.maxIterations) {
      // Entries held at a bound by their gradient are fixed: q is the gradient of the free ones.
      // (The loops over n read each entry once into a local: this one took 1.1 ms for 196,608
      // entries against 1.6 ms re-reading x[i], g[i] and q[i], alone in a loop of 50 runs.)
      const q = d;
      let qMax = 0;
      let qSum = 0;
      for (let i = 0; i < n; i++) {
        const xi = x[i]!;
        const gi = g[i]!;
        const qi = (xi <= lower && gi > 0) || (xi >= upper && gi < 0) ? 0 : gi;
        q[i] = qi;
        qMax = Math.max(qMax, Math.abs(qi));
        qSum += Math.abs(qi);
      }
      if (qMax <= this.gradientTolerance) {
        reason = 'gradient';
        break;
      }
      twoLoopRecursion(q, S, Y, rho, gamma, alpha);
      // d = −q, with fixed entries and entries pointing out of the box at a bound set to zero.
      let gtd = 0;
      for (let i = 0; i < n; i++) {
        const xi = x[i]!;
        const gi = g[i]!;
        let di = -q[i]!;
        const fixed = (xi <= lower && gi > 0) || (xi >= upper && gi < 0);
        if (fixed || (xi <= lower && di < 0) || (xi >= upper && di > 0)) di = 0;
        d[i] = di;
        gtd += gi * di;
      }
      if (!(gtd < 0)) {
        // Not a descent direction (curvature information gone stale): forget it, go downhill.
        forget();
        gtd = 0;
        for (let i = 0; i < n; i++) {
          const fixed = (x[i]! <= lower && g[i]! > 0) || (x[i]! >= upper && g[i]! < 0);
          d[i] = fixed ? 0 : -g[i]!;
          gtd += g[i]! * d[i]!;
        }
      }
      // The first step has no curvature to scale it: take a step of length 1 in the 1-norm.
      const t0 = S.length === 0 ? Math.min(1, 1 / qSum) : 1;

      const trial = (t: number): Trial => {
        for (let i = 0; i < n; i++) xt[i] = Math.min(upper, Math.max(lower, x[i]! + t * d[i]!));
        const gt = take().fill(0); // zeroed: an objective may add into grad rather than set it
        trials.push(gt);
        const ft = evaluate(xt, gt);
        // One-sided slope of the projected path: clipped entries do not move.
        let slope = 0;
        for (let i = 0; i < n; i++) {
          const di = d[i]!;
          const v = x[i]! + t * di;
          if (v > lower && v < upper) slope += gt[i]! * di;
        }
        return { t, f: ft, g: gt, gtd: slope };
      };
      const budget = this.maxEvaluations - evaluations;
      const found =
        this.lineSearch === 'strong-wolfe'
          ? strongWolfe(trial, loss, g, gtd, t0, maxAbs(d), this.changeTolerance, budget)
          : backtracking(trial, loss, g, gtd, t0, budget);
      iteration++;
      const progress = found.t !== 0 && found.f < loss;
      // Every trial's gradient but the one we move to (if we move) is done with.
      for (const gt of trials) if (gt !== g && !(progress && gt === found.g)) spare.push(gt);
      trials.length = 0;

      if (!progress) {
        // The line search found no lower point. With curvature pairs, retry from steepest descent.
        if (S.length > 0) {
          forget();
          losses.push(loss);
          if (evaluations >= this.maxEvaluations) {
            reason = 'evaluations';
            break;
          }
          continue;
        }
        reason = 'no progress';
        losses.push(loss);
        break;
      }
      // Move to the accepted point and record the curvature pair of the step actually taken.
      const s = take();
      const y = take();
      let stepMax = 0;
      const gFound = found.g;
      for (let i = 0; i < n; i++) {
        const xOld = x[i]!;
        const xi = Math.min(upper, Math.max(lower, xOld + found.t * d[i]!));
        const si = xi - xOld;
        s[i] = si;
        y[i] = gFound[i]! - g[i]!;
        stepMax = Math.max(stepMax, Math.abs(si));
        x[i] = xi;
      }
      const sy = dotProduct(s, y);
      const yy = dotProduct(y, y);
      if (sy > 1e-10 * yy && sy > 0) {
        if (S.length === this.historySize) {
          spare.push(S.shift()!, Y.shift()!);
          rho.shift();
        }
        S.push(s);
        Y.push(y);
        rho.push(1 / sy);
        gamma = sy / yy;
      } else {
        spare.push(s, y);
      }
      const change = Math.abs(found.f - loss);
      loss = found.f;
      spare.push(g);
      g = found.g;
      losses.push(loss);
      if (this.#onIteration?.({ iteration, evaluations, loss, x }) === 'stop') {
        reason = 'callback';
        break;
      }
      if (change < this.changeTolerance || stepMax < this.changeTolerance) {
        reason = 'no progress';
        break;
      }
      if (evaluations >= this.maxEvaluations) {
        reason = 'evaluations';
        break;
      }
    }
    return { x, loss, initialLoss, iterations: iteration, evaluations, losses, reason };
  }
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/**
 * Minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clamped to [lo, hi]
 * (Nocedal & Wright eq. 3.59); the bracket's midpoint when the cubic has no minimum.
 */
function cubicMinimum(
  x1: number,
  f1: number,
  g1: number,
  x2: number,
  f2: number,
  g2: number,
  lo = Math.min(x1, x2),
  hi = Math.max(x1, x2),
): number {
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2sq = d1 * d1 - g1 * g2;
  if (d2sq >= 0) {
    const d2 = Math.sqrt(d2sq);
    const m =
      x1 <= x2
        ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    if (Number.isFinite(m)) return Math.min(Math.max(m, lo), hi);
  }
  return (lo + hi) / 2;
}

/**
 * Line search for a step satisfying the strong Wolfe conditions (alg. 3.5 bracketing, alg. 3.6
 * zoom): sufficient decrease φ(t) ≤ φ(0) + c1·t·φ'(0) and flatness |φ'(t)| ≤ c2·|φ'(0)|, with
 * c1 = 1e-4, c2 = 0.9. The curvature condition is what keeps sᵀy > 0, so L-BFGS stays positive
 * definite; in practice the first step t = 1 is accepted most of the time (≈1.1 evaluations per
 * iteration), which is why it beats a plain backtracking search per evaluation.
 */
function strongWolfe(
  trial: (t: number) => Trial,
  f0: number,
  g0: Float64Array,
  gtd0: number,
  t: number,
  dMax: number,
  tolerance: number,
  budget: number,
): Trial {
  const c1 = 1e-4;
  const c2 = 0.9;
  const maxTrials = Math.max(1, Math.min(25, budget));
  let trials = 0;
  let prev: Trial = { t: 0, f: f0, g: g0, gtd: gtd0 };
  let cur = trial(t);
  trials++;
  let bracket: [Trial, Trial] | undefined;
  while (trials < maxTrials) {
    if (cur.f > f0 + c1 * cur.t * gtd0 || (trials > 1 && cur.f >= prev.f)) {
      bracket = [prev, cur];
      break;
    }
    if (Math.abs(cur.gtd) <= -c2 * gtd0) return cur;
    if (cur.gtd >= 0) {
      bracket = [prev, cur];
      break;
    }
    // Still descending: extrapolate, between a little beyond t and ten times t.
    const next = cubicMinimum(
      prev.t,
      prev.f,
      prev.gtd,
      cur.t,
      cur.f,
      cur.gtd,
      cur.t + 0.01 * (cur.t - prev.t),
      cur.t * 10,
    );
    prev = cur;
    cur = trial(next);
    trials++;
  }
  if (bracket === undefined) {
    // Out of trials while still descending: accept the last point if it decreased enough.
    return cur.f <= f0 + c1 * cur.t * gtd0 ? cur : { t: 0, f: f0, g: g0, gtd: gtd0 };
  }
  // Zoom: shrink [lo, hi] (lo has the lower loss) until a point satisfies both conditions.
  let [lo, hi] = bracket[0].f <= bracket[1].f ? bracket : [bracket[1], bracket[0]];
  let insufficientProgress = false;
  while (trials < maxTrials) {
    if (Math.abs(hi.t - lo.t) * dMax < tolerance) break;
    const a = Math.min(lo.t, hi.t);
    const b = Math.max(lo.t, hi.t);
    let tNew = cubicMinimum(lo.t, lo.f, lo.gtd, hi.t, hi.f, hi.gtd);
    // Keep the new point away from the ends, or the bracket may shrink by almost nothing.
    const eps = 0.1 * (b - a);
    if (Math.min(b - tNew, tNew - a) < eps) {
      if (insufficientProgress || tNew >= b || tNew <= a) {
        tNew = Math.abs(tNew - b) < Math.abs(tNew - a) ? b - eps : a + eps;
        insufficientProgress = false;
      } else {
        insufficientProgress = true;
      }
    } else {
      insufficientProgress = false;
    }
    const p = trial(tNew);
    trials++;
    if (p.f > f0 + c1 * p.t * gtd0 || p.f >= lo.f) {
      hi = p;
    } else {
      if (Math.abs(p.gtd) <= -c2 * gtd0) return p;
      if (p.gtd * (hi.t - lo.t) >= 0) hi = lo;
      lo = p;
    }
  }
  return lo;
}

/**
 * Backtracking line search (alg. 3.1): accept the first step with sufficient decrease
 * φ(t) ≤ φ(0) + c1·t·φ'(0), otherwise shrink t to the minimizer of the quadratic through φ(0),
 * φ'(0) and φ(t), kept within [0.1t, 0.5t]. Simpler, but it never checks curvature.
 */
function backtracking(
  trial: (t: number) => Trial,
  f0: number,
  g0: Float64Array,
  gtd0: number,
  t: number,
  budget: number,
): Trial {
  const c1 = 1e-4;
  const maxTrials = Math.max(1, Math.min(25, budget));
  for (let k = 0; k < maxTrials; k++) {
    const p = trial(t);
    if (p.f <= f0 + c1 * t * gtd0) return p;
    const tq = (-gtd0 * t * t) / (2 * (p.f - f0 - gtd0 * t));
    t = Math.min(0.5 * t, Math.max(0.1 * t, Number.isFinite(tq) ? tq : 0.5 * t));
  }
  return { t: 0, f: f0, g: g0, gtd: gtd0 };
}
