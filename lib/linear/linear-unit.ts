// Chapter 2: the linear unit. It is the perceptron with the identity activation f(z) = z — the
// only change — so it outputs a real number and can solve regression. Training minimizes the
// objective E = ½ Σᵢ (yᵢ − ŷᵢ)² by gradient descent, in batch or stochastic form.
import { Perceptron } from '../perceptron/index.js';

/** The identity activation f(z) = z. */
export const identity = (z: number): number => z;

/** The gradient of the objective with respect to the weights and the bias. */
export interface LinearGradient {
  /** ∂E/∂wᵢ = −Σₖ (yₖ − ŷₖ) xₖᵢ */
  readonly dw: Float64Array;
  /** ∂E/∂b = −Σₖ (yₖ − ŷₖ) */
  readonly db: number;
}

/** Options for gradient descent. */
export interface DescentOptions {
  /** Passes over the data. */
  epochs: number;
  /** Learning rate η. */
  rate: number;
  /** Called after each epoch with the objective E on the whole data set. */
  onEpoch?: (epoch: number, objective: number) => void;
}

/** A linear unit ŷ = w·x + b: a Perceptron whose activation is the identity. */
export class LinearUnit extends Perceptron {
  /** @param inputCount number of input features */
  constructor(inputCount: number) {
    super(inputCount, identity);
  }

  /** The objective E = ½ Σₖ (yₖ − ŷₖ)² over a data set (eq. of chapter 2). */
  objective(inputs: readonly ArrayLike<number>[], labels: readonly number[]): number {
    let e = 0;
    inputs.forEach((x, k) => {
      const r = labels[k]! - this.predict(x);
      e += 0.5 * r * r;
    });
    return e;
  }

  /**
   * The true gradient of E: ∂E/∂w = −Σₖ (yₖ − ŷₖ) xₖ, ∂E/∂b = −Σₖ (yₖ − ŷₖ).
   * (The original tutorial code stored the negative of this and added it; nnzero stores the
   * gradient itself and subtracts, so the numerical gradient check can compare it directly.)
   */
  gradient(inputs: readonly ArrayLike<number>[], labels: readonly number[]): LinearGradient {
    const dw = new Float64Array(this.inputCount);
    let db = 0;
    inputs.forEach((x, k) => {
      const r = labels[k]! - this.predict(x);
      for (let i = 0; i < dw.length; i++) dw[i]! -= r * x[i]!;
      db -= r;
    });
    return { dw, db };
  }

  /**
   * Batch gradient descent: each step uses the gradient over the whole data set,
   * w ← w − η ∂E/∂w, b ← b − η ∂E/∂b. Returns E after each epoch.
   */
  trainBatch(
    inputs: readonly ArrayLike<number>[],
    labels: readonly number[],
    options: DescentOptions,
  ): number[] {
    checkData(inputs, labels);
    const history: number[] = [];
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const { dw, db } = this.gradient(inputs, labels);
      for (let i = 0; i < dw.length; i++) this.weights[i]! -= options.rate * dw[i]!;
      this.bias -= options.rate * db;
      history.push(this.#recordEpoch(epoch, inputs, labels, options));
    }
    return history;
  }

  /**
   * Stochastic gradient descent: one step per example, with the gradient of that example's
   * term ½(y − ŷ)² alone. This is exactly the perceptron rule of chapter 1 with f(z) = z, so it
   * reuses Perceptron.update. Examples are visited in the given order. Returns E after each epoch.
   */
  trainStochastic(
    inputs: readonly ArrayLike<number>[],
    labels: readonly number[],
    options: DescentOptions,
  ): number[] {
    checkData(inputs, labels);
    const history: number[] = [];
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      inputs.forEach((x, k) => this.update(x, labels[k]!, options.rate));
      history.push(this.#recordEpoch(epoch, inputs, labels, options));
    }
    return history;
  }

  #lastObjective = 0;

  #recordEpoch(
    epoch: number,
    inputs: readonly ArrayLike<number>[],
    labels: readonly number[],
    options: DescentOptions,
  ): number {
    const e = this.objective(inputs, labels);
    if (!Number.isFinite(e)) {
      throw new Error(
        `LinearUnit: the objective became ${e} at epoch ${epoch} (previous ${this.#lastObjective.toPrecision(4)}); ` +
          `the learning rate ${options.rate} is too large for this data`,
      );
    }
    this.#lastObjective = e;
    options.onEpoch?.(epoch, e);
    return e;
  }
}

function checkData(inputs: readonly ArrayLike<number>[], labels: readonly number[]): void {
  if (inputs.length !== labels.length) {
    throw new Error(`train: ${inputs.length} inputs but ${labels.length} labels`);
  }
}

/**
 * The least-squares line through 1-D data, in closed form (the answer gradient descent should
 * approach): slope = cov(x, y) / var(x), intercept = ȳ − slope·x̄.
 */
export function leastSquaresLine(
  xs: readonly number[],
  ys: readonly number[],
): { slope: number; intercept: number } {
  const n = xs.length;
  const mx = xs.reduce((s, v) => s + v, 0) / n;
  const my = ys.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let k = 0; k < n; k++) {
    sxy += (xs[k]! - mx) * (ys[k]! - my);
    sxx += (xs[k]! - mx) ** 2;
  }
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}
