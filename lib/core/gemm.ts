// General matrix multiply, C ← alpha·A·B + beta·C: the kernel under the fully connected layer
// and under conv2d's im2col path. Three entry points share one meaning: `gemmNaive` (the triple
// loop, the reference), `gemm` (ndarray views in, checked shapes) and `gemmStrided` (raw typed
// arrays plus strides, so transposes and slices cost nothing). The fast path follows Goto & van
// de Geijn (2008) and BLIS (Van Zee & van de Geijn, 2015): five loops around a register-tiled
// micro-kernel that reads panels of A and B packed into contiguous scratch.

/** Float32 or Float64 storage: GEMM accepts either, and A, B, C may differ. */
export type GemmArray = Float32Array | Float64Array;

/** The part of an ndarray view GEMM reads: a 2-D strided window onto a typed array. */
export interface GemmMatrix {
  readonly data: GemmArray;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
  readonly offset: number;
  get(i: number, j: number): number;
  set(i: number, j: number, v: number): unknown;
}

// Register tile of the micro-kernel: MR rows of A times NR columns of B, MR·NR accumulators
// held in locals. The tile is small because TurboFan schedules every product of an iteration
// before the first sum, so MR·NR accumulators and MR·NR products must all fit the 15 xmm
// registers V8 allocates: 3×2 (12 live values) runs without spills and 2×3 as fast, while 4×4,
// 4×2, 2×4, 3×3 and 3×4 spill and ran 10–30% slower at 1024³ (measured, interleaved runs).
const MR = 3;
const NR = 2;

// Cache blocks (Goto's rule: each packed operand lives in the cache level it is reused from).
// KC: one KC×NR sliver of packed B (256·2·8 bytes = 4 KiB) stays in the 32 KiB L1 while the
//   micro-kernel sweeps the MC/MR slivers of A past it.
// MC: the MC×KC block of packed A (120·256·8 = 240 KiB) stays in the 512 KiB L2; MC is a
//   multiple of MR so the fixed-size packs below hold a whole block.
// NC: the KC×NC panel of packed B (256·1024·8 = 2 MiB) stays in the shared 32 MiB L3.
// In plain JavaScript the micro-kernel, not memory, is the bottleneck: MC from 60 to 240, KC
// from 128 to 512 and NC from 512 to 2048 measured within the noise of each other at 1024³
// (and NC = 1024 against 2048 at 2048³), so NC is the smaller one: the packs below take
// 2.25 MiB, allocated once per thread when this module loads.
const KC = 256;
const MC = 120;
const NC = 1024;

// Packed panels are float64 whatever the operands are, so the micro-kernel only ever sees
// Float64Array and V8 keeps it monomorphic; float32 values convert exactly on the way in.
//
// They are stored as planes: aPlanes[r] holds row r of every MR-row sliver of the A block
// (sliver s at offset s·kc, column by column), bPlanes[j] holds column j of every NR-column
// sliver of the B panel. Two facts about V8's optimizing compiler make this the fast layout:
// - The planes are module constants of fixed size, so TurboFan embeds each array as a constant:
//   its base address and length become immediates and the per-load map check and reloads go
//   away, which also frees the registers that held them (2.1× at 1024³ over the same kernel
//   taking the planes as arguments, measured).
// - The loads of one step from A's planes share an index and a length, so one bounds check
//   covers them, and likewise for B; with one interleaved array each of a[i], a[i+1], … needs
//   its own add and check (planes 1.3× faster at 1024³, measured). The checks that remain stay:
//   V8 does not drop bounds checks on the strength of index ranges, not even for a masked index.
const A_PLANE = (MC / MR) * KC;
const B_PLANE = (NC / NR) * KC;
const aPlane0 = new Float64Array(A_PLANE);
const aPlane1 = new Float64Array(A_PLANE);
const aPlane2 = new Float64Array(A_PLANE);
const bPlane0 = new Float64Array(B_PLANE);
const bPlane1 = new Float64Array(B_PLANE);
const aPlanes = [aPlane0, aPlane1, aPlane2];
const bPlanes = [bPlane0, bPlane1];
const tile = new Float64Array(MR * NR);

/**
 * C ← alpha·A·B + beta·C on raw strided storage: A is M×K, B is K×N, C is M×N, and element
 * (i, j) of A is `a[aOff + i*aRowStride + j*aColStride]` (likewise B and C). beta = 0 overwrites C.
 */
