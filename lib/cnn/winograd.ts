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
// The same steps with 4×4 output tiles and 6×6 patches (F(4×4, 3×3), the paper's eq. 7) take 36
// multiplies per 16 outputs, 4× fewer than direct convolution: every function here takes the
// scheme (F2x2 or F4x4; F2x2 when omitted).
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

/** The input transform Bᵀ of F(4×4, 3×3) (Lavin & Gray, eq. 7; interpolation points 0, ±1, ±2). */
export const BT4: Small = [
  [4, 0, -5, 0, 1, 0],
  [0, -4, -4, 1, 1, 0],
  [0, 4, -4, -1, 1, 0],
  [0, -2, -1, 2, 1, 0],
  [0, 2, -1, -2, 1, 0],
  [0, 4, 0, -5, 0, 1],
];

/** The filter transform G of F(4×4, 3×3) (Lavin & Gray, eq. 7). */
export const G4: Small = [
  [1 / 4, 0, 0],
  [-1 / 6, -1 / 6, -1 / 6],
  [-1 / 6, 1 / 6, -1 / 6],
  [1 / 24, 1 / 12, 1 / 6],
  [1 / 24, -1 / 12, 1 / 6],
  [0, 0, 1],
];

/** The output transform Aᵀ of F(4×4, 3×3) (Lavin & Gray, eq. 7). */
export const AT4: Small = [
  [1, 1, 1, 1, 1, 0],
  [0, 1, -1, 2, -2, 0],
  [0, 1, 1, 4, 4, 0],
  [0, 1, -1, 8, -8, 1],
];

/**
 * A Winograd algorithm F(m×m, 3×3): m×m output tiles, each from an α×α input patch (α = m + 2)
 * through α² element-wise products, so α² products of the §4.1 form per conv. F(2×2, 3×3) does
 * 16 multiplies per 4 outputs (2.25× fewer than direct convolution), F(4×4, 3×3) 36 per 16 (4×
 * fewer), with larger transforms and rounding errors (their entries reach 8 and 1/24).
 */
export interface WinogradScheme {
  /** Output tile side m. */
  readonly m: 2 | 4;
  readonly BT: Small;
  readonly G: Small;
  readonly AT: Small;
}

/** F(2×2, 3×3), the paper's worked example and this chapter's default. */
export const F2x2: WinogradScheme = { m: 2, BT, G, AT };

/** F(4×4, 3×3). */
export const F4x4: WinogradScheme = { m: 4, BT: BT4, G: G4, AT: AT4 };

// The product of two small dense matrices.
function mul(a: Small, b: Small): number[][] {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, aik, k) => s + aik * b[k]![j]!, 0)));
}

// The transpose of a small dense matrix.
function tr(a: Small): number[][] {
  return a[0]!.map((_, j) => a.map((row) => row[j]!));
}

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

/** Number of m×m output tiles down and across: ⌈outH / m⌉ × ⌈outW / m⌉ (the last may be partial). */
export function winogradTiles(geom: ConvGeometry, m = 2): { tilesH: number; tilesW: number } {
  return { tilesH: Math.ceil(geom.outH / m), tilesW: Math.ceil(geom.outW / m) };
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

// 0 … n − 1.
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * Weight transform: U[ξ][f][c] = (G · w[f, c] · Gᵀ)[ξ], α² planes of F × C, ξ = α·row + column
 * (α = m + 2: 16 planes for F(2×2, 3×3), 36 for F(4×4, 3×3)).
 */
export function winogradWeights(w: Tensor, geom: ConvGeometry, s = F2x2): FloatArray {
  const { F, C } = geom;
  const alpha = s.m + 2;
  const U = storage(w.data, alpha * alpha * F * C);
  const GT = tr(s.G);
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < C; c++) {
      const g = range(3).map((i) => range(3).map((j) => w.get(f, c, i, j)));
      const u = mul(mul(s.G, g), GT);
      for (let xi = 0; xi < alpha * alpha; xi++) {
        U[(xi * F + f) * C + c] = u[Math.floor(xi / alpha)]![xi % alpha]!;
      }
    }
  }
  return U;
}

/**
 * Input transform: V[ξ][c][t] = (Bᵀ · d · B)[ξ] for the α×α patch d of x[n, c] under tile t,
 * t = (n·tilesH + th)·tilesW + tw; the patch starts at row m·th − padTop, column m·tw − padLeft
 * (neighbouring patches overlap by 2) and reads 0 outside x. α² planes of C × T, T = N·tilesH·tilesW.
 */
