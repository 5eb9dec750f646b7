// The fast conv passes of conv2d.ts for float32 with everything big inside the WebAssembly
// kernel's memory: the input images are staged there once, the GEMM packs its panels of the
// column matrix straight from them (an implicit im2col, see `columns`; or im2col builds the
// matrix there first, assembly/conv.ts), and only the much smaller output is copied back.
// Backward-to-input lets the GEMM write dcols there and col2im it there, copying out dx only.
// When the thread pool runs, it shares the GEMM and also im2col / col2im (cut by input channels,
// so the bits do not change). Resident tensors (lib/core/resident.ts) already lie in kernel
// memory: they are read and written in place, not staged. Same meaning as the TypeScript path in
// conv2d.ts, which stays the readable reference and the fallback (float64, no WebAssembly SIMD).
import {
  convPassStaged,
  gemmWasmStaged,
  gemmWasmStagedBatch,
  IM2COL_DESCRIPTOR_BYTES,
  kernelRegions,
  poolRunning,
  writeIm2colDescriptor,
  type Im2colArgs,
  type Im2colDescriptor,
  type ProductArgs,
  type Tensor,
} from '../core/index.js';
import { type ConvGeometry } from './geometry.js';
import {
  residentSlices,
  stageMaps,
  stageSlices,
  unstageMapColumns,
  unstageSlices,
} from './staging.js';

// The kernel's im2col / col2im arguments: image at byte `image`, columns from byte `cols`.
function im2colArgs(image: number, g: ConvGeometry, cols: number, ld: number): Im2colArgs {
  const { C, H, W, kH, kW, outH, outW, strideH, strideW, padTop, padLeft } = g;
  return [
    image,
    C,
    H,
    W,
    kH,
    kW,
    outH,
    outW,
    strideH,
    strideW,
    padTop,
    padLeft,
    g.dilationH,
    g.dilationW,
    cols,
    ld,
  ];
}

// How the forward and backward-to-weights products get their column matrix [cols; 1]:
// 'implicit' (the default): never built. The GEMM packs each panel of it from the image, block by
// block through a 128 KiB scratch in this core's cache (assembly/gemm.ts, packBIm2col), so the
// matrix (K·L floats: 29 MB on VGG's 64 → 64 layer at 112 px, nine times the image) is neither
// written to memory nor read back. 'built': im2col builds it in kernel memory first and the
// GEMM reads it there, the plain way, kept for comparison. Both give the same bits.
let columnsMode: 'implicit' | 'built' = 'implicit';

/** Set how the kernel's conv products get their column matrix (tests and benchmarks). */
export function setConvColumns(mode: 'implicit' | 'built'): void {
  columnsMode = mode;
}

// Floats of kernel memory for the column matrix [cols; 1] (rows × L): the matrix, or only its
// descriptor when it stays implicit.
function columnsFloats(rows: number, L: number): number {
  return columnsMode === 'implicit' ? IM2COL_DESCRIPTOR_BYTES / 4 : rows * L;
}

// The column matrix [cols; 1] of `images` images at byte `image` (contiguous [C, H, W] each)
// for a product, at byte `at` (columnsFloats): its rows past K are ones. Returns the GEMM's B
// pointer and bIm2col: byte offset 0 into the implicit matrix and its descriptor's address, or
// the built matrix's address and 0.
function columns(
  at: number,
  image: number,
  images: number,
  g: ConvGeometry,
  rows: number,
  heap: Float32Array,
  meanwhile?: () => void,
): [b: number, bIm2col: number] {
  const { C, H, W, kH, kW, outH, outW } = g;
  const L = images * outH * outW;
  const imageBytes = C * H * W * 4;
  if (columnsMode === 'implicit') {
    // im2col's arguments, with the bytes from image to image where the matrix's address was.
    const args = im2colArgs(image, g, imageBytes, L);
    writeIm2colDescriptor(at, args satisfies Im2colDescriptor);
    meanwhile?.();
    return [0, at];
  }
  convPassStaged(
    'im2col',
    images,
    im2colArgs(image, g, at, L),
    imageBytes,
    outH * outW * 4,
    meanwhile,
  );
  const K = C * kH * kW;
  if (rows > K) heap.fill(1, (at >> 2) + K * L, (at >> 2) + rows * L);
  return [at, 0];
}

