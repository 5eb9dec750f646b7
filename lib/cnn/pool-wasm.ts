// 2×2 pooling at stride 2 (no padding) for float32 on the WebAssembly kernel (assembly/pool.ts):
// the input is staged into kernel memory, pooled four windows per SIMD step, and the output (and
// argmax) copied back. Pooling is memory-bound, but the TypeScript loop's branch per comparison
// mispredicts half the time on real activations and the kernel selects lanes instead; the staging
// copies are bulk copies for dense tensors, and resident tensors (residentZeros) need none. Same
// results as pool.ts, which stays the reference.
import { gemmKernel, kernelRegions, sizeOf, type Tensor } from '../core/index.js';
import { type PoolGeometry } from './geometry.js';
import { residentSlices, stageSlices, unstageSlices } from './staging.js';

// Lay out kernel memory for an input and an output tensor (plus `extra` floats), each at its own
// place when resident, else in a staging region; the input is staged here. `finish` copies the
// output back unless the kernel wrote it in place.
function operands(
  input: Tensor,
  output: Tensor,
  extra: number,
): { heap: Float32Array; inAt: number; outAt: number; extraAt: number; finish: () => void } {
  const [inIn, outIn] = [residentSlices(input, 0), residentSlices(output, 0)];
  const { heap, at } = kernelRegions([
    inIn === null ? sizeOf(input.shape) : 0,
    outIn === null ? sizeOf(output.shape) : 0,
    extra,
  ]);
  const inAt = inIn ?? at[0]!;
  const outAt = outIn ?? at[1]!;
  if (inIn === null) stageSlices(heap, inAt >> 2, input, 0, input.shape[0]!);
  const finish = (): void => {
    if (outIn === null) unstageSlices(output, 0, output.shape[0]!, heap, outAt >> 2);
  };
  return { heap, inAt, outAt, extraAt: at[2]!, finish };
}

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
  const { heap, inAt, outAt, extraAt, finish } = operands(x, out, size);
  gemmKernel().exports.maxPool2x2Forward(inAt, planes, H, W, outH, outW, outAt, extraAt);
  finish();
  argmax.set(new Int32Array(heap.buffer, extraAt, size));
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
  const { heap, inAt, outAt, extraAt, finish } = operands(dy, dx, size);
  new Int32Array(heap.buffer, extraAt, size).set(argmax);
  gemmKernel().exports.maxPool2x2Backward(inAt, extraAt, planes, H, W, outH, outW, outAt);
  finish();
}

/** avgPool2dForward on the kernel, for 2×2 windows at stride 2 inside the input (float32). */
export function avgPool2x2ForwardWasm(out: Tensor, x: Tensor, geom: PoolGeometry): void {
  const { N, C, H, W, outH, outW } = geom;
  const { inAt, outAt, finish } = operands(x, out, 0);
  gemmKernel().exports.avgPool2x2Forward(inAt, N * C, H, W, outH, outW, outAt);
  finish();
}

/** avgPool2dBackward on the kernel (overwrites dx), for the geometry of avgPool2x2ForwardWasm. */
export function avgPool2x2BackwardWasm(dx: Tensor, dy: Tensor, geom: PoolGeometry): void {
  const { N, C, H, W, outH, outW } = geom;
  const { inAt, outAt, finish } = operands(dy, dx, 0);
  gemmKernel().exports.avgPool2x2Backward(inAt, N * C, H, W, outH, outW, outAt);
  finish();
}
