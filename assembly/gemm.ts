// Single-precision GEMM in AssemblyScript with 128-bit SIMD, compiled to WebAssembly by
// `npm run build:wasm`. Same algorithm as lib/core/gemm.ts (Goto & van de Geijn; BLIS): five
// loops around a register-tiled micro-kernel over packed panels, here with f32x4 lanes. The
// module owns no memory layout: the TypeScript loader places operands and scratch and passes
// byte addresses; strides are in elements and may be negative (transposed or reversed views).

import { im2colBlock } from './conv';

// Register tile: MR rows × NR columns = 4 × 2 f32x4 vectors, 8 accumulators. V8 hoists every
// load of a loop iteration ahead of the arithmetic, so 8 accumulators + 2 vectors of B + 4
// broadcasts of A = 14 live v128 values, inside the 15 xmm registers V8 allocates on x86-64.
// The 6×8 tile of BLIS's Haswell kernel spilled four accumulators and ran 25% slower (measured);
// with fused multiply-adds, 5×8 and 6×8 tiles ran at about half the speed of 4×8.
const MR = 4;
const NR = 8;

// Cache blocks, in elements (f32), chosen by measurement on a Zen 3 core (32 KiB L1d, 512 KiB
// L2, 32 MiB shared L3):
// KC: a KC×NR sliver of packed B (512·8·4 = 16 KiB) stays in L1 while the kernel sweeps every
//   MR-row sliver of A past it; a deep KC also halves the passes over C against KC = 256.
// MC: the MC×KC block of packed A (128·512·4 = 256 KiB) stays in L2.
// NC: the KC×NC panel of packed B (512·4096·4 = 8 MiB) stays in L3.
const KC: i32 = 512;
const MC: i32 = 128;
const NC: i32 = 4096;
// An implicit B (a conv's column matrix, never built: see packBIm2col) is packed from blocks of
// this many floats, built in scratch by im2colBlock: 128 KiB, in L2 beside the packed A.
const COLS_BLOCK: i32 = KC * 64;

/** First free byte after the module's static data: the loader places buffers from here. */
export function heapBase(): usize {
  return __heap_base;
}

/**
 * Bytes of scratch the packs need: packed A (MC×KC), packed B (KC×NC), one MR×NR tile and a
 * block of an implicit B's columns (COLS_BLOCK).
 */
export function scratchBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR + COLS_BLOCK) << 2;
}

/**
 * C ← alpha·A·B + beta·C, A M×K, B K×N, C M×N, all f32; element (i, j) of A is at byte
 * aPtr + 4·(i·aRs + j·aCs). `scratch` points at scratchBytes() free bytes. beta = 0 overwrites.
 */
export function gemm(
  M: i32,
  N: i32,
  K: i32,
  alpha: f32,
  aPtr: usize,
  aRs: i32,
  aCs: i32,
  bPtr: usize,
  bRs: i32,
  bCs: i32,
  beta: f32,
  cPtr: usize,
  cRs: i32,
  cCs: i32,
  scratch: usize,
): void {
  gemmPacked(
    M,
    N,
    K,
    alpha,
    aPtr,
    aRs,
    aCs,
    0,
    bPtr,
    bRs,
    bCs,
    0,
    beta,
    cPtr,
    cRs,
    cCs,
    scratch,
    0,
  );
}

/**
 * gemm, with A or B (or both) already packed whole by packAPanels / packBPanels at byte aPacked /
 * bPacked (0: pack it here, from aPtr / bPtr). Threads that share a product pack the shared
 * operand once this way, instead of once per block each (the bits do not change). With bIm2col
 * ≠ 0, B is the implicit column matrix that the 16 i32 at byte bIm2col describe (conv.ts,
 * im2colBlock), and bPtr is a byte offset into it as if it lay from address 0: element (k, l) at
 * 4·(k·ld + l); it must be read row-major (bRs = ld, bCs = 1) or transposed (bRs = 1, bCs = ld).
 */
