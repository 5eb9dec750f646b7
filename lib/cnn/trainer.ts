// The training loop of chapter 3, packaged once it has been seen: epochs of shuffled mini-batches
// (mlp's trainEpoch: forward, softmax cross-entropy, zeroGrad, backward, step), an evaluation on
// held-out data after each epoch, wall-clock time per epoch, an optional step-size schedule and
// optional data augmentation (the training images altered afresh each epoch, see augment.ts).
import { dtypeOf, zeros, type Progress, type Rng, type Tensor } from '../core/index.js';
import { evaluate, trainEpoch, type Optimizer, type Sequential } from '../mlp/index.js';
import { type Augmentation } from './augment.js';

/** An optimizer whose step size the trainer may change between epochs (SGD and Adam are). */
export type ScheduledOptimizer = Optimizer & { lr: number };

/** Images [N, ...] and their N class labels. */
export interface LabelledSet {
  readonly images: Tensor;
  readonly labels: ArrayLike<number>;
}

/** Options of a Trainer. */
export interface TrainerOptions {
  batchSize: number;
  /** Seeded generator for the shuffles. */
  rng: Rng;
  /** Step size for epoch e (0-based); default: leave the optimizer's alone. */
  lrSchedule?: (epoch: number) => number;
  /** Alters the training images afresh each epoch (e.g. randomShift(2)); default: none. */
  augment?: Augmentation;
  /** Batch size of evaluation (default 1000). */
  evalBatchSize?: number;
  /** Makes a progress reporter for one epoch of `steps` mini-batches. */
  progress?: (epoch: number, steps: number) => Progress;
}

/** What one epoch produced. */
export interface EpochReport {
  readonly epoch: number;
  readonly lr: number;
  readonly trainLoss: number;
  readonly testLoss: number;
  readonly testAccuracy: number;
  /** Wall-clock seconds of the training part of the epoch (evaluation excluded). */
  readonly seconds: number;
}

/** Trains a classifier with softmax cross-entropy, epoch by epoch. */
export class Trainer {
  readonly net: Sequential;
  readonly optimizer: ScheduledOptimizer;
  readonly options: Readonly<TrainerOptions>;
  /** One report per finished epoch. */
  readonly history: EpochReport[] = [];
  #step = 0;
  // The epoch's altered training images, allocated once and rewritten every epoch.
  #augmented: Tensor | undefined;

  /** @param net the network (its params are the optimizer's); @param optimizer SGD or Adam */
  constructor(net: Sequential, optimizer: ScheduledOptimizer, options: TrainerOptions) {
    this.net = net;
    this.optimizer = optimizer;
    this.options = Object.freeze({ ...options });
  }

  /** Run one epoch on `train`, then evaluate on `test`; returns (and records) the report. */
  epoch(train: LabelledSet, test: LabelledSet): EpochReport {
    const { batchSize, rng, lrSchedule, evalBatchSize = 1000, progress, augment } = this.options;
    const e = this.history.length;
    if (lrSchedule !== undefined) this.optimizer.lr = lrSchedule(e);
    const bar = progress?.(e, Math.floor(train.images.shape[0]! / batchSize));
    const t0 = performance.now();
    let images = train.images;
    if (augment !== undefined) {
      let out = this.#augmented;
      if (out?.shape.join() !== images.shape.join() || dtypeOf(out) !== dtypeOf(images)) {
        out = this.#augmented = zeros(images.shape, dtypeOf(images));
      }
      augment(out, images, rng);
      images = out;
    }
    const { loss, step } = trainEpoch(this.net, this.optimizer, images, train.labels, {
      batchSize,
      rng,
      step: this.#step,
      ...(bar === undefined ? {} : { progress: bar }),
    });
    const seconds = (performance.now() - t0) / 1000;
    bar?.stop();
    this.#step = step;
    const result = evaluate(this.net, test.images, test.labels, evalBatchSize);
    const report: EpochReport = {
      epoch: e + 1,
      lr: this.optimizer.lr,
      trainLoss: loss,
      testLoss: result.loss,
      testAccuracy: result.accuracy,
      seconds,
    };
    this.history.push(report);
    return report;
  }

  /** Run `epochs` epochs, calling onEpoch after each. @returns the reports of these epochs */
  fit(
    train: LabelledSet,
    test: LabelledSet,
    epochs: number,
    onEpoch?: (report: EpochReport) => void,
  ): EpochReport[] {
    const reports: EpochReport[] = [];
    for (let i = 0; i < epochs; i++) {
      const r = this.epoch(train, test);
      reports.push(r);
      onEpoch?.(r);
    }
    return reports;
  }

  /** Loss, accuracy and predictions of the network on a labelled set. */
  evaluate(set: LabelledSet): { loss: number; accuracy: number; predictions: Uint8Array } {
    return evaluate(this.net, set.images, set.labels, this.options.evalBatchSize ?? 1000);
  }
}