export function gemmStrided(
  M: number,
  N: number,
  K: number,
  alpha: number,
  a: GemmArray,
  aOff: number,
  aRowStride: number,
  aColStride: number,
  b: GemmArray,
  bOff: number,
  bRowStride: number,
  bColStride: number,
  beta: number,
  c: GemmArray,
  cOff: number,
  cRowStride: number,
  cColStride: number,
): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha === 0) {
    scale(M, N, beta, c, cOff, cRowStride, cColStride);
    return;
  }
  // Packing pays even for tiny products: a plain strided triple loop measured slower at every
  // size down to 2×2×2, because its typed-array accesses see mixed element types and strides.
  // Loop 5 (jc): column panels of B and C, NC wide.
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    // Loop 4 (pc): rank-KC updates; only the first one applies the caller's beta.
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      const betaBlock = pc === 0 ? beta : 1;
      packB(kc, nc, b, bOff + pc * bRowStride + jc * bColStride, bRowStride, bColStride);
      // Loop 3 (ic): row blocks of A and C, MC tall.
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        packA(mc, kc, a, aOff + ic * aRowStride + pc * aColStride, aRowStride, aColStride);
        const cBlock = cOff + ic * cRowStride + jc * cColStride;
        macroKernel(mc, nc, kc, alpha, betaBlock, c, cBlock, cRowStride, cColStride);
      }
    }
  }
}

// Loops 2 (jr) and 1 (ir) around the micro-kernel, over one packed MC×KC block of A and one
// packed KC×NC panel of B. Edge tiles are computed in full on the zero padding of the packs and
// only their mr×nr corner is stored.
function macroKernel(
  mc: number,
  nc: number,
  kc: number,
  alpha: number,
  beta: number,
  c: GemmArray,
  cOff: number,
  cRowStride: number,
  cColStride: number,
): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = Math.min(NR, nc - jr);
    const bStart = (jr / NR) * kc;
    for (let ir = 0; ir < mc; ir += MR) {
      const mr = Math.min(MR, mc - ir);
      microKernel(kc, (ir / MR) * kc, bStart);
      storeTile(
        mr,
        nr,
        alpha,
        beta,
        c,
        cOff + ir * cRowStride + jr * cColStride,
        cRowStride,
        cColStride,
      );
    }
  }
}

// The 3×2 micro-kernel: a sequence of kc rank-1 updates of 6 accumulators, reading MR values
// of the packed A sliver and NR values of the packed B sliver per step (BLIS's "gemm ukernel").
// The slivers start at offset aStart of the A planes and bStart of the B planes. Indices are
// kept int32 with `| 0`, which spares an overflow check per step, and the loop runs on the A
// index up to a precomputed end rather than on a separate counter: 25 instructions per step in
// the optimized code, with no spills (the speed-up of the latter is within measurement noise).
// prettier-ignore
function microKernel(kc: number, aStart: number, bStart: number): void {
  let c00 = 0, c01 = 0;
  let c10 = 0, c11 = 0;
  let c20 = 0, c21 = 0;
  let j = bStart;
  const end = (aStart + kc) | 0;
  for (let i = aStart; i < end; i = (i + 1) | 0) {
    const a0 = aPlane0[i]!, a1 = aPlane1[i]!, a2 = aPlane2[i]!;
    const b0 = bPlane0[j]!, b1 = bPlane1[j]!;
    c00 += a0 * b0; c01 += a0 * b1;
    c10 += a1 * b0; c11 += a1 * b1;
    c20 += a2 * b0; c21 += a2 * b1;
    j = (j + 1) | 0;
  }
  tile[0] = c00; tile[1] = c01;
  tile[2] = c10; tile[3] = c11;
  tile[4] = c20; tile[5] = c21;
}

// C tile ← alpha·AB + beta·C tile. With beta = 0 the old C is never read, so NaN or garbage in
// an uninitialised output cannot leak through (0·NaN is NaN).
function storeTile(
  mr: number,
  nr: number,
  alpha: number,
  beta: number,
  c: GemmArray,
  cOff: number,
  cRowStride: number,
  cColStride: number,
): void {
  for (let i = 0; i < mr; i++) {
    let ci = cOff + i * cRowStride;
    if (beta === 0) {
      for (let j = 0; j < nr; j++, ci += cColStride) c[ci] = alpha * tile[i * NR + j]!;
    } else {
      for (let j = 0; j < nr; j++, ci += cColStride)
        c[ci] = alpha * tile[i * NR + j]! + beta * c[ci]!;
    }
  }
}

