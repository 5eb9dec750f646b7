// Winograd F(2×2, 3×3) convolution (and F(4×4, 3×3), below) for float32 with everything big
// inside the WebAssembly kernel's memory, the same steps as the reference in winograd.ts: the
// filters are transformed there (U, 16 planes F × C), the input is staged there zero-padded so
// every 4×4 patch is a plain read, transformed (V, 16 planes C × tiles), multiplied by the 16
// GEMMs M[ξ] = U[ξ]·V[ξ] (on the thread pool when it runs) and transformed back into the output,
// of which only the output leaves kernel memory. A large image goes band by band of tile rows
// through all three steps, so that V and M stay in cache between the transforms and the products
// (winogradBands); smaller images, or batches of them, take the three steps as separate passes
// over all their tiles. Convs with enough channels and tiles run F(4×4, 3×3) either way (6×6
// patches, 36 planes and products: see `scheme`). Backward-to-input is the same forward with the
// transposed, rotated filters (transposedGeometry); it reads the staged w through strides, so
// nothing is copied to rotate it.
import {
  channelPassStaged,
  gemmKernel,
  gemmWasmStagedBatch,
  kernelRegions,
  threadRegions,
  winogradBandsStaged,
  type Tensor,
} from '../core/index.js';
import { type ConvGeometry } from './geometry.js';
import { residentSlices, stageSlices, unstageSlices } from './staging.js';
import { transposedGeometry, winogradTiles } from './winograd.js';

// Floats of V and M together per pass of the unfused steps (64 MiB; im2col's column matrix of
// the same layer is larger): the tile rows (or the batch of small images) of one pass are sized
// to stay below it. Narrower passes measured no faster on one thread, and on two they starve the pool: with 4M floats the
// 16 products of 64 → 64 channels at 256 px are 64 × 2048 × 64 each, too small to split well,
// and Winograd ran 0.99× as fast on two threads as on one; with 16M floats, 1.4×.
const PASS_FLOATS = 1 << 24;

// The planes of U, V and M are spaced one cache line more than they hold: planes a power of
// two apart (U of 512 × 512 filters is 1 MiB) land in the same cache sets, and the transforms,
// which touch all of them at once, thrashed: the filter transform of 512 × 512 took 42 ms, 3.5 ms once
// shifted apart, and the input and output transforms of 64 × 64 at 256 px 29 ms, then 13 ms.
const planeOf = (floats: number): number => floats + 16;

const align64 = (bytes: number): number => Math.ceil(bytes / 64) * 64;

// A large image goes through all three steps band by band (winogradBands): a band of tile rows
// is input-transformed, multiplied and output-transformed by one thread while its V and M
// (16·(C + F)·T floats for T tiles) are still in that core's L2, and the threads take whole
// bands. Measured against the separate passes (alternating runs, same process):
// - a band holds at least BAND_MIN_TILES tiles: its 16 products are F × T × C, and at T = 28
//   (128 → 128 at 56 px, one tile row) a quarter of their register tiles were edge tiles; two
//   threads ran 0.8× as fast as the passes. At T = 56 (two rows) they ran alike;
// - V and M of a band stay within BAND_MAX_FLOATS (1 MiB): at 2 MiB (256 → 256 at 64 px) two
//   threads ran 0.8× as fast as the passes. This VM's cores have 512 KiB of L2 each
//   (/sys/devices/system/cpu/cpu0/cache/index2/size), so a band of 128 → 128 at 56 px (two tile
//   rows, 0.9 MiB) spills to the shared L3 on both threads; a 512 KiB limit is untested;
// - an image needs MIN_BANDS bands to keep two threads busy. Smaller images, and batches of
//   them, take the passes, which split whole products between threads.
// 64 → 64 at 112 px then ran forward 1.1–1.2× and backward-input 1.2–1.35× as fast on one thread,
// 1.05× and 1.05–1.2× on two; 128 → 128 at 56 px about alike (0.9–1.3×, noisy). The bands also
// keep 1 MiB of V and M per thread where the passes lay out up to 64 MiB.
const BAND_MIN_TILES = 48;
const MIN_BANDS = 8;
const BAND_MAX_FLOATS = 1 << 18;

