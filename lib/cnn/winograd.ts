// Winograd's minimal filtering algorithm F(2×2, 3×3) for 3×3, stride-1 convolutions, as in
// Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (CVPR 2016, arXiv 2015).
// The output is cut into 2×2 tiles; each needs a 4×4 patch d of the (zero-padded) input, and the
// patches of neighbouring tiles overlap by 2. For one filter g and one patch the paper's eq. (8)
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
// gives the 2×2 outputs with 16 multiplies instead of the 36 of direct convolution (2.25× fewer).
// Summing over input channels before the output transform (§4.1) turns the 16 element-wise
// products into 16 independent matrix products, one per position ξ of the 4×4 tile:
//   U[ξ] (F × C) = weights transformed, V[ξ] (C × tiles) = patches transformed,
//   M[ξ] = U[ξ] · V[ξ]  (F × tiles),  then  Y = Aᵀ m A  for each tile's 16 values m.
// This file is the readable reference (any float type, any views); conv2d-winograd-wasm.ts runs
// the same steps in the WebAssembly kernel's memory. Callers check winogradEligible first.
import { gemmStrided, type FloatArray, type Tensor } from '../core/index.js';
import { checkConvShapes } from './conv2d-shapes.js';
import { type ConvGeometry } from './geometry.js';

/** The input transform Bᵀ of F(2×2, 3×3) (Lavin & Gray, eq. 6). */
export const BT: readonly (readonly number[])[] = [
  [1, 0, -1, 0],
  [0, 1, 1, 0],
  [0, -1, 1, 0],
  [0, 1, 0, -1],
];

/** The filter transform G of F(2×2, 3×3) (Lavin & Gray, eq. 6). */
export const G: readonly (readonly number[])[] = [
  [1, 0, 0],
  [1 / 2, 1 / 2, 1 / 2],
  [1 / 2, -1 / 2, 1 / 2],
  [0, 0, 1],
];

/** The output transform Aᵀ of F(2×2, 3×3) (Lavin & Gray, eq. 6). */
export const AT: readonly (readonly number[])[] = [
  [1, 1, 1, 0],
  [0, 1, -1, -1],
];

type Small = readonly (readonly number[])[];

// The product of two small dense matrices.
function mul(a: Small, b: Small): number[][] {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, aik, k) => s + aik * b[k]![j]!, 0)));
}

// The transpose of a small dense matrix.
function tr(a: Small): number[][] {
  return a[0]!.map((_, j) => a.map((row) => row[j]!));
}

const B = tr(BT);
const GT = tr(G);
const A = tr(AT);

/** True when the conv is one F(2×2, 3×3) handles: 3×3 kernel, stride 1, dilation 1 (any pad). */
export function winogradEligible(geom: ConvGeometry): boolean {
  return (
    geom.kH === 3 &&
    geom.kW === 3 &&
    geom.strideH === 1 &&
    geom.strideW === 1 &&
    geom.dilationH === 1 &&
    geom.dilationW === 1
  );
}

/** Number of 2×2 output tiles down and across: ⌈outH / 2⌉ × ⌈outW / 2⌉ (the last may be partial). */
export function winogradTiles(geom: ConvGeometry): { tilesH: number; tilesW: number } {
  return { tilesH: Math.ceil(geom.outH / 2), tilesW: Math.ceil(geom.outW / 2) };
}

/**
 * The geometry of backward-to-input as a forward conv: for stride 1, dx = conv(dy, w′) with
 * w′[c, f] = rot180(w[f, c]) and padding 2 − pad on each side (a pad above 2 becomes a crop,
 * which the transforms handle as a negative pad). Maps dy [N, F, outH, outW] to dx [N, C, H, W].
 */
export function transposedGeometry(geom: ConvGeometry): ConvGeometry {
  const { N, C, H, W, F, outH, outW, padTop, padBottom, padLeft, padRight } = geom;
  return Object.freeze({
    N,
    C: F,
    H: outH,
    W: outW,
    F: C,
    kH: 3,
    kW: 3,
    outH: H,
    outW: W,
    strideH: 1,
    strideW: 1,
    padTop: 2 - padTop,
    padBottom: 2 - padBottom,
    padLeft: 2 - padLeft,
    padRight: 2 - padRight,
    dilationH: 1,
    dilationW: 1,
  });
}

/** w′ [C, F, 3, 3] with w′[c, f] = rot180(w[f, c]): a view of w, nothing copied. */
export function transposedWeights(w: Tensor): Tensor {
  return w.transpose(1, 0, 2, 3).step(1, 1, -1, -1) as Tensor;
}

function storage(like: FloatArray, length: number): FloatArray {
  return like instanceof Float32Array ? new Float32Array(length) : new Float64Array(length);
}

/** Weight transform: U[ξ][f][c] = (G · w[f, c] · Gᵀ)[ξ], 16 planes of F × C, ξ = 4·row + column. */
export function winogradWeights(w: Tensor, geom: ConvGeometry): FloatArray {
  const { F, C } = geom;
  const U = storage(w.data, 16 * F * C);
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < C; c++) {
      const g = [0, 1, 2].map((i) => [0, 1, 2].map((j) => w.get(f, c, i, j)));
      const u = mul(mul(G, g), GT);
      for (let xi = 0; xi < 16; xi++) U[(xi * F + f) * C + c] = u[xi >> 2]![xi & 3]!;
    }
  }
  return U;
}

