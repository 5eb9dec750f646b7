// Chapter 1: the perceptron. Inputs x₁…xₙ, weights w₁…wₙ and a bias b; the output is
// y = f(w·x + b) with the step function f. The perceptron rule nudges w and b toward each
// misclassified example. Chapter 2's linear unit is this same class with another activation.

/** An activation function f(z), applied to the weighted sum z = w·x + b. */
export type Activation = (z: number) => number;

/** The step function: f(z) = 1 if z > 0, else 0 (the classic perceptron's activation). */
export const stepActivation: Activation = (z) => (z > 0 ? 1 : 0);

/** Options for training with the perceptron rule. */
export interface PerceptronTrainOptions {
  /** Passes over the data (the tutorial uses 10). */
  epochs: number;
  /** Learning rate η (the tutorial uses 0.1). */
  rate: number;
  /** Called after each epoch with the number of examples still misclassified. */
  onEpoch?: (epoch: number, errors: number) => void;
}

/** A perceptron with n inputs: y = f(w·x + b). Weights and bias start at 0, as in the tutorial. */
export class Perceptron {
  /** Weights w, one per input. */
  readonly weights: Float64Array;
  /** Bias b (a weight on a constant input of 1). */
  bias = 0;
  /** The activation f. */
  readonly activation: Activation;

  /**
   * @param inputCount number of inputs n
   * @param activation f (default: the step function)
   */
  constructor(inputCount: number, activation: Activation = stepActivation) {
    if (!(Number.isInteger(inputCount) && inputCount > 0)) {
      throw new Error(`Perceptron: inputCount must be a positive integer, got ${inputCount}`);
    }
    this.weights = new Float64Array(inputCount);
    this.activation = activation;
  }

  /** Number of inputs n. */
  get inputCount(): number {
    return this.weights.length;
  }

  /** The weighted sum z = w·x + b. */
  weightedSum(x: ArrayLike<number>): number {
    if (x.length !== this.weights.length) {
      throw new Error(
        `${this.constructor.name}: input has ${x.length} values, but the unit has ${this.weights.length} weights`,
      );
    }
    let z = this.bias;
    for (let i = 0; i < x.length; i++) z += this.weights[i]! * x[i]!;
    return z;
  }

  /** The output y = f(w·x + b). */
  predict(x: ArrayLike<number>): number {
    return this.activation(this.weightedSum(x));
  }

  /**
   * One step of the perceptron rule on one example (x, t):
   * wᵢ ← wᵢ + η(t − y)xᵢ and b ← b + η(t − y). Returns the output y before the update.
   */
  update(x: ArrayLike<number>, t: number, rate: number): number {
    const y = this.predict(x);
    const delta = t - y;
    for (let i = 0; i < x.length; i++) this.weights[i]! += rate * delta * x[i]!;
    this.bias += rate * delta;
    return y;
  }

  /**
   * Train with the perceptron rule, visiting the examples in order for `epochs` passes.
   * Returns the number of misclassified examples seen in each epoch (0 means converged).
   */
  train(
    inputs: readonly ArrayLike<number>[],
    labels: readonly number[],
    options: PerceptronTrainOptions,
  ): number[] {
    if (inputs.length !== labels.length) {
      throw new Error(`train: ${inputs.length} inputs but ${labels.length} labels`);
    }
    const errorsPerEpoch: number[] = [];
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      let errors = 0;
      inputs.forEach((x, k) => {
        const y = this.update(x, labels[k]!, options.rate);
        if (y !== labels[k]) errors++;
      });
      errorsPerEpoch.push(errors);
      options.onEpoch?.(epoch, errors);
    }
    return errorsPerEpoch;
  }

  /** Fraction of examples whose output equals the label. */
  accuracy(inputs: readonly ArrayLike<number>[], labels: readonly number[]): number {
    let correct = 0;
    inputs.forEach((x, k) => {
      if (this.predict(x) === labels[k]) correct++;
    });
    return correct / inputs.length;
  }
}
