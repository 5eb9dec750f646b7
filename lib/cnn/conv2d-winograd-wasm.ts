// Winograd F(2×2, 3×3) convolution for float32 with everything big inside the WebAssembly
// kernel's memory, the same steps as the reference in winograd.ts: the filters are transformed
// there (U, 16 planes F × C), the input is staged there zero-padded so every 4×4 patch is a plain
// read, transformed (V, 16 planes C × tiles), multiplied by the 16 GEMMs M[ξ] = U[ξ]·V[ξ] (on the
// thread pool when it runs) and transformed back into the output, of which only the output
// leaves kernel memory. A large image is cut into bands of tile rows so that V and M stay small
// enough to live in cache between the transforms and the products. Backward-to-input is the same
// forward with the transposed, rotated filters (transposedGeometry); it reads the staged w
// through strides, so nothing is copied to rotate it.
import {
  channelPassStaged,
  gemmWasmStagedBatch,
  kernelRegions,
  type Tensor,
} from '../core/index.js';
import { type ConvGeometry } from './geometry.js';
import { stageSlices, unstageSlices } from './staging.js';
import { transposedGeometry, winogradTiles } from './winograd.js';

// Floats of V and M together per pass (64 MiB; im2col's column matrix of the same layer is
// larger): a band of tile rows (or a batch of small images) is sized to stay below it. Narrower
// bands measured no faster on one thread, and on two they starve the pool: with 4M floats the
// 16 products of 64 → 64 channels at 256 px are 64 × 2048 × 64 each, too small to split well,
// and Winograd ran 0.99× as fast on two threads as on one; with 16M floats, 1.4×.
const PASS_FLOATS = 1 << 24;

// The 16 planes of U, V and M are spaced one cache line more than they hold: planes a power of
// two apart (U of 512 × 512 filters is 1 MiB) land in the same cache sets, and the transforms,
// which touch all 16 at once, thrashed: the filter transform of 512 × 512 took 42 ms, 3.5 ms once
// shifted apart, and the input and output transforms of 64 × 64 at 256 px 29 ms, then 13 ms.
const planeOf = (floats: number): number => floats + 16;