export function gemmPacked(
  M: i32,
  N: i32,
  K: i32,
  alpha: f32,
  aPtr: usize,
  aRs: i32,
  aCs: i32,
  aPacked: usize,
  bPtr: usize,
  bRs: i32,
  bCs: i32,
  bPacked: usize,
  beta: f32,
  cPtr: usize,
  cRs: i32,
  cCs: i32,
  scratch: usize,
  bIm2col: usize,
): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha === 0) {
    scale(M, N, beta, cPtr, cRs, cCs);
    return;
  }
  const aPack = scratch;
  const bPack = aPack + ((MC * KC) << 2);
  const tile = bPack + ((KC * NC) << 2);
  const colsBlock = tile + ((MR * NR) << 2);
  const mPad = roundUp(M, MR);
  // Loop 5 (jc): column panels of B and C.
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    const ncPad = roundUp(nc, NR);
    // Loop 4 (pc): rank-KC updates; only the first applies the caller's beta.
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const betaBlock: f32 = pc === 0 ? beta : 1;
      // Panel (jc, pc) of a whole packed B (see packBPanels), or packed here.
      let bPanel = bPack;
      if (bPacked !== 0) {
        bPanel = bPacked + (((jc * K + pc * ncPad) << 2) as usize);
      } else {
        const b = bPtr + (((pc * bRs + jc * bCs) << 2) as usize);
        if (bIm2col !== 0) packBIm2col(kc, nc, bIm2col, b, bRs, bCs, bPack, colsBlock);
        else packB(kc, nc, b, bRs, bCs, bPack);
      }
      // Loop 3 (ic): row blocks of A and C.
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        // Block (pc, ic) of a whole packed A (see packAPanels), or packed here.
        let aBlock = aPack;
        if (aPacked !== 0) {
          aBlock = aPacked + (((pc * mPad + ic * kc) << 2) as usize);
        } else {
          packA(mc, kc, aPtr + (((ic * aRs + pc * aCs) << 2) as usize), aRs, aCs, aPack);
        }
        const cBlock = cPtr + (((ic * cRs + jc * cCs) << 2) as usize);
        // Loop 2 (jr) over NR-column slivers of B, loop 1 (ir) over MR-row slivers of A.
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bSliver = bPanel + ((jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const cTile = cBlock + (((ir * cRs + jr * cCs) << 2) as usize);
            const aSliver = aBlock + ((ir * kc) << 2);
            if (mr === MR && nr === NR && cCs === 1) {
              kernel(kc, aSliver, bSliver, alpha, betaBlock, cTile, cRs << 2, 0);
            } else {
              // Edge tile or strided C: compute the full tile on the packs' zero padding into
              // scratch, then store only its mr×nr corner element by element.
              kernel(kc, aSliver, bSliver, 1, 0, tile, NR << 2, 1);
              storeTile(mr, nr, alpha, betaBlock, tile, cTile, cRs, cCs);
            }
          }
        }
      }
    }
  }
}

/**
 * Pack all of A (M×K) at byte `out` in the order gemmPacked reads it: for each KC-deep slice
 * pc, its MC-row blocks one after another, block (pc, ic) at float pc·roundUp(M, MR) + ic·kc.
 * Takes roundUp(M, MR)·K floats.
 */
export function packAPanels(M: i32, K: i32, aPtr: usize, aRs: i32, aCs: i32, out: usize): void {
  const mPad = roundUp(M, MR);
  for (let pc = 0; pc < K; pc += KC) {
    const kc = min(KC, K - pc);
    for (let ic = 0; ic < M; ic += MC) {
      const at = out + (((pc * mPad + ic * kc) << 2) as usize);
      packA(min(MC, M - ic), kc, aPtr + (((ic * aRs + pc * aCs) << 2) as usize), aRs, aCs, at);
    }
  }
}

/**
 * Pack all of B (K×N) at byte `out` in the order gemmPacked reads it: for each NC-wide panel jc,
 * its KC-deep slices one after another, panel (jc, pc) at float jc·K + pc·roundUp(nc, NR).
 * Takes K·roundUp(N, NR) floats. bIm2col as for gemmPacked; an implicit B needs `scratch`
 * (scratchBytes()), else it is unused.
 */
