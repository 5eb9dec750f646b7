// The numerical gradient check (STYLE.md C4): the oracle every backward pass in nnzero is held to.
// Central differences (f(x+h) − f(x−h)) / 2h in float64, on a seeded random upstream gradient
// (an all-ones dy cannot see transposition bugs), compared by relative error
// |a − n| / max(|a| + |n|, floor), with the worst entries reported by index.
import { Rng } from './rng.js';
import { copy, dot, like, type Tensor, type Tensor64 } from './ndarray.js';
import { zeroGrad, type Layer } from './layer.js';
import { formatShape } from './errors.js';

/** Options of a gradient check. */
export interface GradCheckOptions {
  /** Step of the central difference (default 1e-5: truncation O(h²) ≈ rounding O(ε/h)). */
  h?: number;
  /** Check at most this many entries per tensor, chosen at random (default: all). */
  sample?: number;
  /** Seed for the upstream gradient and the sample (default 1337). */
  seed?: number;
  /** Entries where both |analytic| and |numeric| are below this pass (default 1e-10). */
  atol?: number;
  /** How many worst entries to report (default 5). */
  worst?: number;
}

/** One compared entry. */
export interface GradEntry {
  readonly index: number[];
  readonly analytic: number;
  readonly numeric: number;
  readonly error: number;
}

/** The comparison of one tensor's analytic gradient with its numerical estimate. */
export interface GradReport {
  readonly name: string;
  readonly shape: number[];
  /** Largest relative error over the checked entries. */
  readonly maxError: number;
  readonly checked: number;
  readonly total: number;
  /** The worst entries, worst first. */
  readonly worst: GradEntry[];
}

/** The reports of several tensors (a layer's input and each parameter). */
export interface GradCheckResult {
  readonly reports: GradReport[];
  /** Largest relative error over all reports. */
  readonly maxError: number;
  /** A readable multi-line summary naming the worst entries (for assertion messages). */
  describe(): string;
}

/** Storage index of a multi-index in a view. */
function offsetOf(t: Tensor, index: readonly number[]): number {
  let p = t.offset;
  for (let i = 0; i < index.length; i++) p += index[i]! * t.stride[i]!;
  return p;
}

/** Multi-index of the k-th element in row-major order. */
function unravel(k: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    index[i] = k % shape[i]!;
    k = Math.floor(k / shape[i]!);
  }
  return index;
}

function requireFloat64(t: Tensor, name: string): asserts t is Tensor64 {
  if (!(t.data instanceof Float64Array)) {
    throw new Error(
      `gradient check needs float64 tensors, but ${name} is float32: ` +
        'rounding error in float32 (≈1e-7) swamps a central difference; convert with copy(t, "float64")',
    );
  }
}

/**
 * Numerical gradient of a scalar function by central differences, perturbing `x` in place
 * (and restoring the exact old value). Returns the estimates at the given flat indices.
 */
export function numericalGradient(
  f: () => number,
  x: Tensor64,
  indices: readonly number[],
  h = 1e-5,
): number[] {
  const out: number[] = [];
  for (const k of indices) {
    const p = offsetOf(x, unravel(k, x.shape));
    const old = x.data[p]!;
    let fPlus: number;
    let fMinus: number;
    try {
      x.data[p] = old + h;
      fPlus = f();
      x.data[p] = old - h;
      fMinus = f();
    } finally {
      x.data[p] = old; // restore exactly, never old + h - h
    }
    out.push((fPlus - fMinus) / (2 * h));
  }
  return out;
}

/** Relative error |a − n| / max(|a| + |n|, floor); 0 when both are below atol. */
export function relativeError(a: number, n: number, floor: number, atol: number): number {
  if (Math.abs(a) < atol && Math.abs(n) < atol) return 0;
  return Math.abs(a - n) / Math.max(Math.abs(a) + Math.abs(n), floor);
}

/**
 * Compare an analytic gradient with central differences of the scalar `f` with respect to `x`.
 * @param name label used in the report (e.g. `input`, `fc1.weight`)
 * @param f the scalar loss, recomputed from scratch on each call (x is perturbed in place)
 * @param x the tensor being differentiated (float64)
 * @param analytic dL/dx as computed by backward, same shape as x
 */
