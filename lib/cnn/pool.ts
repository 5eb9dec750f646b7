// Pooling kernels over NCHW: max pooling (keeping the argmax, so backward routes each gradient
// to the one input that won), average pooling (with or without counting padding) and global
// average pooling. Each fast kernel reads raw storage; its naive twin uses .get/.set. The 2×2,
// stride-2 pooling of VGG-style networks has loops of its own, and for float32 runs on the
// WebAssembly kernel (pool-wasm.ts).
import { assertShape, wasmSimdSupported, type Tensor } from '../core/index.js';
import { type PoolGeometry } from './geometry.js';
import {
  avgPool2x2BackwardWasm,
  avgPool2x2ForwardWasm,
  maxPool2x2BackwardWasm,
  maxPool2x2ForwardWasm,
} from './pool-wasm.js';

function checkPoolShapes(geom: PoolGeometry, x: Tensor, out: Tensor, argmax?: Int32Array): void {
  const { N, C, H, W, outH, outW } = geom;
  assertShape(x, [N, C, H, W], 'pool2d input [N, C, H, W]');
  assertShape(out, [N, C, outH, outW], 'pool2d output [N, C, outH, outW]');
  if (argmax !== undefined && argmax.length !== N * C * outH * outW) {
    throw new RangeError(
      `pool2d argmax holds ${argmax.length} indices, the output [${N}, ${C}, ${outH}, ${outW}] needs ${N * C * outH * outW}`,
    );
  }
}

// The window of output (oh, ow) along one axis, [start, end), clipped to the input; `full` is
// its length including padding (but not beyond it), the divisor when padding counts.
function window(
  o: number,
  stride: number,
  padBefore: number,
  k: number,
  size: number,
  padAfter: number,
): [number, number, number] {
  const start = o * stride - padBefore;
  const end = Math.min(start + k, size + padAfter);
  return [Math.max(start, 0), Math.min(end, size), end - start];
}

/**
 * Max pooling: out[n,c,oh,ow] = max over the window of x (padding never wins), and
 * argmax[(n·C + c)·outH·outW + oh·outW + ow] = h·W + w of the winner; the first index wins ties.
 * @param out shape [N, C, outH, outW]; @param argmax Int32Array of N·C·outH·outW; @param x [N, C, H, W]
 */
export function maxPool2dForward(
  out: Tensor,
  argmax: Int32Array,
  x: Tensor,
  geom: PoolGeometry,
): Tensor {
  checkPoolShapes(geom, x, out, argmax);
  if (isPairTiling(geom)) {
    if (!onKernel(out, x)) return maxPool2x2Forward(out, argmax, x, geom);
    maxPool2x2ForwardWasm(out, argmax, x, geom);
    return out;
  }
  const { N, C, H, W, kH, kW, outH, outW, strideH, strideW, padTop, padLeft } = geom;
  const [xs0, xs1, xs2, xs3] = x.stride as [number, number, number, number];
  const [os0, os1, os2, os3] = out.stride as [number, number, number, number];
  const xd = x.data;
  const od = out.data;
  let k = 0;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const xp = x.offset + n * xs0 + c * xs1;
      const op = out.offset + n * os0 + c * os1;
      for (let oh = 0; oh < outH; oh++) {
        // The window clipped to the input (padding never wins, so only the inside matters).
        const hs = oh * strideH - padTop;
        const h0 = Math.max(hs, 0);
        const h1 = Math.min(hs + kH, H);
        for (let ow = 0; ow < outW; ow++, k++) {
          const ws = ow * strideW - padLeft;
          const w0 = Math.max(ws, 0);
          const w1 = Math.min(ws + kW, W);
          let best = -Infinity;
          let at = -1;
          for (let h = h0; h < h1; h++) {
            for (let v = w0; v < w1; v++) {
              const value = xd[xp + h * xs2 + v * xs3]!;
              // Strictly greater: the first maximum in row-major order wins a tie. A NaN taken
              // first is kept (nothing compares greater), so NaN propagates.
              if (at < 0 || value > best) {
                best = value;
                at = h * W + v;
              }
            }
          }
          od[op + oh * os2 + ow * os3] = best;
          argmax[k] = at;
        }
      }
    }
  }
  return out;
}

