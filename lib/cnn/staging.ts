// Copies between tensors (any views) and the WebAssembly kernel's memory, for the kernels that
// run there (conv2d-wasm.ts, pool-wasm.ts): one bulk copy per slice when the tensor is dense,
// element by element through its strides otherwise.
import { type Tensor } from '../core/index.js';

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

// True when each map t[n, f] of a 4-D tensor [N, F, B, D] is one run of storage.
function denseMaps(t: Tensor): boolean {
  const [, , B, D] = t.shape as [number, number, number, number];
  return (D === 1 || t.stride[3] === 1) && (B === 1 || t.stride[2] === D);
}

/**
 * Images n0 … n0 + nb − 1 of t [N, F, outH, outW] into heap from `base` as a row-major
 * [F, nb·P] matrix: row f holds t[n0, f, :], t[n0 + 1, f, :], … (the column order of cols).
 */
export function stageMaps(
  heap: Float32Array,
  base: number,
  t: Tensor,
  n0: number,
  nb: number,
  P: number,
): void {
  const F = t.shape[1]!;
  if (nb === 1 && denseSlices(t)) {
    stageSlices(heap, base, t, n0, 1);
    return;
  }
  const [, , B, D] = t.shape as [number, number, number, number];
  const [s0, s1, s2, s3] = t.stride as [number, number, number, number];
  const src = t.data;
  const dense = denseMaps(t);
  const L = nb * P;
  for (let f = 0; f < F; f++) {
    for (let i = 0; i < nb; i++) {
      let p = base + f * L + i * P;
      const start = t.offset + (n0 + i) * s0 + f * s1;
      if (dense) {
        heap.set(src.subarray(start, start + P), p);
        continue;
      }
      for (let b = 0; b < B; b++) {
        let q = start + b * s2;
        for (let d = 0; d < D; d++, q += s3) heap[p++] = src[q]!;
      }
    }
  }
}

/** The inverse of stageMaps: the row-major [F, nb·P] matrix at heap `base` into images n0 … of t. */
export function unstageMaps(
  t: Tensor,
  n0: number,
  nb: number,
  P: number,
  heap: Float32Array,
  base: number,
): void {
  const F = t.shape[1]!;
  if (nb === 1 && denseSlices(t)) {
    unstageSlices(t, n0, 1, heap, base);
    return;
  }
  const [, , B, D] = t.shape as [number, number, number, number];
  const [s0, s1, s2, s3] = t.stride as [number, number, number, number];
  const dst = t.data;
  const dense = denseMaps(t);
  const L = nb * P;
  for (let f = 0; f < F; f++) {
    for (let i = 0; i < nb; i++) {
      let p = base + f * L + i * P;
      const start = t.offset + (n0 + i) * s0 + f * s1;
      if (dense) {
        dst.set(heap.subarray(p, p + P), start);
        continue;
      }
      for (let b = 0; b < B; b++) {
        let q = start + b * s2;
        for (let d = 0; d < D; d++, q += s3) dst[q] = heap[p++]!;
      }
    }
  }
}
