// Tensors whose float32 storage lives in the WebAssembly kernel's memory (see residentAlloc in
// gemm-wasm.ts): the kernels read and write them where they are, without copying them in and
// out, and the thread pool's helpers can work on them. Buffers that are reused call after call
// (a feature network's activations) are worth keeping there.
import { residentAlloc } from './gemm-wasm.js';
import { sizeOf, tensor, zeros, type DType, type Tensor, type Tensor32 } from './ndarray.js';

/** A float32 zero tensor in kernel memory, or null where the kernel's memory cannot hold one. */
export function residentZeros(shape: readonly number[]): Tensor32 | null {
  const data = residentAlloc(sizeOf(shape));
  return data === null ? null : tensor(data, shape);
}

/** residentZeros where kernel memory can hold it, else an ordinary float32 zero tensor. */
export function kernelZeros(shape: readonly number[]): Tensor32 {
  return residentZeros(shape) ?? zeros(shape, 'float32');
}

/**
 * Zeros for a buffer that a loop reuses call after call (reuseTensor's allocator): float32 in
 * kernel memory where it can be (kernelZeros), float64 an ordinary array.
 */
export function bufferZeros(shape: readonly number[], dtype: DType): Tensor {
  return dtype === 'float32' ? kernelZeros(shape) : zeros(shape, dtype);
}