export function packBPanels(
  K: i32,
  N: i32,
  bPtr: usize,
  bRs: i32,
  bCs: i32,
  out: usize,
  bIm2col: usize,
  scratch: usize,
): void {
  const colsBlock = scratch + (((MC * KC + KC * NC + MR * NR) << 2) as usize);
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    const ncPad = roundUp(nc, NR);
    for (let pc = 0; pc < K; pc += KC) {
      const at = out + (((jc * K + pc * ncPad) << 2) as usize);
      const b = bPtr + (((pc * bRs + jc * bCs) << 2) as usize);
      const kc = min(KC, K - pc);
      if (bIm2col !== 0) packBIm2col(kc, nc, bIm2col, b, bRs, bCs, at, colsBlock);
      else packB(kc, nc, b, bRs, bCs, at);
    }
  }
}

/** Floats packAPanels (`ofB` = 0; rows M, cols K) or packBPanels (`ofB` = 1; rows K, cols N) write. */
export function packedFloats(ofB: i32, rows: i32, cols: i32): i32 {
  return ofB ? rows * roundUp(cols, NR) : roundUp(rows, MR) * cols;
}

// n rounded up to a multiple of m.
function roundUp(n: i32, m: i32): i32 {
  return ((n + m - 1) / m) * m;
}

// The micro-kernel: kc rank-1 updates of a 4×8 tile held in 8 f32x4 accumulators. Each step
// loads one row of the B sliver (two vectors) and broadcasts four values of the A sliver. Then
// C tile ← alpha·AB + beta·C tile, row r at byte c + r·cRowBytes; beta = 0 never reads C.
function kernel(
  kc: i32,
  a: usize,
  b: usize,
  alpha: f32,
  beta: f32,
  c: usize,
  cRowBytes: i32,
  toScratch: i32,
): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  // Counting with the A pointer itself instead of a separate p saves an add per step, which
  // measured 10% here: the loop is bound by instruction count, not by the two FP pipes.
  const aEnd = a + ((kc * MR) << 2);
  while (a < aEnd) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a);
    const a1 = v128.load32_splat(a, 4);
    const a2 = v128.load32_splat(a, 8);
    const a3 = v128.load32_splat(a, 12);
    // With relaxed SIMD each update is one fused multiply-add (vfmadd on x86 with FMA3): half the
    // arithmetic instructions of mul + add, and 1.3–1.5× the GEMM throughput here (measured).
    // Fused rounding may differ in the last bit from mul + add; the build without relaxed SIMD
    // (chosen where the runtime lacks it) keeps the two-step form.
    if (ASC_FEATURE_RELAXED_SIMD) {
      c00 = f32x4.relaxed_madd(a0, b0, c00);
      c01 = f32x4.relaxed_madd(a0, b1, c01);
      c10 = f32x4.relaxed_madd(a1, b0, c10);
      c11 = f32x4.relaxed_madd(a1, b1, c11);
      c20 = f32x4.relaxed_madd(a2, b0, c20);
      c21 = f32x4.relaxed_madd(a2, b1, c21);
      c30 = f32x4.relaxed_madd(a3, b0, c30);
      c31 = f32x4.relaxed_madd(a3, b1, c31);
    } else {
      c00 = f32x4.add(c00, f32x4.mul(a0, b0));
      c01 = f32x4.add(c01, f32x4.mul(a0, b1));
      c10 = f32x4.add(c10, f32x4.mul(a1, b0));
      c11 = f32x4.add(c11, f32x4.mul(a1, b1));
      c20 = f32x4.add(c20, f32x4.mul(a2, b0));
      c21 = f32x4.add(c21, f32x4.mul(a2, b1));
      c30 = f32x4.add(c30, f32x4.mul(a3, b0));
      c31 = f32x4.add(c31, f32x4.mul(a3, b1));
    }
    a += MR << 2;
    b += NR << 2;
  }
  if (toScratch) {
    v128.store(c, c00);
    v128.store(c, c01, 16);
    v128.store(c, c10, 32);
    v128.store(c, c11, 48);
    v128.store(c, c20, 64);
    v128.store(c, c21, 80);
    v128.store(c, c30, 96);
    v128.store(c, c31, 112);
    return;
  }
  const va = f32x4.splat(alpha);
  const step = cRowBytes as usize;
  storeRow(c, c00, c01, va, beta);
  storeRow(c + step, c10, c11, va, beta);
  storeRow(c + 2 * step, c20, c21, va, beta);
  storeRow(c + 3 * step, c30, c31, va, beta);
}

