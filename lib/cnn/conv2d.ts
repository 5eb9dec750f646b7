// The fast convolution: im2col turns each image's receptive fields into the columns of a matrix,
// and the three conv passes become three matrix products (forward W·cols, backward-input Wᵀ·dY
// then col2im, backward-weights dY·colsᵀ). Same signatures as conv2d-naive.ts, tested equal.
// For float32 on WebAssembly SIMD the same three passes run with im2col, the GEMM and col2im all
// inside the kernel's memory (conv2d-wasm.ts); the code below is their readable reference.
// 3×3 stride-1 convs (all of VGG's) may instead take Winograd F(2×2, 3×3) forward and backward to
// the input (winograd.ts, conv2d-winograd-wasm.ts; see setConvAlgorithm).
import {
  gemmStrided,
  gemmWasmStrided,
  wasmSimdSupported,
  type FloatArray,
  type Tensor,
} from '../core/index.js';
import { checkConvShapes } from './conv2d-shapes.js';
import {
  conv2dBackwardInputWasm,
  conv2dBackwardWeightsWasm,
  conv2dForwardWasm,
} from './conv2d-wasm.js';
import {
  conv2dWinogradBackwardInputWasm,
  conv2dWinogradForwardWasm,
} from './conv2d-winograd-wasm.js';
import { type ConvGeometry } from './geometry.js';
import { col2im, im2col } from './im2col.js';
import {
  conv2dWinogradBackwardInput,
  conv2dWinogradForward,
  winogradEligible,
  winogradTiles,
} from './winograd.js';

// Every matrix product in this file goes through this one name. By default it is the
// WebAssembly SIMD GEMM (float32; other cases fall back to the TypeScript one inside it);
// setConvGemm('typescript') selects lib/core's plain TypeScript gemmStrided (same signature)
// and turns off the in-kernel-memory path, so everything runs as the TypeScript below.
let matmul = gemmWasmStrided;
let tier: ConvGemm = 'wasm';

/** The GEMM tier under the fast conv kernels. */
export type ConvGemm = 'wasm' | 'typescript';

/** Choose the GEMM the fast conv kernels call: 'wasm' (default) or plain 'typescript'. */
export function setConvGemm(kind: ConvGemm): void {
  tier = kind;
  matmul = kind === 'wasm' ? gemmWasmStrided : gemmStrided;
}

/** How forward and backward-to-input compute a 3×3, stride-1 conv (backward-to-weights is always im2col). */
export type ConvAlgorithm = 'auto' | 'im2col' | 'winograd';

let algorithm: ConvAlgorithm = 'auto';

/**
 * Choose the algorithm of eligible convs (3×3, stride 1, dilation 1): 'auto' (default) takes
 * Winograd F(2×2, 3×3) for float32 on the WebAssembly kernel where it measured faster, 'im2col'
 * never, 'winograd' always (float64 or the TypeScript tier then run the reference in winograd.ts).
 */
export function setConvAlgorithm(kind: ConvAlgorithm): void {
  algorithm = kind;
}

// Where 'auto' takes Winograd, from A/B runs against im2col (speedups, medians): it lost on few
// image channels C (the 3-channel first layer at 256 px: 0.8–1.0× forward, 0.7–0.8× backward on
// one thread, 0.7× and 0.5× on two; 4 → 64: 0.8×) and on few tiles, where transforming the F·C
// filters outweighs the products (512 → 512 at 4×4: 0.5×, at 8×8: 1.0–1.2×); it won on every
// other VGG layer at 256 px (1.7–2.3× on one thread, 1.2–2.3× on two) and 1.1–1.8× on small
// nets with C ≥ 8.
const WINOGRAD_MIN_CHANNELS = 8;
const WINOGRAD_MIN_TILES = 32;

// Winograd for this call? `kernel` says whether the call runs on the in-kernel-memory path.
function winograd(geom: ConvGeometry, kernel: boolean): boolean {
  if (algorithm === 'im2col' || !winogradEligible(geom)) return false;
  if (algorithm === 'winograd') return true;
  const { tilesH, tilesW } = winogradTiles(geom);
  return (
    kernel && geom.C >= WINOGRAD_MIN_CHANNELS && geom.N * tilesH * tilesW >= WINOGRAD_MIN_TILES
  );
}

// The in-kernel-memory path takes float32 only: float64 keeps its precision on the TypeScript path.
function onKernel(...ts: (Tensor | null)[]): boolean {
  if (tier !== 'wasm' || !wasmSimdSupported) return false;
  return ts.every((t) => t === null || t.data instanceof Float32Array);
}