/**
 * Max pooling backward (overwrites dx): each dy[n,c,oh,ow] is added to the input that won its
 * window, dx[n, c, argmax / W, argmax % W]; every other input gets zero (it did not affect y).
 * @param dx shape [N, C, H, W]; @param dy [N, C, outH, outW]; @param argmax from the forward pass
 */
export function maxPool2dBackward(
  dx: Tensor,
  dy: Tensor,
  argmax: Int32Array,
  geom: PoolGeometry,
): Tensor {
  checkPoolShapes(geom, dx, dy, argmax);
  if (isPairTiling(geom)) {
    if (!onKernel(dx, dy)) return maxPool2x2Backward(dx, dy, argmax, geom);
    maxPool2x2BackwardWasm(dx, dy, argmax, geom);
    return dx;
  }
  const { N, C, W, outH, outW } = geom;
  const [xs0, xs1, xs2, xs3] = dx.stride as [number, number, number, number];
  const [os0, os1, os2, os3] = dy.stride as [number, number, number, number];
  const dd = dx.data;
  const gd = dy.data;
  zeroImage(dx, geom);
  let k = 0;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const xp = dx.offset + n * xs0 + c * xs1;
      const op = dy.offset + n * os0 + c * os1;
      for (let oh = 0; oh < outH; oh++) {
        for (let ow = 0; ow < outW; ow++, k++) {
          const at = argmax[k]!;
          const h = Math.floor(at / W);
          dd[xp + h * xs2 + (at - h * W) * xs3] += gd[op + oh * os2 + ow * os3]!;
        }
      }
    }
  }
  return dx;
}

// Float32 tensors go to the WebAssembly kernel where the runtime has SIMD; float64 stays here.
function onKernel(a: Tensor, b: Tensor): boolean {
  return wasmSimdSupported && a.data instanceof Float32Array && b.data instanceof Float32Array;
}

// The pooling of VGG-style networks: 2×2 windows, stride 2, no padding, every window inside the
// input. It gets loops of its own, the four inputs of a window read as four named values.
function isPairTiling(g: PoolGeometry): boolean {
  return (
    g.kH === 2 &&
    g.kW === 2 &&
    g.strideH === 2 &&
    g.strideW === 2 &&
    g.padTop + g.padBottom + g.padLeft + g.padRight === 0 &&
    2 * g.outH <= g.H &&
    2 * g.outW <= g.W
  );
}

// maxPool2dForward for 2×2 windows at stride 2: the same comparisons in the same order (row-major,
// strictly greater, so the first maximum and a leading NaN win), unrolled.
function maxPool2x2Forward(out: Tensor, argmax: Int32Array, x: Tensor, geom: PoolGeometry): Tensor {
  const { N, C, W, outH, outW } = geom;
  const [xs0, xs1, xs2, xs3] = x.stride as [number, number, number, number];
  const [os0, os1, os2, os3] = out.stride as [number, number, number, number];
  const xd = x.data;
  const od = out.data;
  const step = 2 * xs3;
  let k = 0;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let oh = 0; oh < outH; oh++) {
        let top = x.offset + n * xs0 + c * xs1 + 2 * oh * xs2;
        let o = out.offset + n * os0 + c * os1 + oh * os2;
        let at = 2 * oh * W; // h·W + w of the window's top-left input
        for (let ow = 0; ow < outW; ow++, k++, top += step, o += os3, at += 2) {
          const bottom = top + xs2;
          let best = xd[top]!;
          let win = at;
          const b = xd[top + xs3]!;
          if (b > best) {
            best = b;
            win = at + 1;
          }
          const c0 = xd[bottom]!;
          if (c0 > best) {
            best = c0;
            win = at + W;
          }
          const d = xd[bottom + xs3]!;
          if (d > best) {
            best = d;
            win = at + W + 1;
          }
          od[o] = best;
          argmax[k] = win;
        }
      }
    }
  }
  return out;
}