// One Winograd conv of x by the geometry `geom` (3×3, stride 1), out ← conv(x, w′) + b, where w′
// is w [F, C, 3, 3] itself, or when `transposed`, w [C, F, 3, 3] read as w′[f, c] = rot180(w[c, f]).
function winogradPass(
  out: Tensor,
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  geom: ConvGeometry,
  transposed: boolean,
): void {
  const { N, C, H, W, F, outH, outW, padTop, padLeft } = geom;
  const { tilesH, tilesW } = winogradTiles(geom);
  const Hp = 2 * tilesH + 2;
  const Wp = 2 * tilesW + 2;
  // A band of tile rows of one image, or whole images side by side when they are small.
  const perRow = 16 * (C + F) * tilesW;
  const bandRows = Math.max(1, Math.min(tilesH, Math.floor(PASS_FLOATS / perRow)));
  const chunk =
    bandRows < tilesH ? 1 : Math.max(1, Math.min(N, Math.floor(PASS_FLOATS / (perRow * tilesH))));
  const maxT = chunk * bandRows * tilesW;
  const input = C * H * W;
  const padded = C * Hp * Wp;
  const image = F * outH * outW;
  const planeU = planeOf(F * C);
  const { heap, at } = kernelRegions([
    F * C * 9,
    16 * planeU,
    F,
    chunk * input,
    chunk * padded,
    16 * planeOf(C * maxT),
    16 * planeOf(F * maxT),
    chunk * image,
  ]);
  const [wAt, uAt, bAt, xAt, pAt, vAt, mAt, yAt] = at as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // The transforms run through channelPassStaged: each loops over its leading channel axis, so
  // the thread pool (when it runs) splits them by channels, with each argument's byte step per
  // channel given beside it (0 for sizes).
  // U[ξ] = (G w′[f, c] Gᵀ)[ξ] from the staged w through strides (in floats): w′[f, c, a, b] is
  // w[f, c, a, b] or, transposed, w[c, f, 2 − a, 2 − b].
  stageSlices(heap, wAt >> 2, w, 0, w.shape[0]!);
  const [wStart, so, si, sa, sb] = transposed
    ? [wAt + 32, 9, F * 9, -3, -1]
    : [wAt, C * 9, 9, 3, 1];
  channelPassStaged(
    'winogradFilters',
    [wStart, F, C, so, si, sa, sb, uAt, planeU],
    [so * 4, 0, 0, 0, 0, 0, 0, C * 4, 0],
    F * C * 25,
  );
  if (b !== null) for (let f = 0; f < F; f++) heap[(bAt >> 2) + f] = b.get(f);
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const nb = Math.min(chunk, N - n0);
    stageSlices(heap, xAt >> 2, x, n0, nb);
    for (let i = 0; i < nb; i++) {
      const [xi, pi] = [xAt + i * input * 4, pAt + i * padded * 4];
      channelPassStaged(
        'winogradPad',
        [xi, C, H, W, pi, Hp, Wp, padTop, padLeft],
        [H * W * 4, 0, 0, 0, Hp * Wp * 4, 0, 0, 0, 0],
        C * Hp * Wp,
      );
    }
    for (let th0 = 0; th0 < tilesH; th0 += bandRows) {
      const th1 = Math.min(tilesH, th0 + bandRows);
      const perImage = (th1 - th0) * tilesW;
      const T = nb * perImage;
      const [planeV, planeM] = [planeOf(C * T), planeOf(F * T)];
      // V[ξ] (C × T): image i's tiles are columns i·perImage ….
      for (let i = 0; i < nb; i++) {
        const p = pAt + i * padded * 4;
        channelPassStaged(
          'winogradInputs',
          [p, C, Hp, Wp, th0, th1, tilesW, vAt + i * perImage * 4, T, planeV],
          [Hp * Wp * 4, 0, 0, 0, 0, 0, 0, T * 4, 0, 0],
          C * 16 * perImage,
        );
      }
      // The 16 products of §4.1: M[ξ] (F × T) = U[ξ] (F × C) · V[ξ] (C × T), planes apart; on
      // the thread pool each thread takes whole products.
      const [uStep, vStep, mStep] = [planeU * 4, planeV * 4, planeM * 4];
      gemmWasmStagedBatch(16, uStep, vStep, mStep, F, T, C, 1, uAt, C, 1, vAt, T, 1, 0, mAt, T, 1);
      for (let i = 0; i < nb; i++) {
        const m = mAt + i * perImage * 4;
        const y = yAt + i * image * 4;
        const bias = b === null ? 0 : bAt;
        channelPassStaged(
          'winogradOutputs',
          [m, F, th0, th1, tilesW, T, planeM, y, outH, outW, bias],
          [T * 4, 0, 0, 0, 0, 0, 0, outH * outW * 4, 0, 0, bias === 0 ? 0 : 4],
          F * 16 * perImage,
        );
      }
    }
    unstageSlices(out, n0, nb, heap, yAt >> 2);
  }
}

/**
 * conv2dForward by Winograd F(2×2, 3×3) for float32 on the WebAssembly kernel (3×3, stride 1,
 * dilation 1, any pad; the caller checks winogradEligible). Overwrites out.
 * @param out shape [N, F, outH, outW]; @param x [N, C, H, W]; @param w [F, C, 3, 3]; @param b [F] or null
 */
export function conv2dWinogradForwardWasm(
  out: Tensor,
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  geom: ConvGeometry,
): void {
  winogradPass(out, x, w, b, geom, false);
}

/**
 * conv2dBackwardInput by Winograd for float32 on the WebAssembly kernel (overwrites dx): the
 * forward conv of dy with w′[c, f] = rot180(w[f, c]) and padding 2 − pad.
 * @param dx shape [N, C, H, W]; @param dy [N, F, outH, outW]; @param w [F, C, 3, 3]
 */
export function conv2dWinogradBackwardInputWasm(
  dx: Tensor,
  dy: Tensor,
  w: Tensor,
  geom: ConvGeometry,
): void {
  winogradPass(dx, dy, w, null, transposedGeometry(geom), true);
}