// Which scheme the kernel's convs use: F(4×4, 3×3) (4: 36 products for 16 outputs, 1.78× fewer
// multiplies than F(2×2, 3×3) once the tiles are whole), F(2×2, 3×3) (2), or 'auto': F(4×4) for
// convs of F4_MIN_CHANNELS or more input and output channels with F4_MIN_TILES tiles of 4×4 or
// more per image batch. Its filter transform and the packing of U grow with its 36 planes
// (against 16) whatever the image, so small images lose; few channels share its larger input
// and output transforms. Two threads, alternating runs, F(4×4) against F(2×2):
// - 512 → 512 channels: 0.67–0.77× as fast at 14 px (16 tiles), 0.79–0.88× at 16, 0.78–0.89×
//   at 20 (25 tiles), 0.84–1.05× at 24 (36 tiles), 1.21–1.33× at 32 (64 tiles);
// - 256 → 256: 1.12–1.17× at 28 px (49 tiles), 1.51–1.78× at 64;
// - 128 → 128: 1.07–1.26× at 56 px; 64 → 64: 1.26–2.0× at 112 and 256 px (band by band);
// - at 64 px, 32 → 32: 0.99–1.22×; 16 → 16: 0.86–1.08×; 8 → 8: 0.80–0.99×.
let scheme: 'auto' | 2 | 4 = 'auto';
const F4_MIN_TILES = 48;
const F4_MIN_CHANNELS = 32;

/** Set which Winograd scheme the kernel's convs use (tests and benchmarks; 'auto' by default). */
export function setWinogradScheme(s: 'auto' | 2 | 4): void {
  scheme = s;
}

// The output tile side m for this conv (see scheme).
function schemeTile(geom: ConvGeometry): 2 | 4 {
  if (scheme !== 'auto') return scheme;
  const { tilesH, tilesW } = winogradTiles(geom, 4);
  const wide = Math.min(geom.C, geom.F) >= F4_MIN_CHANNELS;
  return wide && geom.N * tilesH * tilesW >= F4_MIN_TILES ? 4 : 2;
}