export function winogradInputs(x: Tensor, geom: ConvGeometry, s = F2x2): FloatArray {
  const { N, C, H, W, padTop, padLeft } = geom;
  const { m } = s;
  const alpha = m + 2;
  const { tilesH, tilesW } = winogradTiles(geom, m);
  const T = N * tilesH * tilesW;
  const V = storage(x.data, alpha * alpha * C * T);
  const B = tr(s.BT);
  const at = (n: number, c: number, h: number, v: number): number =>
    h >= 0 && h < H && v >= 0 && v < W ? x.get(n, c, h, v) : 0;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let th = 0; th < tilesH; th++) {
        for (let tw = 0; tw < tilesW; tw++) {
          const h0 = m * th - padTop;
          const v0 = m * tw - padLeft;
          const d = range(alpha).map((i) => range(alpha).map((j) => at(n, c, h0 + i, v0 + j)));
          const v = mul(mul(s.BT, d), B);
          const t = (n * tilesH + th) * tilesW + tw;
          for (let xi = 0; xi < alpha * alpha; xi++) {
            V[(xi * C + c) * T + t] = v[Math.floor(xi / alpha)]![xi % alpha]!;
          }
        }
      }
    }
  }
  return V;
}

/**
 * Output transform: out[n, f, m·th + i, m·tw + j] = (Aᵀ · M_t · A)[i][j] + b[f] for tile t's
 * α² values M[ξ][f][t]; the parts of the last tiles that fall outside the output are dropped.
 */
export function winogradOutputs(
  out: Tensor,
  M: FloatArray,
  b: Tensor | null,
  geom: ConvGeometry,
  s = F2x2,
): void {
  const { N, F, outH, outW } = geom;
  const { m } = s;
  const alpha = m + 2;
  const { tilesH, tilesW } = winogradTiles(geom, m);
  const T = N * tilesH * tilesW;
  const A = tr(s.AT);
  for (let n = 0; n < N; n++) {
    for (let f = 0; f < F; f++) {
      const bias = b === null ? 0 : b.get(f);
      for (let th = 0; th < tilesH; th++) {
        for (let tw = 0; tw < tilesW; tw++) {
          const t = (n * tilesH + th) * tilesW + tw;
          const mt = range(alpha).map((i) =>
            range(alpha).map((j) => M[((alpha * i + j) * F + f) * T + t]!),
          );
          const y = mul(mul(s.AT, mt), A);
          for (let i = 0; i < m && m * th + i < outH; i++) {
            for (let j = 0; j < m && m * tw + j < outW; j++) {
              out.set(n, f, m * th + i, m * tw + j, y[i]![j]! + bias);
            }
          }
        }
      }
    }
  }
}

/**
 * Conv forward by Winograd F(m×m, 3×3) (reference; the scheme `s`, F(2×2, 3×3) by default):
 * U = G g Gᵀ, V = Bᵀ d B, the α² products M[ξ] = U[ξ]·V[ξ], then Y = Aᵀ m A + b. Same meaning
 * as conv2dNaiveForward; overwrites out.
 * @param out shape [N, F, outH, outW]; @param x [N, C, H, W]; @param w [F, C, 3, 3]; @param b [F] or null
 */
export function conv2dWinogradForward(
  out: Tensor,
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  geom: ConvGeometry,
  s = F2x2,
): Tensor {
  checkConvShapes(geom, { out, x, w, b });
  if (!winogradEligible(geom)) {
    throw new RangeError(
      `conv2dWinogradForward: needs a 3×3 kernel, stride 1, dilation 1; got ${geom.kH}×${geom.kW}, ` +
        `stride ${geom.strideH}×${geom.strideW}, dilation ${geom.dilationH}×${geom.dilationW}`,
    );
  }
  const { N, C, F } = geom;
  const { tilesH, tilesW } = winogradTiles(geom, s.m);
  const T = N * tilesH * tilesW;
  const planes = (s.m + 2) ** 2;
  const U = winogradWeights(w, geom, s);
  const V = winogradInputs(x, geom, s);
  const M = storage(x.data, planes * F * T);
  // The α² independent products of §4.1: M[ξ] (F × T) = U[ξ] (F × C) · V[ξ] (C × T).
  for (let xi = 0; xi < planes; xi++) {
    gemmStrided(F, T, C, 1, U, xi * F * C, C, 1, V, xi * C * T, T, 1, 0, M, xi * F * T, T, 1);
  }
  winogradOutputs(out, M, b, geom, s);
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
  s = F2x2,
): Tensor {
  checkConvShapes(geom, { x: dx, out: dy, w });
  return conv2dWinogradForward(dx, dy, transposedWeights(w), null, transposedGeometry(geom), s);
}
