// Local response normalization across channels (Krizhevsky et al. 2012, §3.3), the layer
// GoogLeNet and AlexNet put after their first convolutions. Caffe's LRN (ACROSS_CHANNELS) and
// ONNX's LRN compute the same thing: both divide α by the window size n. Kernels come in a
// fast twin (raw strides, a running window sum) and a naive twin (reads like the equation).
import {
  ShapeError,
  assertShape,
  checkUpstream,
  dtypeOf,
  requireCache,
  zeros,
  type Layer,
  type Param,
  type Tensor,
} from '../core/index.js';

/** The constants of LRN: y = x / (k + α/n · Σ_window x²)^β over n = `size` channels. */
export interface LrnOptions {
  /** Number of channels in the window, n (Caffe `local_size`, ONNX `size`). */
  readonly size: number;
  /** α (Caffe and ONNX default 1e-4); divided by n, as both Caffe and ONNX do. */
  readonly alpha: number;
  /** β (default 0.75). */
  readonly beta: number;
  /** k, the additive constant (Caffe `k`, ONNX `bias`; default 1). */
  readonly k: number;
}

/**
 * Channels before and after c in c's window: [c − ⌊(n−1)/2⌋, c + ⌈(n−1)/2⌉], clipped to [0, C).
 * This is the ONNX spec's window; Caffe's pre_pad = (n−1)/2 gives the same one (Caffe only
 * accepts odd n, where the window is symmetric).
 */
export function lrnWindow(size: number): { before: number; after: number } {
  const before = Math.floor((size - 1) / 2);
  return { before, after: size - 1 - before };
}

function checkLrn(x: Tensor, p: LrnOptions, others: readonly [string, Tensor][]): void {
  if (x.shape.length !== 4) throw new ShapeError('LRN input x', x.shape, [-1, -1, -1, -1]);
  if (!Number.isInteger(p.size) || p.size < 1) {
    throw new RangeError(`LRN size must be an integer ≥ 1, got ${p.size}`);
  }
  for (const [what, t] of others) assertShape(t, x.shape, `LRN ${what}`);
}

/**
 * LRN forward, fast twin: writes y and the denominator base s = k + α/n · Σ_window x².
 * @param y output, shape [N, C, H, W] (overwritten)
 * @param scale s, shape [N, C, H, W] (overwritten; backward needs it)
 * @param x input, shape [N, C, H, W]
 * @returns y, where y = x · s^(−β)
 */
export function lrnForward(y: Tensor, scale: Tensor, x: Tensor, p: LrnOptions): Tensor {
  checkLrn(x, p, [
    ['output y', y],
    ['scale', scale],
  ]);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const { before, after } = lrnWindow(p.size);
  const a = p.alpha / p.size;
  const xd = x.data;
  const yd = y.data;
  const sd = scale.data;
  const [xN, xC, xH, xW] = x.stride as [number, number, number, number];
  const [yN, yC, yH, yW] = y.stride as [number, number, number, number];
  const [sN, sC, sH, sW] = scale.stride as [number, number, number, number];
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        const x0 = x.offset + n * xN + h * xH + w * xW;
        const y0 = y.offset + n * yN + h * yH + w * yW;
        const s0 = scale.offset + n * sN + h * sH + w * sW;
        // Slide the window down the channels: acc holds Σ x² over [c − before, c + after].
        let acc = 0;
        for (let j = 0; j < Math.min(after, C); j++) acc += xd[x0 + j * xC]! ** 2;
        for (let c = 0; c < C; c++) {
          const enter = c + after;
          if (enter < C) acc += xd[x0 + enter * xC]! ** 2;
          const leave = c - before - 1;
          if (leave >= 0) acc -= xd[x0 + leave * xC]! ** 2;
          const s = p.k + a * acc;
          sd[s0 + c * sC] = s;
          yd[y0 + c * yC] = xd[x0 + c * xC]! * Math.pow(s, -p.beta);
        }
      }
    }
  }
  return y;
}

/**
 * LRN backward, fast twin. With s_i = k + α/n Σ_{j∈win(i)} x_j² and y_i = x_i s_i^(−β):
 *   dx_j = dy_j s_j^(−β) − (2αβ/n) x_j Σ_{i : j∈win(i)} dy_i y_i / s_i,
 * where j ∈ win(i) ⇔ i ∈ [j − after, j + before] (the window mirrored).
 * @param dx output, shape [N, C, H, W] (overwritten)
 * @param dy upstream gradient; x, y, scale as forward produced them; all [N, C, H, W]
 */