// Module-level scratch, grown on demand and reused by every call, so the hot path allocates
// nothing: `cols` for im2col, `mat` for a tensor slice whose strides do not merge into a matrix.
const scratch = {
  float32: { cols: new Float32Array(0), mat: new Float32Array(0), w: new Float32Array(0) },
  float64: { cols: new Float64Array(0), mat: new Float64Array(0), w: new Float64Array(0) },
};
type Slot = 'cols' | 'mat' | 'w';

function buffer(like: FloatArray, slot: Slot, length: number): FloatArray {
  if (like instanceof Float32Array) {
    const s = scratch.float32;
    if (s[slot].length < length) s[slot] = new Float32Array(length);
    return s[slot];
  }
  const s = scratch.float64;
  if (s[slot].length < length) s[slot] = new Float64Array(length);
  return s[slot];
}

/** A 2-D strided window on raw storage: element (r, c) is data[off + r·rs + c·cs]. */
interface Matrix {
  data: FloatArray;
  off: number;
  rs: number;
  cs: number;
}

// The stride of axes 1–3 of a 4-D tensor flattened into one axis, or null when those axes are
// not evenly spaced (then the slice must be copied). Axes of size 1 may have any stride.
function mergedStride(t: Tensor): number | null {
  let cs: number | null = null;
  let span = 1;
  for (let d = 3; d >= 1; d--) {
    const size = t.shape[d]!;
    if (size === 1) continue;
    if (cs === null) cs = t.stride[d]!;
    else if (t.stride[d] !== span * cs) return null;
    span *= size;
  }
  return cs ?? 1;
}

// Slice n of a 4-D tensor [N, A, B, D] as a matrix [A, B·D] (axis 1 keeps its own stride), when
// axes 2 and 3 merge; used for out, dy ([N, F, outH, outW]) and w, dw ([F, C, kH, kW]).
function sliceMatrix(t: Tensor, n: number): Matrix | null {
  const [, , B, D] = t.shape as [number, number, number, number];
  const [s0, s1, s2, s3] = t.stride as [number, number, number, number];
  let cs = 1;
  if (D > 1) {
    cs = s3;
    if (B > 1 && s2 !== D * s3) return null;
  } else if (B > 1) cs = s2;
  return { data: t.data, off: t.offset + n * s0, rs: s1, cs };
}

// Copy slice n of [N, A, B, D] into row-major [A, B·D] storage at dst[dstOff…].
function gatherSlice(dst: FloatArray, dstOff: number, t: Tensor, n: number): void {
  const [, A, B, D] = t.shape as [number, number, number, number];
  const [s0, s1, s2, s3] = t.stride as [number, number, number, number];
  const src = t.data;
  let p = dstOff;
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < B; b++) {
      let q = t.offset + n * s0 + a * s1 + b * s2;
      for (let d = 0; d < D; d++, q += s3) dst[p++] = src[q]!;
    }
  }
}

// Copy (or add) row-major [A, B·D] storage src[srcOff…] into slice n of [N, A, B, D].
function scatterSlice(t: Tensor, n: number, src: FloatArray, srcOff: number, add: boolean): void {
  const [, A, B, D] = t.shape as [number, number, number, number];
  const [s0, s1, s2, s3] = t.stride as [number, number, number, number];
  const dst = t.data;
  let p = srcOff;
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < B; b++) {
      let q = t.offset + n * s0 + a * s1 + b * s2;
      if (add) for (let d = 0; d < D; d++, q += s3) dst[q] += src[p++]!;
      else for (let d = 0; d < D; d++, q += s3) dst[q] = src[p++]!;
    }
  }
}

// The weights [F, C, kH, kW] as a matrix [F, C·kH·kW]: a view when axes 1–3 are evenly spaced,
// otherwise a row-major copy in scratch (row f is the slice w[f] flattened).
function weightMatrix(w: Tensor, geom: ConvGeometry): Matrix {
  const cs = mergedStride(w);
  if (cs !== null) return { data: w.data, off: w.offset, rs: w.stride[0]!, cs };
  const K = geom.C * geom.kH * geom.kW;
  const copy = buffer(w.data, 'w', geom.F * K);
  for (let f = 0; f < geom.F; f++) gatherSlice(copy, f * K, w, f);
  return { data: copy, off: 0, rs: K, cs: 1 };
}