// Where to cut a product of `rows` × L (L columns of images) into column pieces so that the
// serial copy of one piece (in or out of kernel memory) overlaps the pool's work on another. On
// the first VGG layer (64 × 224², 12.8 MB) the copy left outside the products drops to a
// quarter, and two threads ran its forward 7–8% and backward-to-input 6% faster (alternating
// runs). Each piece is one more hand-off to the pool and packs the other operand (rows × K)
// again, so only wide products are cut, and only while a pool runs.
// Returns the cuts 0 = c₀ < c₁ < … = L; piece s is columns c_s … c_{s+1} − 1.
function columnPieces(L: number, rows: number): number[] {
  const pieces = poolRunning() ? Math.max(1, Math.min(4, Math.floor(L / (16 * rows)))) : 1;
  return Array.from({ length: pieces + 1 }, (_, s) => Math.round((s * L) / pieces));
}

/**
 * conv2dForward for float32 on the WebAssembly kernel: out[n] = [W b]·[cols(x[n]); 1] with x, W
 * and the product in kernel memory (cols implicit, see `columns`); `chunk` images share one
 * product (see conv2d.ts).
 * @param out shape [N, F, outH, outW]; @param x [N, C, H, W]; @param w [F, C, kH, kW]; @param b [F] or null
 */
export function conv2dForwardWasm(
  out: Tensor,
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  geom: ConvGeometry,
  chunk: number,
): void {
  const { N, C, H, W, F, kH, kW, outH, outW } = geom;
  const K = C * kH * kW;
  const P = outH * outW;
  const image = C * H * W;
  // The bias is the weight of an input fixed at 1 (chapter 1's perceptron trick): W gets b as
  // an extra column and cols an extra row of ones, so the GEMM adds it on every thread, where
  // filling y with the bias first was a serial pass as large as the output.
  const K1 = b === null ? K : K + 1;
  // Resident tensors (residentZeros) are read and written where they are: x always, out when
  // each product is one image (its [F, P] is the product's layout).
  const xIn = residentSlices(x, 0);
  const yIn = chunk === 1 ? residentSlices(out, 0) : null;
  const { heap, at } = kernelRegions([
    F * K1,
    xIn === null ? chunk * image : 0,
    columnsFloats(K1, chunk * P),
    yIn === null ? F * chunk * P : 0,
  ]);
  const [wAt, xStaged, colsAt, yStaged] = at as [number, number, number, number];
  if (b === null) {
    stageSlices(heap, wAt >> 2, w, 0, F);
  } else {
    for (let f = 0; f < F; f++) {
      stageSlices(heap, (wAt >> 2) + f * K1, w, f, 1);
      heap[(wAt >> 2) + f * K1 + K] = b.data[b.offset + f * b.stride[0]!]!;
    }
  }
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const nb = Math.min(chunk, N - n0);
    const L = nb * P;
    const xAt = xIn === null ? xStaged : xIn + n0 * image * 4;
    const yAt = yIn === null ? yStaged : yIn + n0 * F * P * 4;
    if (xIn === null) stageSlices(heap, xAt >> 2, x, n0, nb);
    const [cols0, bIm2col] = columns(colsAt, xAt, nb, geom, K1, heap);
    // Copying y out is serial (helpers cannot write the caller's arrays), so on the pool the
    // product goes in column pieces, and while the helpers compute piece s this thread copies out
    // piece s − 1 (see columnPieces). A resident out needs no copy, nor pieces.
    const cuts = yIn === null ? columnPieces(L, F) : [0, L];
    const copyOut = (s: number) => () => {
      if (yIn === null) unstageMapColumns(out, n0, nb, P, heap, yAt >> 2, cuts[s]!, cuts[s + 1]!);
    };
    for (let s = 0; s + 1 < cuts.length; s++) {
      const [c0, c1] = [cuts[s]!, cuts[s + 1]!];
      const meanwhile = s > 0 ? copyOut(s - 1) : undefined;
      const [cols, y] = [cols0 + 4 * c0, yAt + 4 * c0];
      gemmWasmStaged(F, c1 - c0, K1, 1, wAt, K1, 1, cols, L, 1, 0, y, L, 1, meanwhile, bIm2col);
    }
    copyOut(cuts.length - 2)();
  }
}