// maxPool2dBackward for 2×2 windows at stride 2: each window's four inputs are written once (dy
// at the winner, 0 elsewhere), so dx needs no zeroing pass unless a last odd row or column is
// left outside every window.
function maxPool2x2Backward(
  dx: Tensor,
  dy: Tensor,
  argmax: Int32Array,
  geom: PoolGeometry,
): Tensor {
  const { N, C, H, W, outH, outW } = geom;
  const [xs0, xs1, xs2, xs3] = dx.stride as [number, number, number, number];
  const [os0, os1, os2, os3] = dy.stride as [number, number, number, number];
  const dd = dx.data;
  const gd = dy.data;
  if (2 * outH < H || 2 * outW < W) zeroImage(dx, geom);
  const step = 2 * xs3;
  let k = 0;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let oh = 0; oh < outH; oh++) {
        let top = dx.offset + n * xs0 + c * xs1 + 2 * oh * xs2;
        let o = dy.offset + n * os0 + c * os1 + oh * os2;
        let at = 2 * oh * W;
        for (let ow = 0; ow < outW; ow++, k++, top += step, o += os3, at += 2) {
          const g = gd[o]!;
          const win = argmax[k]! - at; // 0, 1, W or W + 1
          dd[top] = win === 0 ? g : 0;
          dd[top + xs3] = win === 1 ? g : 0;
          dd[top + xs2] = win === W ? g : 0;
          dd[top + xs2 + xs3] = win === W + 1 ? g : 0;
        }
      }
    }
  }
  return dx;
}

function zeroImage(t: Tensor, geom: { N: number; C: number; H: number; W: number }): void {
  const [s0, s1, s2, s3] = t.stride as [number, number, number, number];
  const d = t.data;
  for (let n = 0; n < geom.N; n++) {
    for (let c = 0; c < geom.C; c++) {
      for (let h = 0; h < geom.H; h++) {
        let q = t.offset + n * s0 + c * s1 + h * s2;
        for (let v = 0; v < geom.W; v++, q += s3) d[q] = 0;
      }
    }
  }
}

/**
 * Average pooling: out[n,c,oh,ow] = (Σ over the window of x) / count, where count is the window
 * area including padding when geom.countPadding (Caffe, PyTorch's default), else only the
 * inputs inside the image. @param out shape [N, C, outH, outW]; @param x [N, C, H, W]
 */
export function avgPool2dForward(out: Tensor, x: Tensor, geom: PoolGeometry): Tensor {
  checkPoolShapes(geom, x, out);
  if (isPairTiling(geom) && onKernel(out, x)) {
    avgPool2x2ForwardWasm(out, x, geom);
    return out;
  }
  const { N, C, H, W, kH, kW, outH, outW, strideH, strideW, padTop, padLeft } = geom;
  const [xs0, xs1, xs2, xs3] = x.stride as [number, number, number, number];
  const [os0, os1, os2, os3] = out.stride as [number, number, number, number];
  const xd = x.data;
  const od = out.data;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const xp = x.offset + n * xs0 + c * xs1;
      const op = out.offset + n * os0 + c * os1;
      for (let oh = 0; oh < outH; oh++) {
        const [h0, h1, fullH] = window(oh, strideH, padTop, kH, H, geom.padBottom);
        for (let ow = 0; ow < outW; ow++) {
          const [w0, w1, fullW] = window(ow, strideW, padLeft, kW, W, geom.padRight);
          let s = 0;
          for (let h = h0; h < h1; h++) {
            for (let v = w0; v < w1; v++) s += xd[xp + h * xs2 + v * xs3]!;
          }
          const count = geom.countPadding ? fullH * fullW : (h1 - h0) * (w1 - w0);
          od[op + oh * os2 + ow * os3] = s / count;
        }
      }
    }
  }
  return out;
}