export function compareGradient(
  name: string,
  f: () => number,
  x: Tensor,
  analytic: Tensor,
  options: GradCheckOptions = {},
): GradReport {
  const { h = 1e-5, sample, seed = 1337, atol = 1e-10, worst = 5 } = options;
  requireFloat64(x, name);
  if (x.shape.join() !== analytic.shape.join()) {
    throw new Error(
      `gradient check ${name}: analytic gradient has shape ${formatShape(analytic.shape)}, ` +
        `but the tensor has shape ${formatShape(x.shape)}`,
    );
  }
  const total = x.size;
  const indices =
    sample !== undefined && sample < total
      ? new Rng(seed + 1).choice(total, sample).sort((a, b) => a - b)
      : Array.from({ length: total }, (_, k) => k);
  const numeric = numericalGradient(f, x, indices, h);
  const analyticValues = indices.map(
    (k) => analytic.data[offsetOf(analytic, unravel(k, x.shape))]!,
  );
  // The floor keeps tiny gradients from producing 0/0: 1e-8 of the typical magnitude.
  const typical = numeric.reduce((s, v) => s + Math.abs(v), 0) / Math.max(1, numeric.length);
  const floor = Math.max(1e-8 * typical, 1e-300);
  const entries: GradEntry[] = indices.map((k, i) => ({
    index: unravel(k, x.shape),
    analytic: analyticValues[i]!,
    numeric: numeric[i]!,
    error: relativeError(analyticValues[i]!, numeric[i]!, floor, atol),
  }));
  // NaN must count as the worst possible error, never slip through a comparison.
  const score = (e: GradEntry): number => (Number.isNaN(e.error) ? Infinity : e.error);
  entries.sort((a, b) => score(b) - score(a));
  return {
    name,
    shape: [...x.shape],
    maxError: entries.length > 0 ? score(entries[0]!) : 0,
    checked: indices.length,
    total,
    worst: entries.slice(0, worst),
  };
}

/** Combine reports into a result with a readable description. */
export function gradCheckResult(reports: GradReport[]): GradCheckResult {
  const maxError = reports.reduce((m, r) => Math.max(m, r.maxError), 0);
  return {
    reports,
    maxError,
    describe: () => describeReports(reports),
  };
}

function describeReports(reports: readonly GradReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(
      `${r.name} ${formatShape(r.shape)}: max relative error ${r.maxError.toExponential(2)} ` +
        `(${r.checked} of ${r.total} entries checked)`,
    );
    for (const e of r.worst.slice(0, 3)) {
      lines.push(
        `  at ${formatShape(e.index)}: analytic ${e.analytic.toPrecision(8)}, ` +
          `numeric ${e.numeric.toPrecision(8)}, error ${e.error.toExponential(2)}`,
      );
    }
  }
  return lines.join('\n');
}

/** A tensor to differentiate, with the gradient the code under test computed for it. */
export interface GradTarget {
  readonly name: string;
  readonly value: Tensor;
  readonly grad: Tensor;
}

/**
 * Check analytic gradients of a scalar function against central differences.
 * `loss()` must recompute the scalar from the current values of the targets.
 */
export function checkGradients(
  loss: () => number,
  targets: readonly GradTarget[],
  options: GradCheckOptions = {},
): GradCheckResult {
  return gradCheckResult(
    targets.map((t) => compareGradient(t.name, loss, t.value, t.grad, options)),
  );
}

/**
 * Check a layer's backward: dL/dx and the gradient of every named parameter, for the scalar
 * L = Σ dy ⊙ forward(x) with a seeded random dy. All tensors must be float64.
 * @example
 *   const result = checkLayerGradients(new Linear(4, 3, { rng, name: 'fc' }), rng.fillNormal(zeros([2, 4])));
 *   expect(result.maxError).to.be.below(1e-6, result.describe());
 */
export function checkLayerGradients(
  layer: Layer,
  x: Tensor,
  options: GradCheckOptions = {},
): GradCheckResult {
  const { seed = 1337 } = options;
  requireFloat64(x, 'input');
  const params = layer.params();
  for (const p of params) requireFloat64(p.value, p.name);
  const y = layer.forward(x);
  const dy = new Rng(seed).fillNormal(like(y));
  zeroGrad(params);
  const dx = copy(layer.backward(dy));
  // Snapshot the analytic gradients: the loss below runs forward again, which may reuse buffers.
  const analyticParams = params.map((p) => ({ name: p.name, value: p.value, grad: copy(p.grad) }));
  const loss = (): number => dot(dy, layer.forward(x));
  return checkGradients(loss, [{ name: 'input', value: x, grad: dx }, ...analyticParams], options);
}