/**
 * conv2dBackwardInput for float32 on the WebAssembly kernel (overwrites dx): dcols = Wᵀ·dy and
 * col2im both in kernel memory; only dy goes in and dx comes out.
 * @param dx shape [N, C, H, W]; @param dy [N, F, outH, outW]; @param w [F, C, kH, kW]
 */
export function conv2dBackwardInputWasm(
  dx: Tensor,
  dy: Tensor,
  w: Tensor,
  geom: ConvGeometry,
  chunk: number,
): void {
  const { N, C, H, W, F, kH, kW, outH, outW } = geom;
  const K = C * kH * kW;
  const P = outH * outW;
  const image = C * H * W;
  // Resident tensors are read and written where they are: dx always, dy when each product is one
  // image, and w.
  const wIn = residentSlices(w, 0);
  const dyIn = chunk === 1 ? residentSlices(dy, 0) : null;
  const dxIn = residentSlices(dx, 0);
  const { heap, at } = kernelRegions([
    wIn === null ? F * K : 0,
    dyIn === null ? F * chunk * P : 0,
    K * chunk * P,
    dxIn === null ? chunk * image : 0,
  ]);
  const [wStaged, dyStaged, colsAt, dxStaged] = at as [number, number, number, number];
  const wAt = wIn ?? wStaged;
  if (wIn === null) stageSlices(heap, wAt >> 2, w, 0, F);
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const nb = Math.min(chunk, N - n0);
    const L = nb * P;
    const dyAt = dyIn === null ? dyStaged : dyIn + n0 * F * P * 4;
    const dxAt = dxIn === null ? dxStaged : dxIn + n0 * image * 4;
    // Copying dy in is serial too: piece s + 1 of it goes in while the pool computes piece s.
    const cuts = dyIn === null ? columnPieces(L, K) : [0, L];
    const copyIn = (s: number) => () => {
      if (dyIn === null) stageMaps(heap, dyAt >> 2, dy, n0, nb, P, cuts[s]!, cuts[s + 1]!);
    };
    copyIn(0)();
    for (let s = 0; s + 1 < cuts.length; s++) {
      const [c0, c1] = [cuts[s]!, cuts[s + 1]!];
      const meanwhile = s + 2 < cuts.length ? copyIn(s + 1) : undefined;
      const [dyPiece, dcols] = [dyAt + 4 * c0, colsAt + 4 * c0];
      // Wᵀ is the staged row-major W [F, K] read with swapped strides.
      gemmWasmStaged(K, c1 - c0, F, 1, wAt, 1, K, dyPiece, L, 1, 0, dcols, L, 1, meanwhile);
    }
    convPassStaged('col2im', nb, im2colArgs(dxAt, geom, colsAt, L), image * 4, P * 4);
    if (dxIn === null) unstageSlices(dx, n0, nb, heap, dxAt >> 2);
  }
}