// One row of eight contiguous C values: alpha·ab (+ beta·c unless beta = 0, so NaN in an
// uninitialised C cannot leak in as 0·NaN).
function storeRow(c: usize, ab0: v128, ab1: v128, va: v128, beta: f32): void {
  let r0 = f32x4.mul(va, ab0);
  let r1 = f32x4.mul(va, ab1);
  if (beta !== 0) {
    const vb = f32x4.splat(beta);
    r0 = f32x4.add(r0, f32x4.mul(vb, v128.load(c)));
    r1 = f32x4.add(r1, f32x4.mul(vb, v128.load(c, 16)));
  }
  v128.store(c, r0);
  v128.store(c, r1, 16);
}

function storeTile(
  mr: i32,
  nr: i32,
  alpha: f32,
  beta: f32,
  tile: usize,
  c: usize,
  cRs: i32,
  cCs: i32,
): void {
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < nr; j++) {
      const ab = load<f32>(tile + (((i * NR + j) << 2) as usize));
      const at = c + (((i * cRs + j * cCs) << 2) as usize);
      store<f32>(at, beta === 0 ? alpha * ab : alpha * ab + beta * load<f32>(at));
    }
  }
}

// Pack an mc×kc block of A as MR-row slivers, column by column (the order the kernel reads),
// zero-padding rows past mc so edge tiles need no special kernel. Two layouts of whole slivers
// take SIMD paths, since the scalar gather measured about a tenth of the GEMM's time:
// - column-major A (rs = 1; e.g. Wᵀ in conv backward-to-input): each packed column of the sliver
//   is already four contiguous floats, one vector copy;
// - row-major A (cs = 1; e.g. W in conv forward): load four columns of each of the four rows
//   and transpose the 4×4 block in registers.
function packA(mc: i32, kc: i32, a: usize, rs: i32, cs: i32, out: usize): void {
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const mr = min(MR, mc - i0);
    let p = 0;
    if (mr === MR && rs === 1) {
      for (; p < kc; p++) {
        v128.store(out, v128.load(a + (((i0 + p * cs) << 2) as usize)));
        out += MR << 2;
      }
    } else if (mr === MR && cs === 1) {
      const row = (rs << 2) as usize;
      for (; p + 4 <= kc; p += 4) {
        const src = a + (((i0 * rs + p) << 2) as usize);
        const r0 = v128.load(src);
        const r1 = v128.load(src + row);
        transpose4x4(r0, r1, v128.load(src + 2 * row), v128.load(src + 3 * row), out, MR << 2);
        out += (4 * MR) << 2;
      }
    }
    // The scalar gather: edge slivers, other strides, and the last kc mod 4 columns.
    for (; p < kc; p++) {
      const src = a + (((i0 * rs + p * cs) << 2) as usize);
      let r = 0;
      for (; r < mr; r++)
        store<f32>(out + ((r << 2) as usize), load<f32>(src + (((r * rs) << 2) as usize)));
      for (; r < MR; r++) store<f32>(out + ((r << 2) as usize), 0);
      out += MR << 2;
    }
  }
}