// Images per matrix product: small images are batched side by side in one cols matrix
// [C·kH·kW, nb·outH·outW], so the GEMM gets wide enough to run at speed (a LeNet layer on one
// 8×8 map is far too small); capped so cols stays near 4M elements.
const COLS_BUDGET = 1 << 22;
function imagesPerProduct(N: number, K: number, P: number): number {
  return Math.max(1, Math.min(N, Math.floor(COLS_BUDGET / (K * P))));
}

// Images n0 … n0 + nb − 1 of t [N, F, outH, outW] as one row-major matrix [F, nb·P] in scratch:
// row f holds dy[n0, f, :], dy[n0 + 1, f, :], … side by side (the column order of cols).
function gatherImages(t: Tensor, n0: number, nb: number, P: number): Matrix {
  const [, F, B, D] = t.shape as [number, number, number, number];
  const [s0, s1, s2, s3] = t.stride as [number, number, number, number];
  const L = nb * P;
  const dst = buffer(t.data, 'mat', F * L);
  const src = t.data;
  for (let f = 0; f < F; f++) {
    for (let i = 0; i < nb; i++) {
      let p = f * L + i * P;
      for (let b = 0; b < B; b++) {
        let q = t.offset + (n0 + i) * s0 + f * s1 + b * s2;
        for (let d = 0; d < D; d++, q += s3) dst[p++] = src[q]!;
      }
    }
  }
  return { data: dst, off: 0, rs: L, cs: 1 };
}

// The inverse: row-major [F, nb·P] in `src` into images n0 … n0 + nb − 1 of t.
function scatterImages(t: Tensor, n0: number, nb: number, P: number, src: FloatArray): void {
  const [, F, B, D] = t.shape as [number, number, number, number];
  const [s0, s1, s2, s3] = t.stride as [number, number, number, number];
  const L = nb * P;
  const dst = t.data;
  for (let f = 0; f < F; f++) {
    for (let i = 0; i < nb; i++) {
      let p = f * L + i * P;
      for (let b = 0; b < B; b++) {
        let q = t.offset + (n0 + i) * s0 + f * s1 + b * s2;
        for (let d = 0; d < D; d++, q += s3) dst[q] = src[p++]!;
      }
    }
  }
}

/**
 * Fast conv forward (im2col + GEMM): out[n] = W·cols(x[n]) + b, where W is w seen as
 * `[F, C·kH·kW]` and cols is `[C·kH·kW, outH·outW]` (im2col.ts); several small images share one
 * product. Overwrites out.
 * @param out shape [N, F, outH, outW]; @param x [N, C, H, W]; @param w [F, C, kH, kW]; @param b [F] or null
 * @returns out, with outH = ⌊(H + padTop + padBottom − dilationH·(kH − 1) − 1) / strideH⌋ + 1
 */
export function conv2dForward(
  out: Tensor,
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  geom: ConvGeometry,
): Tensor {
  checkConvShapes(geom, { out, x, w, b });
  const { N, C, F, kH, kW, outH, outW } = geom;
  const K = C * kH * kW;
  const P = outH * outW;
  const chunk = imagesPerProduct(N, K, P);
  const kernel = onKernel(out, x, w, b);
  if (winograd(geom, kernel)) {
    if (kernel) conv2dWinogradForwardWasm(out, x, w, b, geom);
    else conv2dWinogradForward(out, x, w, b, geom);
    return out;
  }
  if (kernel) {
    conv2dForwardWasm(out, x, w, b, geom, chunk);
    return out;
  }
  const W = weightMatrix(w, geom);
  const cols = buffer(x.data, 'cols', K * P * chunk);
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const nb = Math.min(chunk, N - n0);
    const L = nb * P;
    for (let i = 0; i < nb; i++) im2col(cols, x, n0 + i, geom, L, i * P);
    // One image whose output slice is a strided matrix is written in place; otherwise via scratch.
    const direct = nb === 1 ? sliceMatrix(out, n0) : null;
    const y = direct ?? { data: buffer(out.data, 'mat', F * L), off: 0, rs: L, cs: 1 };
    // Start each row of the product at its bias (β = 1 then adds W·cols on top).
    for (let f = 0; f < F; f++) {
      const bf = b === null ? 0 : b.data[b.offset + f * b.stride[0]!]!;
      let q = y.off + f * y.rs;
      for (let p = 0; p < L; p++, q += y.cs) y.data[q] = bf;
    }
    matmul(F, L, K, 1, W.data, W.off, W.rs, W.cs, cols, 0, L, 1, 1, y.data, y.off, y.rs, y.cs);
    if (direct === null) scatterImages(out, n0, nb, P, y.data);
  }
  return out;
}

