// Optimizers over named parameters: plain SGD, momentum (classical or Nesterov) and Adam. Each
// keeps its state per parameter name and, on step(), SUBTRACTS the stored gradient. The original
// tutorial stored −∂E/∂w and added it; we store the true gradient ∂E/∂w, so the gradient check,
// the layers and the optimizer all mean the same thing by "gradient", and the minus sign of
// gradient descent w ← w − η∇E is written once, here.
import { zeros, dtypeOf, type Param, type Tensor } from '../core/index.js';

/** Options of SGD. */
export interface SGDOptions {
  /** Learning rate η. */
  lr: number;
  /** Momentum μ (default 0: plain SGD). */
  momentum?: number;
  /** Use Nesterov's look-ahead form of momentum (default false). */
  nesterov?: boolean;
  /** L2 penalty λ: adds λw to each gradient (default 0). */
  weightDecay?: number;
}

/** The raw storage of a (contiguous) parameter tensor, checked once. */
function flat(t: Tensor, name: string): Float64Array | Float32Array {
  if (t.offset !== 0 || t.size !== t.data.length) {
    throw new Error(`optimizer: parameter ${name} must own contiguous storage`);
  }
  return t.data;
}

/** Stochastic gradient descent, with optional (Nesterov) momentum and weight decay. */
export class SGD {
  readonly params: readonly Param[];
  lr: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  /** Velocity v per parameter name (only when momentum > 0). */
  readonly velocity = new Map<string, Tensor>();

  /** @param params parameters to update @param options learning rate and momentum */
  constructor(params: readonly Param[], options: SGDOptions) {
    const { lr, momentum = 0, nesterov = false, weightDecay = 0 } = options;
    if (nesterov && momentum <= 0) throw new Error('SGD: nesterov needs momentum > 0');
    this.params = params;
    this.lr = lr;
    this.momentum = momentum;
    this.nesterov = nesterov;
    this.weightDecay = weightDecay;
  }

  /**
   * One update of every parameter from its gradient g (+ λw):
   * plain w ← w − ηg; momentum v ← μv + g, w ← w − ηv; Nesterov w ← w − η(g + μv).
   */
  step(): void {
    const { lr, momentum: mu, nesterov, weightDecay: wd } = this;
    for (const p of this.params) {
      const w = flat(p.value, p.name);
      const g = flat(p.grad, p.name);
      if (mu === 0) {
        for (let i = 0; i < w.length; i++) w[i] = w[i]! - lr * (g[i]! + wd * w[i]!);
        continue;
      }
      let vt = this.velocity.get(p.name);
      if (vt === undefined) {
        vt = zeros(p.value.shape, dtypeOf(p.value));
        this.velocity.set(p.name, vt);
      }
      const v = vt.data;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i]! + wd * w[i]!;
        const vi = mu * v[i]! + gi;
        v[i] = vi;
        w[i] = w[i]! - lr * (nesterov ? gi + mu * vi : vi);
      }
    }
  }
}

/** Options of Adam (defaults from Kingma & Ba, 2015). */
export interface AdamOptions {
  /** Step size α (default 1e-3). */
  lr?: number;
  /** Decay of the first moment (default 0.9). */
  beta1?: number;
  /** Decay of the second moment (default 0.999). */
  beta2?: number;
  /** Added to √v̂ to avoid division by zero (default 1e-8). */
  eps?: number;
  /** L2 penalty λ added to the gradient as λw (default 0). */
  weightDecay?: number;
}

/** Adam: per-coordinate steps scaled by running estimates of the gradient's mean and variance. */
export class Adam {
  readonly params: readonly Param[];
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Number of steps taken (for bias correction). */
  t = 0;
  /** First and second moment estimates per parameter name. */
  readonly moments = new Map<string, { m: Tensor; v: Tensor }>();

  /** @param params parameters to update @param options step size and decay rates */
  constructor(params: readonly Param[], options: AdamOptions = {}) {
    const { lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0 } = options;
    this.params = params;
    this.lr = lr;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
  }

  /** m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², w ← w − α·m̂ / (√v̂ + ε), with bias-corrected m̂, v̂. */
  step(): void {
    const { beta1: b1, beta2: b2, eps, weightDecay: wd } = this;
    this.t++;
    // Fold both bias corrections into the step size: α·√(1−β₂ᵗ)/(1−β₁ᵗ).
    const alpha = (this.lr * Math.sqrt(1 - b2 ** this.t)) / (1 - b1 ** this.t);
    const epsHat = eps * Math.sqrt(1 - b2 ** this.t);
    for (const p of this.params) {
      const w = flat(p.value, p.name);
      const g = flat(p.grad, p.name);
      let state = this.moments.get(p.name);
      if (state === undefined) {
        const dtype = dtypeOf(p.value);
        state = { m: zeros(p.value.shape, dtype), v: zeros(p.value.shape, dtype) };
        this.moments.set(p.name, state);
      }
      const m = state.m.data;
      const v = state.v.data;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i]! + wd * w[i]!;
        const mi = b1 * m[i]! + (1 - b1) * gi;
        const vi = b2 * v[i]! + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i]! - (alpha * mi) / (Math.sqrt(vi) + epsHat);
      }
    }
  }
}
