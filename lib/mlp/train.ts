// Training plumbing for later chapters: gather a mini-batch, guard against divergence, run one
// epoch, evaluate. Chapter 3 writes this loop out in full (STYLE.md C6); chapters 4–5 may call
// these helpers once the loop has been seen.
import {
  DivergenceError,
  ShapeError,
  allFinite,
  isContiguous,
  zeroGrad,
  zeros,
  dtypeOf,
  type Progress,
  type Rng,
  type Tensor,
} from '../core/index.js';
import { softmaxCrossEntropy } from './losses.js';
import type { Sequential } from './sequential.js';

/** Anything with a step() over the network's parameters (SGD, Adam). */
export interface Optimizer {
  step(): void;
}

/**
 * Copy rows `indices[start .. start + B)` of `source` [N, ...] into `out` [B, ...] and their
 * labels into `labelsOut` (a mini-batch in shuffled order). Both outputs are overwritten.
 */
export function gatherBatch(
  out: Tensor,
  labelsOut: Uint8Array,
  source: Tensor,
  labels: ArrayLike<number>,
  indices: ArrayLike<number>,
  start: number,
): void {
  const B = out.shape[0]!;
  const row = out.size / B;
  if (source.size / source.shape[0]! !== row) {
    throw new ShapeError('gatherBatch source', source.shape, [-1, ...out.shape.slice(1)]);
  }
  if (!isContiguous(source) || !isContiguous(out)) {
    throw new Error('gatherBatch: source and out must be contiguous (copy() a view first)');
  }
  for (let i = 0; i < B; i++) {
    const k = indices[start + i]!;
    out.data.set(source.data.subarray(k * row, (k + 1) * row), i * row);
    labelsOut[i] = labels[k]!;
  }
}

/**
 * Throw a DivergenceError when `loss` is NaN or ±Infinity, naming the step and the first layer
 * of `net` whose parameters or output on `x` are not finite (re-running forward to find it).
 */
export function checkLoss(loss: number, step: number, net: Sequential, x: Tensor): void {
  if (Number.isFinite(loss)) return;
  let where = 'in the loss itself (every layer output is finite)';
  let y = x;
  for (let i = 0; i < net.layers.length; i++) {
    const layer = net.layers[i]!;
    const bad = layer.params().find((p) => !allFinite(p.value));
    if (bad !== undefined) {
      where = `in the parameters of layer ${net.names[i]} (${bad.name})`;
      break;
    }
    y = layer.forward(y);
    if (!allFinite(y)) {
      where = `in the output of layer ${net.names[i]} (${layer.constructor.name})`;
      break;
    }
  }
  throw new DivergenceError(
    `training diverged: loss is ${loss} at step ${step}; the first non-finite values appear ${where}. ` +
      'Try a smaller learning rate.',
  );
}

/** Options of trainEpoch. */
export interface EpochOptions {
  batchSize: number;
  /** Seeded generator for the shuffle. */
  rng: Rng;
  /** Global step count before this epoch (for messages); default 0. */
  step?: number;
  /** Called after every step with the mini-batch loss. */
  progress?: Progress;
}

/**
 * One epoch of mini-batch training with softmax cross-entropy: shuffle, then for each batch
 * forward, loss, zeroGrad, backward, step. A last partial batch is dropped.
 * @param images [N, ...] @param labels N class indices
 * @returns the mean training loss over the epoch and the global step count after it
 */
export function trainEpoch(
  net: Sequential,
  optimizer: Optimizer,
  images: Tensor,
  labels: ArrayLike<number>,
  options: EpochOptions,
): { loss: number; step: number } {
  const { batchSize: B, rng, progress } = options;
  let step = options.step ?? 0;
  const N = images.shape[0]!;
  const order = rng.permutation(N);
  const x = zeros([B, ...images.shape.slice(1)], dtypeOf(images));
  const y = new Uint8Array(B);
  const params = net.params();
  let total = 0;
  let count = 0;
  for (let start = 0; start + B <= N; start += B) {
    gatherBatch(x, y, images, labels, order, start);
    const { loss, dScores } = softmaxCrossEntropy(net.forward(x), y);
    step++;
    checkLoss(loss, step, net, x);
    zeroGrad(params);
    net.backward(dScores);
    optimizer.step();
    total += loss;
    count++;
    progress?.tick(`loss ${loss.toFixed(4)}`);
  }
  return { loss: total / Math.max(1, count), step };
}

/**
 * Mean softmax cross-entropy, accuracy and predicted classes over a labelled set, in batches.
 * @param images [N, ...] @param labels N class indices
 */
export function evaluate(
  net: Sequential,
  images: Tensor,
  labels: ArrayLike<number>,
  batchSize = 1000,
): { loss: number; accuracy: number; predictions: Uint8Array } {
  const N = images.shape[0]!;
  const predictions = new Uint8Array(N);
  let loss = 0;
  let correct = 0;
  for (let start = 0; start < N; start += batchSize) {
    const end = Math.min(N, start + batchSize);
    // A view of rows [start, end) along the first axis; the other axes are kept whole.
    const x = images.lo(start).hi(end - start);
    const scores = net.forward(x);
    const batchLabels = Array.from({ length: end - start }, (_, i) => labels[start + i]!);
    loss += softmaxCrossEntropy(scores, batchLabels).loss * (end - start);
    const K = scores.shape[1]!;
    for (let i = 0; i < end - start; i++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (scores.get(i, k) > scores.get(i, best)) best = k;
      predictions[start + i] = best;
      if (best === labels[start + i]) correct++;
    }
  }
  return { loss: loss / N, accuracy: correct / N, predictions };
}