// Rows r0..r3 (four columns each) stored as columns: column q (r0[q], r1[q], r2[q], r3[q]) at
// byte out + q·step. Interleave pairs of rows, then pairs of pairs (unpcklps and movlhps on x86).
// prettier-ignore
function transpose4x4(r0: v128, r1: v128, r2: v128, r3: v128, out: usize, step: usize): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5); // r0[0] r1[0] r0[1] r1[1]
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5); // r2[0] r3[0] r2[1] r3[1]
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7); // r0[2] r1[2] r0[3] r1[3]
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7); // r2[2] r3[2] r2[3] r3[3]
  v128.store(out, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(out + step, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(out + 2 * step, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(out + 3 * step, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

// Pack a kc×nc panel of B as NR-column slivers, row by row, zero-padded past nc. Rows of a
// row-major B are copied two vectors at a time; a column-major B (rs = 1; e.g. colsᵀ in conv
// backward-to-weights) is read as eight contiguous columns, four rows at a time, and transposed
// as two 4×4 blocks.
function packB(kc: i32, nc: i32, b: usize, rs: i32, cs: i32, out: usize): void {
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const nr = min(NR, nc - j0);
    if (nr === NR && cs === 1) {
      for (let p = 0; p < kc; p++) {
        const src = b + (((p * rs + j0) << 2) as usize);
        v128.store(out, v128.load(src));
        v128.store(out, v128.load(src, 16), 16);
        out += NR << 2;
      }
      continue;
    }
    let p = 0;
    if (nr === NR && rs === 1) {
      const col = (cs << 2) as usize;
      for (; p + 4 <= kc; p += 4) {
        const src = b + (((p + j0 * cs) << 2) as usize);
        const c0 = v128.load(src);
        const c1 = v128.load(src + col);
        transpose4x4(c0, c1, v128.load(src + 2 * col), v128.load(src + 3 * col), out, NR << 2);
        const s4 = src + 4 * col;
        const c4 = v128.load(s4);
        const c5 = v128.load(s4 + col);
        transpose4x4(c4, c5, v128.load(s4 + 2 * col), v128.load(s4 + 3 * col), out + 16, NR << 2);
        out += (4 * NR) << 2;
      }
    }
    for (; p < kc; p++) {
      const src = b + (((p * rs + j0 * cs) << 2) as usize);
      let j = 0;
      for (; j < nr; j++)
        store<f32>(out + ((j << 2) as usize), load<f32>(src + (((j * cs) << 2) as usize)));
      for (; j < NR; j++) store<f32>(out + ((j << 2) as usize), 0);
      out += NR << 2;
    }
  }
}

// packB for a kc×nc panel of an implicit B (see gemmPacked) at byte offset b: the panel is
// built block by block in `cols` (COLS_BLOCK floats) by im2colBlock and each block packed by
// packB into its place, so the packed panel has exactly the floats packB would have written from
// im2col's matrix. Blocks are whole NR-column slivers wide, and packB writes sliver after sliver
// (kc·NR floats each), so the block of columns j … lands at float j·kc of the panel.
// - Row-major (bCs = 1; conv forward, B = [cols; 1]): rows are taps, columns output pixels; a
//   block is all kc taps of the next w pixels.
// - Transposed (bRs = 1; conv backward-to-weights, B = [cols; 1]ᵀ): rows are pixels, columns
//   taps; a block is the next w taps over all kc pixels, transposed by packB's 4×4 path.
function packBIm2col(
  kc: i32,
  nc: i32,
  desc: usize,
  b: usize,
  bRs: i32,
  bCs: i32,
  out: usize,
  cols: usize,
): void {
  const ld = load<i32>(desc, 60);
  const at = (b >> 2) as i32;
  const k0 = at / ld;
  const l0 = at - k0 * ld;
  // Block width: whole slivers, as many as COLS_BLOCK holds at depth kc.
  const w = max(NR, (COLS_BLOCK / kc / NR) * NR);
  // With one column (ld = 1) both orientations have strides (1, 1); a panel more than one column
  // wide is then the transposed one (the matrix itself has one column).
  const transposed = bRs === 1 && bCs === ld;
  if (bCs === 1 && bRs === ld && !(transposed && nc > 1)) {
    for (let j = 0; j < nc; j += w) {
      const n = min(w, nc - j);
      im2colBlock(desc, k0, kc, l0 + j, n, cols, n);
      packB(kc, n, cols, n, 1, out + (((j * kc) << 2) as usize));
    }
  } else if (transposed) {
    for (let j = 0; j < nc; j += w) {
      const n = min(w, nc - j);
      im2colBlock(desc, k0 + j, n, l0, kc, cols, kc);
      packB(kc, n, cols, 1, kc, out + (((j * kc) << 2) as usize));
    }
  } else {
    unreachable(); // the caller checks the strides (gemm-wasm.ts)
  }
}

function scale(M: i32, N: i32, beta: f32, c: usize, cRs: i32, cCs: i32): void {
  if (beta === 1) return;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      const at = c + (((i * cRs + j * cCs) << 2) as usize);
      store<f32>(at, beta === 0 ? 0 : beta * load<f32>(at));
    }
  }
}