// Column pieces of a backward-to-weights product [F, K1] = dy·[cols; 1]ᵀ with a deep sum (L
// columns): 16 where [cols; 1] is narrow (K1 ≤ F) and at least 4 MiB, else 1 (one product).
// Narrow and deep, the pool would cut the product by rows of dy, and every thread would stream
// all of [cols; 1] from memory: on the first VGG layer (K1 = 28, L = 50176) two threads moved
// twice the memory of one and ran 1.1–1.4× as fast. Cut along L instead, each piece is one
// product on one thread into its own partial [F, K1], and the partials are added in piece
// order afterwards, so the bits are the same on any number of threads. The count is fixed (not
// the number of threads) for that reason; 16 keeps two threads evenly loaded. On that layer two
// threads then took 6–13% less time, 1.49–1.65× one thread's (alternating runs, one process);
// one thread's time did not change. The sums run in another order than the one product's, so
// dw changed in its last bits there (nowhere else: every other VGG layer has K1 > F).
function sumPieces(F: number, K1: number, L: number): number {
  return K1 <= F && K1 * L >= 1 << 20 ? 16 : 1;
}

/**
 * conv2dBackwardWeights for float32 on the WebAssembly kernel; ACCUMULATES into dw and db. dw is
 * staged into kernel memory (unless it is resident already) and the GEMM adds
 * Σ_n dy[n]·cols(x[n])ᵀ onto it there (β = 1), so the only serial passes are one copy in and
 * one copy out.
 * @param dw shape [F, C, kH, kW]; @param db [F] or null; @param dy [N, F, outH, outW]; @param x [N, C, H, W]
 */
export function conv2dBackwardWeightsWasm(
  dw: Tensor,
  db: Tensor | null,
  dy: Tensor,
  x: Tensor,
  geom: ConvGeometry,
  chunk: number,
): void {
  const { N, C, H, W, F, kH, kW, outH, outW } = geom;
  const K = C * kH * kW;
  const P = outH * outW;
  const image = C * H * W;
  // db is the forward's bias trick backwards: with a row of ones under cols, column K of
  // dy·[cols; 1]ᵀ is Σ_p dy[f, p], so [dw db] is one product, split over the threads.
  const K1 = db === null ? K : K + 1;
  // Resident tensors are read where they are: x always, dy when each product is one image.
  const xIn = residentSlices(x, 0);
  const dyIn = chunk === 1 ? residentSlices(dy, 0) : null;
  // Partials of the pieces (sumPieces), one more for the columns left over.
  const pieces = sumPieces(F, K1, chunk * P);
  // A resident dw [F, K] is accumulated where it lies, and db (if any) by its own product
  // db += dy·1 against a row of L ones: each sum is the one column K of dy·[cols; 1]ᵀ runs, in
  // the same order, so the bits are those of the staged [dw db]. This saves copying dw in and
  // out on this thread: 2 × 9.4 MB on 512 → 512 channels, about 2.5 ms of a 20 ms call on two
  // threads. (The narrow products cut into pieces keep the staged [dw db]: their dw is small.)
  const dwIn = pieces === 1 ? residentSlices(dw, 0) : null;
  const L = chunk * P;
  const { heap, at } = kernelRegions([
    dyIn === null ? F * L : 0,
    xIn === null ? chunk * image : 0,
    columnsFloats(dwIn === null ? K1 : K, L),
    dwIn === null ? F * K1 : F,
    pieces > 1 ? (pieces + 1) * F * K1 : 0,
    dwIn !== null && db !== null ? L : 0,
  ]);
  const [dyStaged, xStaged, colsAt, gAt, partialsAt, onesAt] = at as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const g = gAt >> 2;
  if (dwIn !== null) {
    // g holds db alone.
    if (db !== null) {
      for (let f = 0; f < F; f++) heap[g + f] = db.data[db.offset + f * db.stride[0]!]!;
      heap.fill(1, onesAt >> 2, (onesAt >> 2) + L);
    }
  } else if (db === null) {
    stageSlices(heap, g, dw, 0, F);
  } else {
    for (let f = 0; f < F; f++) {
      stageSlices(heap, g + f * K1, dw, f, 1);
      heap[g + f * K1 + K] = db.data[db.offset + f * db.stride[0]!]!;
    }
  }
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const nb = Math.min(chunk, N - n0);
    const Ln = nb * P;
    const xAt = xIn === null ? xStaged : xIn + n0 * image * 4;
    const dyAt = dyIn === null ? dyStaged : dyIn + n0 * F * P * 4;
    if (xIn === null) stageSlices(heap, xAt >> 2, x, n0, nb);
    // dy is copied in (serial) while the pool builds cols, if it does: 5% off the first VGG
    // layer's time then.
    const stageDy =
      dyIn === null ? (): void => stageMaps(heap, dyAt >> 2, dy, n0, nb, P) : undefined;
    const rows = dwIn === null ? K1 : K;
    const [cols, bIm2col] = columns(colsAt, xAt, nb, geom, rows, heap, stageDy);
    if (dwIn !== null) {
      // dw += dy·colsᵀ in place (colsᵀ read with swapped strides), db += dy·1.
      gemmWasmStaged(F, K, Ln, 1, dyAt, Ln, 1, cols, 1, Ln, 1, dwIn, K, 1, undefined, bIm2col);
      if (db !== null) gemmWasmStaged(F, 1, Ln, 1, dyAt, Ln, 1, onesAt, 1, 1, 1, gAt, 1, 1);
      continue;
    }
    // [dw db] += dy·[cols; 1]ᵀ ([cols; 1]ᵀ is read with swapped strides).
    if (sumPieces(F, K1, Ln) === 1) {
      gemmWasmStaged(F, K1, Ln, 1, dyAt, Ln, 1, cols, 1, Ln, 1, gAt, K1, 1, undefined, bIm2col);
    } else {
      addPieces(heap, [F, K1, Ln], pieces, dyAt, [cols, bIm2col], gAt, partialsAt);
    }
  }
  if (dwIn !== null) {
    if (db !== null)
      for (let f = 0; f < F; f++) db.data[db.offset + f * db.stride[0]!] = heap[g + f]!;
  } else if (db === null) {
    unstageSlices(dw, 0, F, heap, g);
  } else {
    for (let f = 0; f < F; f++) {
      unstageSlices(dw, f, 1, heap, g + f * K1);
      db.data[db.offset + f * db.stride[0]!] = heap[g + f * K1 + K]!;
    }
  }
}

