// Layers with several inputs and one output — channel concatenation (inception blocks) and
// element-wise sum (residual blocks) — and their gradient check. The one-input Layer shape
// stays as it is; a merge layer is the same idea with an array: forward(xs) keeps what backward
// needs, backward(dy) returns one fresh gradient per input.
import {
  checkGradients,
  copy,
  dot,
  like,
  Rng,
  zeroGrad,
  type GradCheckOptions,
  type GradCheckResult,
  type Param,
  type Tensor,
} from '../core/index.js';

/** A layer with several inputs: forward(xs) → y, backward(dy) → [dx_0, dx_1, …] (fresh). */
export interface MergeLayer {
  /** Compute the output from all inputs and remember what backward needs. */
  forward(xs: readonly Tensor[]): Tensor;
  /** Given dL/dy, return a fresh dL/dx_i per input, in input order. */
  backward(dy: Tensor): Tensor[];
  /** The layer's parameters ([] for concat and sum). */
  params(): Param[];
}

/**
 * Check a merge layer's backward against central differences of L = Σ dy ⊙ forward(xs), with a
 * seeded random dy, for every input and parameter (all float64).
 */
export function checkMergeGradients(
  layer: MergeLayer,
  xs: readonly Tensor[],
  options: GradCheckOptions = {},
): GradCheckResult {
  const { seed = 1337 } = options;
  const params = layer.params();
  const y = layer.forward(xs);
  const dy = new Rng(seed).fillNormal(like(y));
  zeroGrad(params);
  const dxs = layer.backward(dy).map((d) => copy(d));
  const analyticParams = params.map((p) => ({ name: p.name, value: p.value, grad: copy(p.grad) }));
  const inputs = xs.map((x, i) => ({ name: `input ${i}`, value: x, grad: dxs[i]! }));
  const loss = (): number => dot(dy, layer.forward(xs));
  return checkGradients(loss, [...inputs, ...analyticParams], options);
}
