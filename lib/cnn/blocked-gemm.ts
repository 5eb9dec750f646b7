// The matrix product under the fast conv kernels: C ← α·A·B + β·C on raw typed arrays with any
// strides, blocked for the caches (Goto's scheme: a KC×NC panel of B, an MC×KC block of A, both
// packed into contiguous scratch) and register-tiled (a 4×4 block of C lives in 16 locals).
import { type FloatArray } from '../core/index.js';

const MR = 4; // rows of the register tile
const NR = 4; // columns of the register tile
const KC = 256; // depth of a packed panel: a KC×NR sliver of B stays in L1
const MC = 64; // rows of a packed block of A: MC×KC doubles stay in L2
const NC = 2048; // columns of a packed panel of B

// Packed panels are float64 whatever the inputs are, so the micro-kernel sees one array type
// (V8 compiles it once, monomorphic). They are allocated once and reused by every call.
const packedA = new Float64Array(MC * KC);
const packedB = new Float64Array(KC * NC);
const tile = new Float64Array(MR * NR);

/**
 * C ← α·A·B + β·C for A `[M, K]`, B `[K, N]`, C `[M, N]`, each given as storage, offset and
 * (row, column) strides, so transposes and views cost nothing. β = 0 ignores C's old values
 * (even NaN); β = 1 accumulates.
 */
export function blockedGemm(
  M: number,
  N: number,
  K: number,
  alpha: number,
  a: FloatArray,
  aOff: number,
  aRowStride: number,
  aColStride: number,
  b: FloatArray,
  bOff: number,
  bRowStride: number,
  bColStride: number,
  beta: number,
  c: FloatArray,
  cOff: number,
  cRowStride: number,
  cColStride: number,
): void {
  if (beta !== 1) scaleMatrix(M, N, beta, c, cOff, cRowStride, cColStride);
  if (K === 0 || alpha === 0) return;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      packB(kc, nc, b, bOff + pc * bRowStride + jc * bColStride, bRowStride, bColStride);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        packA(mc, kc, alpha, a, aOff + ic * aRowStride + pc * aColStride, aRowStride, aColStride);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            microKernel(kc, ir * kc, jr * kc);
            addTile(
              Math.min(MR, mc - ir),
              nr,
              c,
              cOff + (ic + ir) * cRowStride + (jc + jr) * cColStride,
              cRowStride,
              cColStride,
            );
          }
        }
      }
    }
  }
}

function scaleMatrix(
  M: number,
  N: number,
  beta: number,
  c: FloatArray,
  off: number,
  rs: number,
  cs: number,
): void {
  for (let i = 0; i < M; i++) {
    let p = off + i * rs;
    if (beta === 0) for (let j = 0; j < N; j++, p += cs) c[p] = 0;
    else for (let j = 0; j < N; j++, p += cs) c[p] *= beta;
  }
}

// A block [mc, kc] → strips of MR rows, each stored k-major: strip s holds α·A[s·MR + r, k] at
// (s·kc + k)·MR + r. Rows past mc are zero, so edge tiles need no special micro-kernel.
function packA(
  mc: number,
  kc: number,
  alpha: number,
  a: FloatArray,
  off: number,
  rs: number,
  cs: number,
): void {
  let p = 0;
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = Math.min(MR, mc - ir);
    for (let k = 0; k < kc; k++) {
      const base = off + ir * rs + k * cs;
      for (let r = 0; r < MR; r++) packedA[p++] = r < rows ? alpha * a[base + r * rs]! : 0;
    }
  }
}

// B panel [kc, nc] → strips of NR columns, each k-major: B[k, t·NR + q] at (t·kc + k)·NR + q.
function packB(kc: number, nc: number, b: FloatArray, off: number, rs: number, cs: number): void {
  let p = 0;
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = Math.min(NR, nc - jr);
    if (cols === NR) {
      for (let k = 0; k < kc; k++) {
        const base = off + k * rs + jr * cs;
        packedB[p] = b[base]!;
        packedB[p + 1] = b[base + cs]!;
        packedB[p + 2] = b[base + 2 * cs]!;
        packedB[p + 3] = b[base + 3 * cs]!;
        p += NR;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const base = off + k * rs + jr * cs;
        for (let q = 0; q < NR; q++) packedB[p++] = q < cols ? b[base + q * cs]! : 0;
      }
    }
  }
}

// The register tile: a 4×4 block of C in 16 locals, updated by one rank-1 product per k
// (4 loads of A, 4 of B, 16 multiply-adds). Writes the block to `tile`.
function microKernel(kc: number, ia: number, ib: number): void {
  const A = packedA;
  const B = packedB;
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0,
    c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0,
    c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0,
    c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  for (let k = 0; k < kc; k++) {
    const a0 = A[ia]!;
    const a1 = A[ia + 1]!;
    const a2 = A[ia + 2]!;
    const a3 = A[ia + 3]!;
    const b0 = B[ib]!;
    const b1 = B[ib + 1]!;
    const b2 = B[ib + 2]!;
    const b3 = B[ib + 3]!;
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    c03 += a0 * b3;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    c13 += a1 * b3;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    c23 += a2 * b3;
    c30 += a3 * b0;
    c31 += a3 * b1;
    c32 += a3 * b2;
    c33 += a3 * b3;
    ia += MR;
    ib += NR;
  }
  tile[0] = c00;
  tile[1] = c01;
  tile[2] = c02;
  tile[3] = c03;
  tile[4] = c10;
  tile[5] = c11;
  tile[6] = c12;
  tile[7] = c13;
  tile[8] = c20;
  tile[9] = c21;
  tile[10] = c22;
  tile[11] = c23;
  tile[12] = c30;
  tile[13] = c31;
  tile[14] = c32;
  tile[15] = c33;
}

function addTile(mr: number, nr: number, c: FloatArray, off: number, rs: number, cs: number): void {
  for (let r = 0; r < mr; r++) {
    const row = off + r * rs;
    for (let q = 0; q < nr; q++) c[row + q * cs] += tile[r * NR + q]!;
  }
}
