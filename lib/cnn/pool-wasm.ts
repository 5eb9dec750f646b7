// 2×2 pooling at stride 2 (no padding) for float32 on the WebAssembly kernel (assembly/pool.ts):
// the input is staged into kernel memory, pooled four windows per SIMD step, and the output (and
// argmax) copied back. Pooling is memory-bound, but the TypeScript loop's branch per comparison
// mispredicts half the time on real activations and the kernel selects lanes instead; the staging
// copies are bulk copies for dense tensors. Same results as pool.ts, which stays the reference.
import { gemmKernel, kernelRegions, type Tensor } from '../core/index.js';
import { type PoolGeometry } from './geometry.js';
import { stageSlices, unstageSlices } from './staging.js';

/** maxPool2dForward on the kernel, for 2×2 windows at stride 2 inside the input (float32). */
export function maxPool2x2ForwardWasm(
  out: Tensor,
  argmax: Int32Array,
  x: Tensor,
  geom: PoolGeometry,
): void {
  const { N, C, H, W, outH, outW } = geom;
  const planes = N * C;
  const size = planes * outH * outW;
  const { heap, at } = kernelRegions([planes * H * W, size, size]);
  const [xAt, yAt, argAt] = at as [number, number, number];
  stageSlices(heap, xAt >> 2, x, 0, N);
  gemmKernel().exports.maxPool2x2Forward(xAt, planes, H, W, outH, outW, yAt, argAt);
  unstageSlices(out, 0, N, heap, yAt >> 2);
  argmax.set(new Int32Array(heap.buffer, argAt, size));
}

/** maxPool2dBackward on the kernel (overwrites dx), for the geometry of maxPool2x2ForwardWasm. */
export function maxPool2x2BackwardWasm(
  dx: Tensor,
  dy: Tensor,
  argmax: Int32Array,
  geom: PoolGeometry,
): void {
  const { N, C, H, W, outH, outW } = geom;
  const planes = N * C;
  const size = planes * outH * outW;
  const { heap, at } = kernelRegions([size, size, planes * H * W]);
  const [dyAt, argAt, dxAt] = at as [number, number, number];
  stageSlices(heap, dyAt >> 2, dy, 0, N);
  new Int32Array(heap.buffer, argAt, size).set(argmax);
  gemmKernel().exports.maxPool2x2Backward(dyAt, argAt, planes, H, W, outH, outW, dxAt);
  unstageSlices(dx, 0, N, heap, dxAt >> 2);
}

/** avgPool2dForward on the kernel, for 2×2 windows at stride 2 inside the input (float32). */
export function avgPool2x2ForwardWasm(out: Tensor, x: Tensor, geom: PoolGeometry): void {
  const { N, C, H, W, outH, outW } = geom;
  const planes = N * C;
  const { heap, at } = kernelRegions([planes * H * W, planes * outH * outW]);
  const [xAt, yAt] = at as [number, number];
  stageSlices(heap, xAt >> 2, x, 0, N);
  gemmKernel().exports.avgPool2x2Forward(xAt, planes, H, W, outH, outW, yAt);
  unstageSlices(out, 0, N, heap, yAt >> 2);
}

/** avgPool2dBackward on the kernel (overwrites dx), for the geometry of avgPool2x2ForwardWasm. */
export function avgPool2x2BackwardWasm(dx: Tensor, dy: Tensor, geom: PoolGeometry): void {
  const { N, C, H, W, outH, outW } = geom;
  const planes = N * C;
  const { heap, at } = kernelRegions([planes * outH * outW, planes * H * W]);
  const [dyAt, dxAt] = at as [number, number];
  stageSlices(heap, dyAt >> 2, dy, 0, N);
  gemmKernel().exports.avgPool2x2Backward(dyAt, planes, H, W, outH, outW, dxAt);
  unstageSlices(dx, 0, N, heap, dxAt >> 2);
}
