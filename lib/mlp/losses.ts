// Losses are not layers (STYLE.md C2.4): each returns the value and its gradient together.
// Mean squared error is the tutorial's E = ½Σ(y − ŷ)²; softmax cross-entropy fuses the softmax
// with the log so the gradient is the famous (p − onehot) / N and nothing overflows.
import { ShapeError, contiguous, like, sameShape, type Tensor } from '../core/index.js';

/**
 * Mean squared error E = ½ Σ (pred − target)² / N over a batch of N rows (the tutorial's
 * E = ½Σ(y − ŷ)², averaged over the batch so the learning rate does not depend on N).
 * @param pred predictions [N, ...] @param target same shape
 * @returns loss and dPred = (pred − target) / N, same shape as pred
 */
export function meanSquaredError(pred: Tensor, target: Tensor): { loss: number; dPred: Tensor } {
  if (!sameShape(pred.shape, target.shape)) {
    throw new ShapeError('meanSquaredError target', target.shape, pred.shape);
  }
  const N = pred.shape[0] ?? 1;
  const p = contiguous(pred);
  const t = contiguous(target);
  const dPred = like(p);
  let loss = 0;
  for (let i = 0, end = p.size; i < end; i++) {
    const diff = p.data[i]! - t.data[i]!;
    loss += diff * diff;
    dPred.data[i] = diff / N;
  }
  return { loss: (0.5 * loss) / N, dPred };
}

/**
 * Softmax cross-entropy averaged over the batch: L = −(1/N) Σₙ log softmax(sₙ)[yₙ].
 * @param scores unnormalized class scores [N, K]
 * @param labels N integer labels in [0, K)
 * @returns loss and dScores = (softmax(s) − onehot(y)) / N, shape [N, K]
 */
export function softmaxCrossEntropy(
  scores: Tensor,
  labels: ArrayLike<number>,
): { loss: number; dScores: Tensor } {
  if (scores.shape.length !== 2) {
    throw new ShapeError('softmaxCrossEntropy scores', scores.shape, [-1, -1]);
  }
  const [N, K] = scores.shape as [number, number];
  if (labels.length !== N) {
    throw new ShapeError('softmaxCrossEntropy labels', [labels.length], [N], 'one label per row');
  }
  const s = contiguous(scores);
  const dScores = like(s);
  const sd = s.data;
  const dd = dScores.data;
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const label = labels[n]!;
    if (!Number.isInteger(label) || label < 0 || label >= K) {
      throw new RangeError(
        `softmaxCrossEntropy: label ${label} at row ${n} is out of range for ${K} classes [0, ${K - 1}]`,
      );
    }
    // Subtracting the row maximum leaves softmax unchanged and keeps exp from overflowing.
    const row = n * K;
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, sd[row + k]!);
    let z = 0;
    for (let k = 0; k < K; k++) z += Math.exp(sd[row + k]! - max);
    const logZ = Math.log(z) + max;
    loss += logZ - sd[row + label]!;
    for (let k = 0; k < K; k++) dd[row + k] = Math.exp(sd[row + k]! - logZ) / N;
    dd[row + label] = dd[row + label]! - 1 / N;
  }
  return { loss: loss / N, dScores };
}