/**
 * Fast conv backward to the input (overwrites dx): dcols = Wᵀ·dy (`[C·kH·kW, F]` times
 * `[F, outH·outW]` per image), then col2im adds each column back onto the pixels it came from.
 * This is the "180°-flipped filter over the stride-spread error map" of the tutorial, as one product.
 * @param dx shape [N, C, H, W]; @param dy [N, F, outH, outW]; @param w [F, C, kH, kW]
 */
export function conv2dBackwardInput(dx: Tensor, dy: Tensor, w: Tensor, geom: ConvGeometry): Tensor {
  checkConvShapes(geom, { x: dx, out: dy, w });
  const { N, C, F, kH, kW, outH, outW } = geom;
  const K = C * kH * kW;
  const P = outH * outW;
  const chunk = imagesPerProduct(N, K, P);
  const kernel = onKernel(dx, dy, w);
  if (winograd(geom, kernel)) {
    if (kernel) conv2dWinogradBackwardInputWasm(dx, dy, w, geom);
    else conv2dWinogradBackwardInput(dx, dy, w, geom);
    return dx;
  }
  if (kernel) {
    conv2dBackwardInputWasm(dx, dy, w, geom, chunk);
    return dx;
  }
  const W = weightMatrix(w, geom);
  const dcols = buffer(dx.data, 'cols', K * P * chunk);
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const nb = Math.min(chunk, N - n0);
    const L = nb * P;
    const D = (nb === 1 ? sliceMatrix(dy, n0) : null) ?? gatherImages(dy, n0, nb, P);
    matmul(K, L, F, 1, W.data, W.off, W.cs, W.rs, D.data, D.off, D.rs, D.cs, 0, dcols, 0, L, 1);
    for (let i = 0; i < nb; i++) col2im(dx, n0 + i, dcols, geom, L, i * P);
  }
  return dx;
}

/**
 * Fast conv backward to the weights and bias; ACCUMULATES (dw += Σ_n dy[n]·cols(x[n])ᵀ,
 * db += Σ_n Σ_p dy[n, :, p]), like gemm with β = 1, so call zeroGrad first.
 * @param dw shape [F, C, kH, kW]; @param db [F] or null; @param dy [N, F, outH, outW]; @param x [N, C, H, W]
 */
export function conv2dBackwardWeights(
  dw: Tensor,
  db: Tensor | null,
  dy: Tensor,
  x: Tensor,
  geom: ConvGeometry,
): Tensor {
  checkConvShapes(geom, { out: dy, x, w: dw, b: db });
  const { N, C, F, kH, kW, outH, outW } = geom;
  const K = C * kH * kW;
  const P = outH * outW;
  const chunk = imagesPerProduct(N, K, P);
  if (onKernel(dw, db, dy, x)) {
    conv2dBackwardWeightsWasm(dw, db, dy, x, geom, chunk);
    return dw;
  }
  // A dw whose axes 1–3 do not merge collects the sum in scratch first, then adds it in once.
  const cs = mergedStride(dw);
  const G: Matrix =
    cs !== null
      ? { data: dw.data, off: dw.offset, rs: dw.stride[0]!, cs }
      : { data: buffer(dw.data, 'w', F * K).fill(0, 0, F * K), off: 0, rs: K, cs: 1 };
  const cols = buffer(x.data, 'cols', K * P * chunk);
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const nb = Math.min(chunk, N - n0);
    const L = nb * P;
    for (let i = 0; i < nb; i++) im2col(cols, x, n0 + i, geom, L, i * P);
    const D = (nb === 1 ? sliceMatrix(dy, n0) : null) ?? gatherImages(dy, n0, nb, P);
    // B = colsᵀ is cols read with swapped strides: [L, K] with row stride 1, column stride L.
    matmul(F, K, L, 1, D.data, D.off, D.rs, D.cs, cols, 0, 1, L, 1, G.data, G.off, G.rs, G.cs);
    if (db !== null) {
      for (let f = 0; f < F; f++) {
        let s = 0;
        let q = D.off + f * D.rs;
        for (let p = 0; p < L; p++, q += D.cs) s += D.data[q]!;
        db.data[db.offset + f * db.stride[0]!] += s;
      }
    }
  }
  if (cs === null) for (let f = 0; f < F; f++) scatterSlice(dw, f, G.data, f * K, true);
  return dw;
}
