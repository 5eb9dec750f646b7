// Adam (Kingma & Ba 2015, alg. 1) on a flat vector — here the image's pixels — with the same
// `minimize(f, x0)` shape as L-BFGS so the style-transfer loop can use either. Bounds by
// projection after every step, like L-BFGS here.
import { DivergenceError } from '../core/index.js';
import type { IterationCallback, Minimizer, Objective, OptimizeResult } from './lbfgs.js';

/** Options of Adam on the image. */
export interface AdamOptions {
  /** Step size α (default 0.02: in [0, 1] pixel units, 2 % of the range per step at most). */
  learningRate?: number;
  /** β₁, decay of the gradient's running mean (default 0.9). */
  beta1?: number;
  /** β₂, decay of the squared gradient's running mean (default 0.999). */
  beta2?: number;
  /** ε in the denominator (default 1e-8). */
  epsilon?: number;
  /** Steps, each one loss-and-gradient evaluation (default 100). */
  maxIterations?: number;
  /** Lower bound of every entry (default -Infinity). */
  lower?: number;
  /** Upper bound of every entry (default +Infinity). */
  upper?: number;
  /** Called after each step. */
  onIteration?: IterationCallback;
}

/** Adam over a flat vector: one evaluation per step, bias-corrected moments, projected steps. */
export class Adam implements Minimizer {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly maxIterations: number;
  readonly lower: number;
  readonly upper: number;
  readonly #onIteration: IterationCallback | undefined;

  /** @param options step size, moment decays, iterations, bounds, callback */
  constructor(options: AdamOptions = {}) {
    const {
      learningRate = 0.02,
      beta1 = 0.9,
      beta2 = 0.999,
      epsilon = 1e-8,
      maxIterations = 100,
      lower = -Infinity,
      upper = Infinity,
      onIteration,
    } = options;
    this.learningRate = learningRate;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
    this.maxIterations = maxIterations;
    this.lower = lower;
    this.upper = upper;
    this.#onIteration = onIteration;
  }

  /** Minimize f from x0 (not modified); returns the last point (and its loss) and the record. */
  minimize(f: Objective, x0: Float64Array): OptimizeResult {
    const n = x0.length;
    const { learningRate: lr, beta1, beta2, epsilon, lower, upper } = this;
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.min(upper, Math.max(lower, x0[i]!));
    const g = new Float64Array(n);
    const m = new Float64Array(n);
    const v = new Float64Array(n);
    const losses: number[] = [];
    let reason: OptimizeResult['reason'] = 'iterations';
    let evaluations = 0;
    let loss = NaN;
    for (let step = 1; ; step++) {
      loss = f(x, g);
      evaluations++;
      if (!Number.isFinite(loss)) {
        throw new DivergenceError(`Adam: loss is ${loss} at evaluation ${evaluations}`);
      }
      losses.push(loss);
      if (
        step > 1 &&
        this.#onIteration?.({ iteration: step - 1, evaluations, loss, x }) === 'stop'
      ) {
        reason = 'callback';
        break;
      }
      // The loss of the last step is measured by one more evaluation, so n steps cost n + 1.
      if (step > this.maxIterations) break;
      const c1 = 1 - beta1 ** step;
      const c2 = 1 - beta2 ** step;
      for (let i = 0; i < n; i++) {
        m[i] = beta1 * m[i]! + (1 - beta1) * g[i]!;
        v[i] = beta2 * v[i]! + (1 - beta2) * g[i]! * g[i]!;
        const xi = x[i]! - (lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + epsilon);
        x[i] = Math.min(upper, Math.max(lower, xi));
      }
    }
    return {
      x,
      loss,
      initialLoss: losses[0]!,
      iterations: losses.length - 1,
      evaluations,
      losses,
      reason,
    };
  }
}
