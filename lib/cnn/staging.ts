// Copies between tensors (any views) and the WebAssembly kernel's memory, for the kernels that
// run there (conv2d-wasm.ts, pool-wasm.ts): one bulk copy per slice when the tensor is dense,
// element by element through its strides otherwise.
import { residentAddress, type Tensor } from '../core/index.js';

let copied = 0;

/** Floats copied into or out of kernel memory by this module so far (what resident tensors save). */
export function stagedFloats(): number {
  return copied;
}

// True when axes 1–3 of a 4-D tensor are row-major contiguous (axes of size 1 may have any
// stride), so each slice t[n] is one run of storage.
function denseSlices(t: Tensor): boolean {
  let expected = 1;
  for (let d = 3; d >= 1; d--) {
    const size = t.shape[d]!;
    if (size > 1 && t.stride[d] !== expected) return false;
    expected *= size;
  }
  return true;
}

/**
 * Copy slices n0 … n0 + nb − 1 of t [N, A, B, D] into heap from element `base`, as a contiguous
 * [nb, A, B, D] (images of x, or rows of the weights as [F, C·kH·kW]).
 */
export function stageSlices(
  heap: Float32Array,
  base: number,
  t: Tensor,
  n0: number,
  nb: number,
): void {
  const [, A, B, D] = t.shape as [number, number, number, number];
  const [s0, s1, s2, s3] = t.stride as [number, number, number, number];
  const size = A * B * D;
  copied += nb * size;
  const src = t.data;
  if (denseSlices(t)) {
    for (let i = 0; i < nb; i++) {
      const q = t.offset + (n0 + i) * s0;
      heap.set(src.subarray(q, q + size), base + i * size);
    }
    return;
  }
  let p = base;
  for (let i = 0; i < nb; i++) {
    for (let a = 0; a < A; a++) {
      for (let b = 0; b < B; b++) {
        let q = t.offset + (n0 + i) * s0 + a * s1 + b * s2;
        for (let d = 0; d < D; d++, q += s3) heap[p++] = src[q]!;
      }
    }
  }
}

/** The inverse of stageSlices: heap from `base`, contiguous [nb, A, B, D], into slices n0 … of t. */
export function unstageSlices(
  t: Tensor,
  n0: number,
  nb: number,
  heap: Float32Array,
  base: number,
): void {
  const [, A, B, D] = t.shape as [number, number, number, number];
  const [s0, s1, s2, s3] = t.stride as [number, number, number, number];
  const size = A * B * D;
  copied += nb * size;
  const dst = t.data;
  if (denseSlices(t)) {
    for (let i = 0; i < nb; i++) {
      const p = base + i * size;
      dst.set(heap.subarray(p, p + size), t.offset + (n0 + i) * s0);
    }
    return;
  }
  let p = base;
  for (let i = 0; i < nb; i++) {
    for (let a = 0; a < A; a++) {
      for (let b = 0; b < B; b++) {
        let q = t.offset + (n0 + i) * s0 + a * s1 + b * s2;
        for (let d = 0; d < D; d++, q += s3) dst[q] = heap[p++]!;
      }
    }
  }
}

/**
 * Byte address of slice t[n0] in kernel memory when t is resident storage (residentZeros) laid
 * out row-major dense, so that the kernels can read or write slices n0 … in place instead of
 * staging them; else null.
 */
export function residentSlices(t: Tensor, n0: number): number | null {
  const [N, A, B, D] = t.shape as [number, number, number, number];
  if (!denseSlices(t) || (N > 1 && t.stride[0] !== A * B * D)) return null;
  const at = residentAddress(t.data, t.offset);
  return at === null ? null : at + 4 * n0 * A * B * D;
}

// True when each map t[n, f] of a 4-D tensor [N, F, B, D] is one run of storage.
function denseMaps(t: Tensor): boolean {
  const [, , B, D] = t.shape as [number, number, number, number];
  return (D === 1 || t.stride[3] === 1) && (B === 1 || t.stride[2] === D);
}

/**
 * Images n0 … n0 + nb − 1 of t [N, F, outH, outW] into heap from `base` as a row-major
 * [F, nb·P] matrix: row f holds t[n0, f, :], t[n0 + 1, f, :], … (the column order of cols).
 * With c0, c1 only columns c0 … c1 − 1 are copied (column l is pixel l mod P of image
 * n0 + ⌊l / P⌋), so that a copy can go in parts beside other work.
 */
export function stageMaps(
  heap: Float32Array,
  base: number,
  t: Tensor,
  n0: number,
  nb: number,
  P: number,
  c0 = 0,
  c1 = nb * P,
): void {
  if (nb === 1 && c0 === 0 && c1 === P && denseSlices(t)) {
    stageSlices(heap, base, t, n0, 1);
    return;
  }
  copyMapColumns(true, t, n0, nb, P, heap, base, c0, c1);
}

/** The inverse of stageMaps: columns c0 … c1 − 1 of the [F, nb·P] matrix at heap `base` into t. */
export function unstageMapColumns(
  t: Tensor,
  n0: number,
  nb: number,
  P: number,
  heap: Float32Array,
  base: number,
  c0: number,
  c1: number,
): void {
  copyMapColumns(false, t, n0, nb, P, heap, base, c0, c1);
}

// Columns c0 … c1 − 1 of the row-major [F, nb·P] matrix at heap `base` to or from images n0 … of
// t [N, F, outH, outW], by runs of columns that stay within one image.
function copyMapColumns(
  toHeap: boolean,
  t: Tensor,
  n0: number,
  nb: number,
  P: number,
  heap: Float32Array,
  base: number,
  c0: number,
  c1: number,
): void {
  const F = t.shape[1]!;
  const D = t.shape[3]!;
  copied += F * (c1 - c0);
  const [s0, s1, s2, s3] = t.stride as [number, number, number, number];
  const data = t.data;
  const dense = denseMaps(t);
  const L = nb * P;
  for (let f = 0; f < F; f++) {
    for (let l = c0; l < c1;) {
      const i = Math.floor(l / P);
      const p0 = l - i * P;
      const p1 = Math.min(P, p0 + (c1 - l));
      const start = t.offset + (n0 + i) * s0 + f * s1;
      const h = base + f * L + l - p0; // heap index of pixel 0 of this run's image row
      if (dense) {
        if (toHeap) heap.set(data.subarray(start + p0, start + p1), h + p0);
        else data.set(heap.subarray(h + p0, h + p1), start + p0);
      } else {
        for (let p = p0; p < p1; p++) {
          const q = start + Math.floor(p / D) * s2 + (p % D) * s3;
          if (toHeap) heap[h + p] = data[q]!;
          else data[q] = heap[h + p]!;
        }
      }
      l += p1 - p0;
    }
  }
}