/**
 * Average pooling backward (overwrites dx): each dy[n,c,oh,ow] / count is added to every input
 * of its window (the derivative of a mean is 1/count for each term).
 * @param dx shape [N, C, H, W]; @param dy [N, C, outH, outW]
 */
export function avgPool2dBackward(dx: Tensor, dy: Tensor, geom: PoolGeometry): Tensor {
  checkPoolShapes(geom, dx, dy);
  if (isPairTiling(geom) && onKernel(dx, dy)) {
    avgPool2x2BackwardWasm(dx, dy, geom);
    return dx;
  }
  const { N, C, H, W, kH, kW, outH, outW, strideH, strideW, padTop, padLeft } = geom;
  const [xs0, xs1, xs2, xs3] = dx.stride as [number, number, number, number];
  const [os0, os1, os2, os3] = dy.stride as [number, number, number, number];
  const dd = dx.data;
  const gd = dy.data;
  zeroImage(dx, geom);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const xp = dx.offset + n * xs0 + c * xs1;
      const op = dy.offset + n * os0 + c * os1;
      for (let oh = 0; oh < outH; oh++) {
        const [h0, h1, fullH] = window(oh, strideH, padTop, kH, H, geom.padBottom);
        for (let ow = 0; ow < outW; ow++) {
          const [w0, w1, fullW] = window(ow, strideW, padLeft, kW, W, geom.padRight);
          const count = geom.countPadding ? fullH * fullW : (h1 - h0) * (w1 - w0);
          const g = gd[op + oh * os2 + ow * os3]! / count;
          for (let h = h0; h < h1; h++) {
            for (let v = w0; v < w1; v++) dd[xp + h * xs2 + v * xs3] += g;
          }
        }
      }
    }
  }
  return dx;
}

/** Naive max pooling forward (.get/.set), same contract as maxPool2dForward. */
export function maxPool2dNaiveForward(
  out: Tensor,
  argmax: Int32Array,
  x: Tensor,
  geom: PoolGeometry,
): Tensor {
  checkPoolShapes(geom, x, out, argmax);
  const { N, C, H, W, outH, outW } = geom;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let oh = 0; oh < outH; oh++) {
        for (let ow = 0; ow < outW; ow++) {
          let best = -Infinity;
          let at = -1;
          for (let i = 0; i < geom.kH; i++) {
            const h = oh * geom.strideH - geom.padTop + i;
            if (h < 0 || h >= H) continue;
            for (let j = 0; j < geom.kW; j++) {
              const v = ow * geom.strideW - geom.padLeft + j;
              if (v < 0 || v >= W) continue;
              if (at < 0 || x.get(n, c, h, v) > best) {
                best = x.get(n, c, h, v);
                at = h * W + v;
              }
            }
          }
          out.set(n, c, oh, ow, best);
          argmax[((n * C + c) * outH + oh) * outW + ow] = at;
        }
      }
    }
  }
  return out;
}

/** Naive max pooling backward (.get/.set), same contract as maxPool2dBackward. */
export function maxPool2dNaiveBackward(
  dx: Tensor,
  dy: Tensor,
  argmax: Int32Array,
  geom: PoolGeometry,
): Tensor {
  checkPoolShapes(geom, dx, dy, argmax);
  const { N, C, H, W, outH, outW } = geom;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let h = 0; h < H; h++) for (let v = 0; v < W; v++) dx.set(n, c, h, v, 0);
      for (let oh = 0; oh < outH; oh++) {
        for (let ow = 0; ow < outW; ow++) {
          const at = argmax[((n * C + c) * outH + oh) * outW + ow]!;
          const h = Math.floor(at / W);
          const v = at % W;
          dx.set(n, c, h, v, dx.get(n, c, h, v) + dy.get(n, c, oh, ow));
        }
      }
    }
  }
  return dx;
}