/**
 * Input transform: V[ξ][c][t] = (Bᵀ · d · B)[ξ] for the 4×4 patch d of x[n, c] under tile t,
 * t = (n·tilesH + th)·tilesW + tw; the patch starts at row 2·th − padTop, column 2·tw − padLeft
 * and reads 0 outside x. 16 planes of C × T, T = N·tilesH·tilesW.
 */
export function winogradInputs(x: Tensor, geom: ConvGeometry): FloatArray {
  const { N, C, H, W, padTop, padLeft } = geom;
  const { tilesH, tilesW } = winogradTiles(geom);
  const T = N * tilesH * tilesW;
  const V = storage(x.data, 16 * C * T);
  const at = (n: number, c: number, h: number, v: number): number =>
    h >= 0 && h < H && v >= 0 && v < W ? x.get(n, c, h, v) : 0;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let th = 0; th < tilesH; th++) {
        for (let tw = 0; tw < tilesW; tw++) {
          const h0 = 2 * th - padTop;
          const v0 = 2 * tw - padLeft;
          const d = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => at(n, c, h0 + i, v0 + j)));
          const v = mul(mul(BT, d), B);
          const t = (n * tilesH + th) * tilesW + tw;
          for (let xi = 0; xi < 16; xi++) V[(xi * C + c) * T + t] = v[xi >> 2]![xi & 3]!;
        }
      }
    }
  }
  return V;
}

/**
 * Output transform: out[n, f, 2·th + i, 2·tw + j] = (Aᵀ · m · A)[i][j] + b[f] for tile t's
 * m[ξ] = M[ξ][f][t]; the halves of the last tiles that fall outside an odd output are dropped.
 */
export function winogradOutputs(
  out: Tensor,
  M: FloatArray,
  b: Tensor | null,
  geom: ConvGeometry,
): void {
  const { N, F, outH, outW } = geom;
  const { tilesH, tilesW } = winogradTiles(geom);
  const T = N * tilesH * tilesW;
  for (let n = 0; n < N; n++) {
    for (let f = 0; f < F; f++) {
      const bias = b === null ? 0 : b.get(f);
      for (let th = 0; th < tilesH; th++) {
        for (let tw = 0; tw < tilesW; tw++) {
          const t = (n * tilesH + th) * tilesW + tw;
          const m = [0, 1, 2, 3].map((i) =>
            [0, 1, 2, 3].map((j) => M[((4 * i + j) * F + f) * T + t]!),
          );
          const y = mul(mul(AT, m), A);
          for (let i = 0; i < 2 && 2 * th + i < outH; i++) {
            for (let j = 0; j < 2 && 2 * tw + j < outW; j++) {
              out.set(n, f, 2 * th + i, 2 * tw + j, y[i]![j]! + bias);
            }
          }
        }
      }
    }
  }
}

/**
 * Conv forward by Winograd F(2×2, 3×3) (reference): U = G g Gᵀ, V = Bᵀ d B, the 16 products
 * M[ξ] = U[ξ]·V[ξ], then Y = Aᵀ m A + b. Same meaning as conv2dNaiveForward; overwrites out.
 * @param out shape [N, F, outH, outW]; @param x [N, C, H, W]; @param w [F, C, 3, 3]; @param b [F] or null
 */
export function conv2dWinogradForward(
  out: Tensor,
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  geom: ConvGeometry,
): Tensor {
  checkConvShapes(geom, { out, x, w, b });
  if (!winogradEligible(geom)) {
    throw new RangeError(
      `conv2dWinogradForward: needs a 3×3 kernel, stride 1, dilation 1; got ${geom.kH}×${geom.kW}, ` +
        `stride ${geom.strideH}×${geom.strideW}, dilation ${geom.dilationH}×${geom.dilationW}`,
    );
  }
  const { N, C, F } = geom;
  const { tilesH, tilesW } = winogradTiles(geom);
  const T = N * tilesH * tilesW;
  const U = winogradWeights(w, geom);
  const V = winogradInputs(x, geom);
  const M = storage(x.data, 16 * F * T);
  // The 16 independent products of §4.1: M[ξ] (F × T) = U[ξ] (F × C) · V[ξ] (C × T).
  for (let xi = 0; xi < 16; xi++) {
    gemmStrided(F, T, C, 1, U, xi * F * C, C, 1, V, xi * C * T, T, 1, 0, M, xi * F * T, T, 1);
  }
  winogradOutputs(out, M, b, geom);
  return out;
}

/**
 * Conv backward to the input by Winograd (reference; overwrites dx): the forward conv of dy with
 * the transposed, 180°-rotated filters and padding 2 − pad (transposedGeometry).
 * @param dx shape [N, C, H, W]; @param dy [N, F, outH, outW]; @param w [F, C, 3, 3]
 */
export function conv2dWinogradBackwardInput(
  dx: Tensor,
  dy: Tensor,
  w: Tensor,
  geom: ConvGeometry,
): Tensor {
  checkConvShapes(geom, { x: dx, out: dy, w });
  return conv2dWinogradForward(dx, dy, transposedWeights(w), null, transposedGeometry(geom));
}
