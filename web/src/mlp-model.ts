// The network behind the MLP page, built only from chapter 3's pieces (lib/mlp): Linear layers
// with an activation between them, softmax cross-entropy on two class scores, SGD with momentum
// or Adam. The training step is the chapter's loop, spelled out.
import { fromArray, Rng, zeroGrad, type Tensor64 } from '../../lib/core/index.js';
import {
  Adam,
  Linear,
  ReLU,
  SGD,
  Sequential,
  Sigmoid,
  Tanh,
  softmaxCrossEntropy,
} from '../../lib/mlp/index.js';
import type { Point2 } from './plane.js';

/** The activations the page offers. */
export type ActivationName = 'tanh' | 'relu' | 'sigmoid';
/** The optimizers the page offers. */
export type OptimizerName = 'adam' | 'sgd';

/** What the learner chooses. */
export interface MlpSpec {
  /** Width of each hidden layer, e.g. [8, 8]. */
  hidden: number[];
  activation: ActivationName;
  optimizer: OptimizerName;
  lr: number;
  seed: number;
}

const ACTIVATIONS = { tanh: Tanh, relu: ReLU, sigmoid: Sigmoid };

/** A classifier of 2-D points into two classes, trained full-batch on a data set. */
export class MlpModel {
  readonly net: Sequential;
  readonly optimizer: Adam | SGD;
  #x: Tensor64;
  #labels: Uint8Array;

  /** @param spec the architecture and optimizer; @param points the training set */
  constructor(spec: MlpSpec, points: readonly Point2[]) {
    const rng = new Rng(spec.seed);
    const widths = [2, ...spec.hidden, 2];
    const layers = [];
    for (let i = 0; i + 1 < widths.length; i++) {
      // Xavier suits sigmoid/tanh; He makes up for ReLU zeroing half its inputs.
      const init = spec.activation === 'relu' ? 'he' : 'xavier';
      layers.push(new Linear(widths[i]!, widths[i + 1]!, { rng, name: `fc${i + 1}`, init }));
      if (i + 2 < widths.length) layers.push(new ACTIVATIONS[spec.activation]());
    }
    this.net = new Sequential(layers);
    this.optimizer =
      spec.optimizer === 'adam'
        ? new Adam(this.net.params(), { lr: spec.lr })
        : new SGD(this.net.params(), { lr: spec.lr, momentum: 0.9 });
    this.#x = fromArray(
      points.flatMap((p) => [p.x, p.y]),
      [points.length, 2],
    );
    this.#labels = Uint8Array.from(points, (p) => p.label);
  }

  /** One full-batch step: forward, loss, zero the gradients, backward, update. Returns the loss. */
  step(): number {
    const scores = this.net.forward(this.#x);
    const { loss, dScores } = softmaxCrossEntropy(scores, this.#labels);
    zeroGrad(this.net.params());
    this.net.backward(dScores);
    this.optimizer.step();
    return loss;
  }

  /** p(class 1) for `count` points given as rows [x, y] of `xy`. */
  probability(xy: Float64Array, count: number): Float64Array {
    const scores = this.net.forward(fromArray(xy, [count, 2]));
    const p = new Float64Array(count);
    // Softmax over two scores is the logistic function of their difference.
    for (let i = 0; i < count; i++) p[i] = 1 / (1 + Math.exp(scores.get(i, 0) - scores.get(i, 1)));
    return p;
  }

  /** Fraction of the training points classified correctly. */
  accuracy(): number {
    const n = this.#labels.length;
    const p = this.probability(this.#x.data, n);
    let right = 0;
    for (let i = 0; i < n; i++) if ((p[i]! >= 0.5 ? 1 : 0) === this.#labels[i]) right++;
    return right / n;
  }
}