// The divisor of window (oh, ow) for average pooling.
function naiveCount(geom: PoolGeometry, oh: number, ow: number): number {
  let count = 0;
  for (let i = 0; i < geom.kH; i++) {
    const h = oh * geom.strideH - geom.padTop + i;
    if (h >= geom.H + geom.padBottom) continue; // beyond the padding (ceil mode): never counted
    for (let j = 0; j < geom.kW; j++) {
      const v = ow * geom.strideW - geom.padLeft + j;
      if (v >= geom.W + geom.padRight) continue;
      const inside = h >= 0 && h < geom.H && v >= 0 && v < geom.W;
      if (inside || geom.countPadding) count++;
    }
  }
  return count;
}

/** Naive average pooling forward (.get/.set), same contract as avgPool2dForward. */
export function avgPool2dNaiveForward(out: Tensor, x: Tensor, geom: PoolGeometry): Tensor {
  checkPoolShapes(geom, x, out);
  const { N, C, H, W, outH, outW } = geom;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let oh = 0; oh < outH; oh++) {
        for (let ow = 0; ow < outW; ow++) {
          let s = 0;
          for (let i = 0; i < geom.kH; i++) {
            const h = oh * geom.strideH - geom.padTop + i;
            if (h < 0 || h >= H) continue;
            for (let j = 0; j < geom.kW; j++) {
              const v = ow * geom.strideW - geom.padLeft + j;
              if (v >= 0 && v < W) s += x.get(n, c, h, v);
            }
          }
          out.set(n, c, oh, ow, s / naiveCount(geom, oh, ow));
        }
      }
    }
  }
  return out;
}

/** Naive average pooling backward (.get/.set), same contract as avgPool2dBackward. */
export function avgPool2dNaiveBackward(dx: Tensor, dy: Tensor, geom: PoolGeometry): Tensor {
  checkPoolShapes(geom, dx, dy);
  const { N, C, H, W, outH, outW } = geom;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let h = 0; h < H; h++) for (let v = 0; v < W; v++) dx.set(n, c, h, v, 0);
      for (let oh = 0; oh < outH; oh++) {
        for (let ow = 0; ow < outW; ow++) {
          const g = dy.get(n, c, oh, ow) / naiveCount(geom, oh, ow);
          for (let i = 0; i < geom.kH; i++) {
            const h = oh * geom.strideH - geom.padTop + i;
            if (h < 0 || h >= H) continue;
            for (let j = 0; j < geom.kW; j++) {
              const v = ow * geom.strideW - geom.padLeft + j;
              if (v >= 0 && v < W) dx.set(n, c, h, v, dx.get(n, c, h, v) + g);
            }
          }
        }
      }
    }
  }
  return dx;
}

/** Global average pooling: out[n,c,0,0] = mean over h, w of x[n,c,h,w]. @param out [N, C, 1, 1]; @param x [N, C, H, W] */
export function globalAvgPool2dForward(out: Tensor, x: Tensor): Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  assertShape(out, [N, C, 1, 1], 'globalAvgPool2d output [N, C, 1, 1]');
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let h = 0; h < H; h++) for (let v = 0; v < W; v++) s += x.get(n, c, h, v);
      out.set(n, c, 0, 0, s / (H * W));
    }
  }
  return out;
}

/** Global average pooling backward (overwrites dx): dx[n,c,h,w] = dy[n,c,0,0] / (H·W). @param dx [N, C, H, W]; @param dy [N, C, 1, 1] */
export function globalAvgPool2dBackward(dx: Tensor, dy: Tensor): Tensor {
  const [N, C, H, W] = dx.shape as [number, number, number, number];
  assertShape(dy, [N, C, 1, 1], 'globalAvgPool2d dy [N, C, 1, 1]');
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const g = dy.get(n, c, 0, 0) / (H * W);
      for (let h = 0; h < H; h++) for (let v = 0; v < W; v++) dx.set(n, c, h, v, g);
    }
  }
  return dx;
}