// [G] += dy·[cols; 1]ᵀ as `pieces` products over equal runs of the L columns (one thread each,
// see sumPieces) plus one over the columns left over, each into its own partial, then G +=
// partial 0, partial 1, … in that order, rounding to float32 after each addition as the GEMM's
// own accumulation into C does.
function addPieces(
  heap: Float32Array,
  [F, K1, L]: readonly [number, number, number],
  pieces: number,
  dyAt: number,
  [colsAt, bIm2col]: readonly [number, number],
  gAt: number,
  partialsAt: number,
): void {
  const run = Math.floor(L / pieces);
  const rest = L - pieces * run;
  const size = F * K1;
  // Piece i: dy's columns and [cols; 1]ᵀ's rows i·run …, both 4·run bytes further on.
  const piece = (K: number, at: number, c: number): [...ProductArgs, number] => [
    F,
    K1,
    K,
    1,
    dyAt + at,
    L,
    1,
    colsAt + at,
    1,
    L,
    0,
    c,
    K1,
    1,
    bIm2col,
  ];
  gemmWasmStagedBatch(pieces, 4 * run, 4 * run, 4 * size, ...piece(run, 0, partialsAt));
  if (rest > 0) {
    const last = piece(rest, 4 * pieces * run, partialsAt + 4 * pieces * size);
    gemmWasmStaged(...(last.slice(0, 14) as ProductArgs), undefined, bIm2col);
  }
  const g = gAt >> 2;
  for (let i = 0; i < (rest > 0 ? pieces + 1 : pieces); i++) {
    const part = (partialsAt >> 2) + i * size;
    for (let j = 0; j < size; j++) heap[g + j]! += heap[part + j]!;
  }
}