export function lrnBackward(
  dx: Tensor,
  dy: Tensor,
  x: Tensor,
  y: Tensor,
  scale: Tensor,
  p: LrnOptions,
): Tensor {
  checkLrn(x, p, [
    ['dx', dx],
    ['dy', dy],
    ['output y', y],
    ['scale', scale],
  ]);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const { before, after } = lrnWindow(p.size);
  const coeff = (2 * p.alpha * p.beta) / p.size;
  const [xN, xC, xH, xW] = x.stride as [number, number, number, number];
  const [gN, gC, gH, gW] = dy.stride as [number, number, number, number];
  const [yN, yC, yH, yW] = y.stride as [number, number, number, number];
  const [sN, sC, sH, sW] = scale.stride as [number, number, number, number];
  const [dN, dC, dH, dW] = dx.stride as [number, number, number, number];
  const xd = x.data;
  const gd = dy.data;
  const yd = y.data;
  const sd = scale.data;
  const dd = dx.data;
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        const x0 = x.offset + n * xN + h * xH + w * xW;
        const g0 = dy.offset + n * gN + h * gH + w * gW;
        const y0 = y.offset + n * yN + h * yH + w * yW;
        const s0 = scale.offset + n * sN + h * sH + w * sW;
        const d0 = dx.offset + n * dN + h * dH + w * dW;
        const ratio = (i: number): number =>
          (gd[g0 + i * gC]! * yd[y0 + i * yC]!) / sd[s0 + i * sC]!;
        // acc holds Σ dy_i y_i / s_i over the mirrored window [j − after, j + before].
        let acc = 0;
        for (let i = 0; i < Math.min(before, C); i++) acc += ratio(i);
        for (let j = 0; j < C; j++) {
          const enter = j + before;
          if (enter < C) acc += ratio(enter);
          const leave = j - after - 1;
          if (leave >= 0) acc -= ratio(leave);
          const s = sd[s0 + j * sC]!;
          dd[d0 + j * dC] =
            gd[g0 + j * gC]! * Math.pow(s, -p.beta) - coeff * xd[x0 + j * xC]! * acc;
        }
      }
    }
  }
  return dx;
}

/** LRN forward, naive twin (same signature as lrnForward): the window sum written out. */
export function lrnNaiveForward(y: Tensor, scale: Tensor, x: Tensor, p: LrnOptions): Tensor {
  checkLrn(x, p, [
    ['output y', y],
    ['scale', scale],
  ]);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const { before, after } = lrnWindow(p.size);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) {
          let sumSq = 0;
          for (let j = Math.max(0, c - before); j <= Math.min(C - 1, c + after); j++) {
            sumSq += x.get(n, j, h, w) ** 2;
          }
          const s = p.k + (p.alpha / p.size) * sumSq;
          scale.set(n, c, h, w, s);
          y.set(n, c, h, w, x.get(n, c, h, w) / Math.pow(s, p.beta));
        }
      }
    }
  }
  return y;
}

/** LRN backward, naive twin (same signature as lrnBackward): every ∂y_i/∂x_j summed. */
export function lrnNaiveBackward(
  dx: Tensor,
  dy: Tensor,
  x: Tensor,
  y: Tensor,
  scale: Tensor,
  p: LrnOptions,
): Tensor {
  checkLrn(x, p, [
    ['dx', dx],
    ['dy', dy],
    ['output y', y],
    ['scale', scale],
  ]);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const { before, after } = lrnWindow(p.size);
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        for (let j = 0; j < C; j++) {
          let g = 0;
          for (let i = 0; i < C; i++) {
            const inWindow = j >= i - before && j <= i + after;
            const s = scale.get(n, i, h, w);
            // ∂y_i/∂x_j = [i = j] s_i^(−β) − β x_i s_i^(−β−1) · (2α/n) x_j · [j ∈ win(i)]
            let dyi_dxj = i === j ? Math.pow(s, -p.beta) : 0;
            if (inWindow) {
              dyi_dxj -=
                ((2 * p.alpha * p.beta) / p.size) *
                x.get(n, i, h, w) *
                Math.pow(s, -p.beta - 1) *
                x.get(n, j, h, w);
            }
            g += dy.get(n, i, h, w) * dyi_dxj;
          }
          dx.set(n, j, h, w, g);
        }
      }
    }
  }
  return dx;
}

/** Options of the LRN layer: the constants (defaults as Caffe and ONNX) and a name. */
export interface LrnLayerOptions {
  name?: string;
  alpha?: number;
  beta?: number;
  k?: number;
}

/** Local response normalization across channels: [N, C, H, W] → [N, C, H, W]. */
export class LRN implements Layer {
  readonly name: string;
  readonly options: LrnOptions;
  #cache: { x: Tensor; y: Tensor; scale: Tensor } | undefined;

  /** @param size channels per window, n (Caffe `local_size`, ONNX `size`) */
  constructor(
    size: number,
    { name = 'lrn', alpha = 1e-4, beta = 0.75, k = 1 }: LrnLayerOptions = {},
  ) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`LRN(${name}) size must be an integer ≥ 1, got ${size}`);
    }
    this.name = name;
    this.options = Object.freeze({ size, alpha, beta, k });
  }

  forward(x: Tensor): Tensor {
    const y = zeros(x.shape, dtypeOf(x));
    const scale = zeros(x.shape, dtypeOf(x));
    lrnForward(y, scale, x, this.options);
    this.#cache = { x, y, scale };
    return y;
  }

  backward(dy: Tensor): Tensor {
    const { x, y, scale } = requireCache(this.#cache, `LRN(${this.name})`);
    checkUpstream(dy, y.shape, `LRN(${this.name})`);
    return lrnBackward(zeros(x.shape, dtypeOf(x)), dy, x, y, scale, this.options);
  }

  params(): Param[] {
    return [];
  }
}
