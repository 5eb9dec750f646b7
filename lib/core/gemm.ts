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
// held in locals. Of the tiles tried from 2×2 to 8×4, 4×4 was among the fastest: 16
// accumulators and 8 operands just about fit x86-64's 16 vector registers, while 4×8 and 8×4
// spill and ran about 25% slower (measured).
const MR = 4;
const NR = 4;

// Cache blocks (Goto's rule: each packed operand lives in the cache level it is reused from).
// KC: one KC×NR sliver of packed B (KC·NR·8 bytes = 8 KiB) stays in the 32 KiB L1 while the
//   micro-kernel sweeps the MC/MR slivers of A past it.
// MC: the MC×KC block of packed A (128·256·8 = 256 KiB) stays in the 512 KiB L2.
// NC: the KC×NC panel of packed B (256·2048·8 = 4 MiB) stays in the shared 32 MiB L3.
// In plain JavaScript the micro-kernel, not memory, is the bottleneck: KC from 128 to 512 and MC
// from 32 to 128 all measured within 5% of each other at 512³.
const KC = 256;
const MC = 128;
const NC = 2048;

// Packed panels are float64 whatever the operands are, so the micro-kernel only ever sees
// Float64Array and V8 keeps it monomorphic; float32 values convert exactly on the way in.
let aPack = new Float64Array(MC * KC);
let bPack = new Float64Array(KC * NC);
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
  growScratch(Math.min(M, MC), Math.min(N, NC), Math.min(K, KC));
  // Loop 5 (jc): column panels of B and C, NC wide.
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    // Loop 4 (pc): rank-KC updates; only the first one applies the caller's beta.
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      const betaBlock = pc === 0 ? beta : 1;
      packB(kc, nc, b, bOff + pc * bRowStride + jc * bColStride, bRowStride, bColStride, bPack);
      // Loop 3 (ic): row blocks of A and C, MC tall.
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        packA(mc, kc, a, aOff + ic * aRowStride + pc * aColStride, aRowStride, aColStride, aPack);
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
    const bStart = jr * kc;
    for (let ir = 0; ir < mc; ir += MR) {
      const mr = Math.min(MR, mc - ir);
      microKernel(kc, aPack, ir * kc, bPack, bStart, tile);
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

// The 4×4 micro-kernel: a sequence of kc rank-1 updates of 16 accumulators, reading MR values
// of the packed A sliver and NR values of the packed B sliver per step (BLIS's "gemm ukernel").
// prettier-ignore
function microKernel(
  kc: number,
  ap: Float64Array,
  aStart: number,
  bp: Float64Array,
  bStart: number,
  ab: Float64Array,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  let ia = aStart;
  let ib = bStart;
  for (let p = 0; p < kc; p++) {
    const a0 = ap[ia]!, a1 = ap[ia + 1]!, a2 = ap[ia + 2]!, a3 = ap[ia + 3]!;
    const b0 = bp[ib]!, b1 = bp[ib + 1]!, b2 = bp[ib + 2]!, b3 = bp[ib + 3]!;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    ia += MR;
    ib += NR;
  }
  ab[0] = c00; ab[1] = c01; ab[2] = c02; ab[3] = c03;
  ab[4] = c10; ab[5] = c11; ab[6] = c12; ab[7] = c13;
  ab[8] = c20; ab[9] = c21; ab[10] = c22; ab[11] = c23;
  ab[12] = c30; ab[13] = c31; ab[14] = c32; ab[15] = c33;
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

// Pack an mc×kc block of A as MR-row slivers: sliver s holds rows s·MR.., column by column, so the
// micro-kernel reads it with unit stride. Rows past mc are zero, which makes edge tiles harmless.
function packA(
  mc: number,
  kc: number,
  a: GemmArray,
  aOff: number,
  rs: number,
  cs: number,
  out: Float64Array,
): void {
  let o = 0;
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const mr = Math.min(MR, mc - i0);
    for (let p = 0; p < kc; p++) {
      const src = aOff + i0 * rs + p * cs;
      let r = 0;
      for (; r < mr; r++) out[o + r] = a[src + r * rs]!;
      for (; r < MR; r++) out[o + r] = 0;
      o += MR;
    }
  }
}

// Pack a kc×nc panel of B as NR-column slivers, row by row, zero-padded past nc.
function packB(
  kc: number,
  nc: number,
  b: GemmArray,
  bOff: number,
  rs: number,
  cs: number,
  out: Float64Array,
): void {
  let o = 0;
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const nr = Math.min(NR, nc - j0);
    for (let p = 0; p < kc; p++) {
      const src = bOff + p * rs + j0 * cs;
      let j = 0;
      for (; j < nr; j++) out[o + j] = b[src + j * cs]!;
      for (; j < NR; j++) out[o + j] = 0;
      o += NR;
    }
  }
}

// Scratch grows to the largest block seen and is then reused: no allocation per call.
function growScratch(mc: number, nc: number, kc: number): void {
  const aNeed = Math.ceil(mc / MR) * MR * kc;
  const bNeed = Math.ceil(nc / NR) * NR * kc;
  if (aPack.length < aNeed) aPack = new Float64Array(aNeed);
  if (bPack.length < bNeed) bPack = new Float64Array(bNeed);
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