// Tile rows per band of m×m tiles, or 0 for an image that takes the separate passes: one with
// too few bands to share, unless its V and M would not fit one pass.
function bandRows(geom: ConvGeometry, m: 2 | 4): number {
  const { C, F } = geom;
  const planes = (m + 2) ** 2;
  const { tilesH, tilesW } = winogradTiles(geom, m);
  const rows = Math.ceil(BAND_MIN_TILES / tilesW);
  const bands = Math.ceil(tilesH / rows);
  const fits = planes * (C + F) * rows * tilesW <= BAND_MAX_FLOATS;
  const big = planes * (C + F) * tilesH * tilesW > PASS_FLOATS;
  return (bands >= MIN_BANDS && fits) || big ? rows : 0;
}

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
  // m×m output tiles from (m + 2)×(m + 2) patches, `planes` = (m + 2)² products.
  const m = schemeTile(geom);
  const rows = bandRows(geom, m);
  const planes = (m + 2) ** 2;
  const [filtersPass, inputsPass, outputsPass] =
    m === 2
      ? (['winogradFilters', 'winogradInputs', 'winogradOutputs'] as const)
      : (['winograd4Filters', 'winograd4Inputs', 'winograd4Outputs'] as const);
  const { tilesH, tilesW } = winogradTiles(geom, m);
  const Hp = m * tilesH + 2;
  const Wp = m * tilesW + 2;
  const input = C * H * W;
  const padded = C * Hp * Wp;
  const image = F * outH * outW;
  const tiles = tilesH * tilesW;
  // Bands take one image at a time; the separate passes as many small images side by side as
  // fit PASS_FLOATS of V and M.
  const chunk =
    rows > 0 ? 1 : Math.max(1, Math.min(N, Math.floor(PASS_FLOATS / (planes * (C + F) * tiles))));
  const planeU = planeOf(F * C);
  const k = gemmKernel();
  // Bands: U's planes packed whole for gemmPacked, uStep bytes apart, and each thread's V and
  // M for one band, vmBytes apart. Passes: V and M for all tiles of the chunk.
  const uStep = align64(4 * k.exports.packedFloats(0, F, C));
  const bandT = rows * tilesW;
  const vmBytes = align64(4 * planes * (planeOf(C * bandT) + planeOf(F * bandT)));
  const T = chunk * tiles;
  const [planeV, planeM] = [planeOf(C * T), planeOf(F * T)];
  // Resident tensors (residentZeros) are read and written where they are; the rest are staged.
  const [wIn, xIn, yIn] = [residentSlices(w, 0), residentSlices(x, 0), residentSlices(out, 0)];
  const { heap, at } = kernelRegions([
    wIn === null ? F * C * 9 : 0,
    planes * planeU,
    F,
    xIn === null ? chunk * input : 0,
    chunk * padded + 16, // + room for F(4×4)'s input transform, which reads past a row's end
    rows > 0 ? (planes * uStep) / 4 : planes * planeV,
    rows > 0 ? (threadRegions() * vmBytes) / 4 : planes * planeM,
    yIn === null ? chunk * image : 0,
  ]);
  // The sixth and seventh regions are packed U and the threads' V and M for bands, V and M for
  // the passes.
  const [wStaged, uAt, bAt, xStaged, pAt, packedAt, vmAt, yStaged] = at as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const [vAt, mAt] = [packedAt, vmAt];
  // The transforms run through channelPassStaged: each loops over its leading channel axis, so
  // the thread pool (when it runs) splits them by channels, with each argument's byte step per
  // channel given beside it (0 for sizes).
  // U[ξ] = (G w′[f, c] Gᵀ)[ξ] from the staged w through strides (in floats): w′[f, c, a, b] is
  // w[f, c, a, b] or, transposed, w[c, f, 2 − a, 2 − b].
  const wAt = wIn ?? wStaged;
  if (wIn === null) stageSlices(heap, wAt >> 2, w, 0, w.shape[0]!);
  const [wStart, so, si, sa, sb] = transposed
    ? [wAt + 32, 9, F * 9, -3, -1]
    : [wAt, C * 9, 9, 3, 1];
  channelPassStaged(
    filtersPass,
    [wStart, F, C, so, si, sa, sb, uAt, planeU],
    [so * 4, 0, 0, 0, 0, 0, 0, C * 4, 0],
    F * C * (9 + planes),
  );
  if (rows > 0) {
    for (let xi = 0; xi < planes; xi++) {
      k.exports.packAPanels(F, C, uAt + xi * planeU * 4, C, 1, packedAt + xi * uStep);
    }
  }
  if (b !== null) for (let f = 0; f < F; f++) heap[(bAt >> 2) + f] = b.get(f);
  const bias = b === null ? 0 : bAt;
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const nb = Math.min(chunk, N - n0);
    const xAt = xIn === null ? xStaged : xIn + n0 * input * 4;
    const yAt = yIn === null ? yStaged : yIn + n0 * image * 4;
    if (xIn === null) stageSlices(heap, xAt >> 2, x, n0, nb);
    for (let i = 0; i < nb; i++) {
      channelPassStaged(
        'winogradPad',
        [xAt + i * input * 4, C, H, W, pAt + i * padded * 4, Hp, Wp, padTop, padLeft],
        [H * W * 4, 0, 0, 0, Hp * Wp * 4, 0, 0, 0, 0],
        C * Hp * Wp,
      );
    }
    if (rows > 0) {
      // All three steps band by band, each thread on its own V and M (winogradBands).
      winogradBandsStaged(
        [pAt, C, Hp, Wp, tilesH, tilesW, rows, packedAt, uStep, F, yAt, outH, outW, bias, m],
        Math.ceil(tilesH / rows),
        vmAt,
        vmBytes,
      );
    } else {
      // V[ξ] (C × T): image i's tiles are columns i·tiles ….
      const Tn = nb * tiles;
      const [planeVn, planeMn] = [planeOf(C * Tn), planeOf(F * Tn)];
      for (let i = 0; i < nb; i++) {
        channelPassStaged(
          inputsPass,
          [pAt + i * padded * 4, C, Hp, Wp, 0, tilesH, tilesW, vAt + i * tiles * 4, Tn, planeVn],
          [Hp * Wp * 4, 0, 0, 0, 0, 0, 0, Tn * 4, 0, 0],
          C * planes * tiles,
        );
      }
      // The α² products of §4.1: M[ξ] (F × T) = U[ξ] (F × C) · V[ξ] (C × T), planes apart; on
      // the thread pool each thread takes whole products.
      const [uS, vS, mS] = [planeU * 4, planeVn * 4, planeMn * 4];
      gemmWasmStagedBatch(planes, uS, vS, mS, F, Tn, C, 1, uAt, C, 1, vAt, Tn, 1, 0, mAt, Tn, 1);
      for (let i = 0; i < nb; i++) {
        channelPassStaged(
          outputsPass,
          [
            mAt + i * tiles * 4,
            F,
            0,
            tilesH,
            tilesW,
            Tn,
            planeMn,
            yAt + i * image * 4,
            outH,
            outW,
            bias,
          ],
          [Tn * 4, 0, 0, 0, 0, 0, 0, outH * outW * 4, 0, 0, bias === 0 ? 0 : 4],
          F * planes * tiles,
        );
      }
    }
    if (yIn === null) unstageSlices(out, n0, nb, heap, yAt >> 2);
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