// Pack an mc×kc block of A into the A planes: row r of sliver s (rows s·MR..) goes to
// aPlanes[r] at offset s·kc, column by column, so the micro-kernel reads it with unit stride.
// Rows past mc are zeroed, so edge tiles compute on zeros rather than on an earlier call's data
// (only their mr×nr corner is stored in any case).
function packA(mc: number, kc: number, a: GemmArray, aOff: number, rs: number, cs: number): void {
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const o = (i0 / MR) * kc;
    for (let r = 0; r < MR; r++) {
      const plane = aPlanes[r]!;
      if (i0 + r < mc) {
        const src = aOff + (i0 + r) * rs;
        for (let p = 0; p < kc; p++) plane[o + p] = a[src + p * cs]!;
      } else {
        plane.fill(0, o, o + kc);
      }
    }
  }
}

// Pack a kc×nc panel of B into the B planes: column j of sliver s (columns s·NR..) goes to
// bPlanes[j] at offset s·kc, row by row; columns past nc are zero.
function packB(kc: number, nc: number, b: GemmArray, bOff: number, rs: number, cs: number): void {
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const o = (j0 / NR) * kc;
    for (let j = 0; j < NR; j++) {
      const plane = bPlanes[j]!;
      if (j0 + j < nc) {
        const src = bOff + (j0 + j) * cs;
        for (let p = 0; p < kc; p++) plane[o + p] = b[src + p * rs]!;
      } else {
        plane.fill(0, o, o + kc);
      }
    }
  }
}

// C ← beta·C, where beta = 0 writes zeros rather than multiplying (so NaN in C is cleared).
function scale(
  M: number,
  N: number,
  beta: number,
  c: GemmArray,
  cOff: number,
  cRowStride: number,
  cColStride: number,
): void {
  if (beta === 1) return;
  for (let i = 0; i < M; i++) {
    const cRow = cOff + i * cRowStride;
    for (let j = 0; j < N; j++) {
      const ci = cRow + j * cColStride;
      c[ci] = beta === 0 ? 0 : beta * c[ci]!;
    }
  }
}

/** Throws unless a is [M, K], b is [K, N] and c is [M, N]; the message names all three shapes. */
export function checkGemmShapes(c: GemmMatrix, a: GemmMatrix, b: GemmMatrix): void {
  const ok =
    a.shape.length === 2 &&
    b.shape.length === 2 &&
    c.shape.length === 2 &&
    a.shape[1] === b.shape[0] &&
    c.shape[0] === a.shape[0] &&
    c.shape[1] === b.shape[1];
  if (!ok) {
    const f = (s: readonly number[]): string => `[${s.join(', ')}]`;
    throw new Error(`gemm: cannot multiply ${f(a.shape)} by ${f(b.shape)} into ${f(c.shape)}`);
  }
}

/**
 * c ← alpha·a·b + beta·c for 2-D views of any strides and offsets: a [M, K], b [K, N], c [M, N].
 * Returns c.
 */
export function gemm<C extends GemmMatrix>(
  c: C,
  a: GemmMatrix,
  b: GemmMatrix,
  alpha = 1,
  beta = 0,
): C {
  checkGemmShapes(c, a, b);
  gemmStrided(
    a.shape[0]!,
    b.shape[1]!,
    a.shape[1]!,
    alpha,
    a.data,
    a.offset,
    a.stride[0]!,
    a.stride[1]!,
    b.data,
    b.offset,
    b.stride[0]!,
    b.stride[1]!,
    beta,
    c.data,
    c.offset,
    c.stride[0]!,
    c.stride[1]!,
  );
  return c;
}

/** Reference c ← alpha·a·b + beta·c by the triple loop over .get/.set: a [M, K], b [K, N], c [M, N]. */
export function gemmNaive<C extends GemmMatrix>(
  c: C,
  a: GemmMatrix,
  b: GemmMatrix,
  alpha = 1,
  beta = 0,
): C {
  checkGemmShapes(c, a, b);
  const [M, K] = a.shape as [number, number];
  const N = b.shape[1]!;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let sum = 0;
      for (let p = 0; p < K; p++) sum += a.get(i, p) * b.get(p, j);
      c.set(i, j, beta === 0 ? alpha * sum : alpha * sum + beta * c.get(i, j));
    }
  }
  return c;
}
