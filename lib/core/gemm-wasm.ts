// Float32 GEMM on the WebAssembly SIMD kernel (assembly/gemm.ts, embedded by
// lib/core/wasm/gemm-wasm.ts), with the meaning and signature of `gemm`. The kernel reads its
// operands from its own linear memory, so this loader stages each operand there: a plain copy
// of the span the view covers (a memcpy, so a transposed view costs nothing extra), or a
// gather when the view is a sparse window of a much larger array. At the sizes routed here
// the copies move O(n²) bytes against O(n³) flops: copying A, B, C in and C out measured 6.5% of
// the kernel's time at 256³, 3% at 512³ and 1024³. Letting callers allocate tensors inside wasm
// memory would save that, but needs an allocator with lifetimes beside the garbage collector
// (and a memory that never detaches on growth), which plain ndarray tensors do not have.
// Callers that build an operand themselves (the conv's column matrix, by im2col in the same
// module) instead take regions of kernel memory for one call (`kernelRegions`) and run the
// product on them in place (`gemmWasmStaged`). Where WebAssembly SIMD is missing, or for
// float64, everything falls back to `gemmStrided`.
import { checkGemmShapes, gemmStrided } from './gemm.js';
import type { GemmArray, GemmMatrix } from './gemm.js';
import {
  gemmWasmBase64,
  gemmWasmRelaxedBase64,
  gemmWasmRelaxedSharedBase64,
  gemmWasmSharedBase64,
} from './wasm/gemm-wasm.js';

/** A product's kernel arguments: sizes, alpha, then pointer and strides of A, B, beta, C. */
export type ProductArgs = [
  M: number,
  N: number,
  K: number,
  alpha: number,
  aPtr: number,
  aRs: number,
  aCs: number,
  bPtr: number,
  bRs: number,
  bCs: number,
  beta: number,
  cPtr: number,
  cRs: number,
  cCs: number,
];

/** Arguments of the kernel's `gemm`: a product's, then the byte address of its scratch region. */
export type KernelArgs = [...ProductArgs, scratch: number];

/** An image's [C, H, W] and the conv geometry, as im2col, col2im and im2colBlock read them. */
type ConvShapeArgs = [
  C: number,
  H: number,
  W: number,
  kH: number,
  kW: number,
  outH: number,
  outW: number,
  strideH: number,
  strideW: number,
  padTop: number,
  padLeft: number,
  dilationH: number,
  dilationW: number,
];

/**
 * Arguments of the kernel's `im2col` and `col2im` (assembly/conv.ts): the image's byte address and
 * its [C, H, W], the conv geometry, then the column matrix's byte address and row length.
 */
export type Im2colArgs = [image: number, ...ConvShapeArgs, cols: number, ld: number];

/**
 * An implicit column matrix, given to gemmWasmStaged as its B in place of one im2col would build
 * (assembly/conv.ts, im2colBlock): im2col's arguments for image 0 with the column matrix's
 * address replaced by the bytes from one image to the next; `ld` is the matrix's row length,
 * images · outH · outW. Rows past C·kH·kW are ones (a bias row).
 */
export type Im2colDescriptor = [image: number, ...ConvShapeArgs, imageBytes: number, ld: number];

/** Bytes an Im2colDescriptor takes in kernel memory (16 int32). */
export const IM2COL_DESCRIPTOR_BYTES = 64;

/** Write `desc` at byte `at` of kernel memory, as the int32 the kernel reads. */
export function writeIm2colDescriptor(at: number, desc: Im2colDescriptor): void {
  ints(gemmKernel()).set(desc, at >> 2);
}

/**
 * The exports of the compiled kernel module (assembly/gemm.ts, conv.ts, pool.ts). Addresses are
 * in bytes; the 2×2 pooling kernels work on `planes` contiguous [H, W] images.
 */
export interface GemmKernelExports {
  heapBase(): number;
  scratchBytes(): number;
  gemm(...args: KernelArgs): void;
  /**
   * gemm with A and/or B already packed whole (byte address, 0: pack from the operand), the
   * pointer after each operand's strides: M, N, K, alpha, a, aRs, aCs, aPacked, b, bRs, bCs,
   * bPacked, beta, c, cRs, cCs, scratch, bIm2col. bIm2col ≠ 0: B is the implicit column matrix
   * its descriptor describes (Im2colDescriptor), b a byte offset into it (see gemmWasmStaged).
   */
  gemmPacked(...args: number[]): void;
  /** Pack all of A (M×K) at `out` for gemmPacked; takes packedFloats(0, M, K) floats. */
  packAPanels(M: number, K: number, a: number, aRs: number, aCs: number, out: number): void;
  /**
   * Pack all of B (K×N) at `out` for gemmPacked; takes packedFloats(1, K, N) floats. An implicit
   * B (bIm2col ≠ 0) is built through `scratch` (a scratch region), else that is unused.
   */
  packBPanels(
    K: number,
    N: number,
    b: number,
    bRs: number,
    bCs: number,
    out: number,
    bIm2col: number,
    scratch: number,
  ): void;
  /**
   * Rows k0 … k0 + rows − 1, columns l0 … l0 + n − 1 of the implicit column matrix described at
   * byte `desc`, written row-major (row length ldDst) at byte dst.
   */
  im2colBlock(
    desc: number,
    k0: number,
    rows: number,
    l0: number,
    n: number,
    dst: number,
    ldDst: number,
  ): void;
  /** Floats of a whole packed A (ofB = 0; rows M, cols K) or B (ofB = 1; rows K, cols N). */
  packedFloats(ofB: number, rows: number, cols: number): number;
  im2col(...args: Im2colArgs): void;
  col2im(...args: Im2colArgs): void;
  maxPool2x2Forward(
    x: number,
    planes: number,
    H: number,
    W: number,
    outH: number,
    outW: number,
    y: number,
    argmax: number,
  ): void;
  maxPool2x2Backward(
    dy: number,
    argmax: number,
    planes: number,
    H: number,
    W: number,
    outH: number,
    outW: number,
    dx: number,
  ): void;
  avgPool2x2Forward(
    x: number,
    planes: number,
    H: number,
    W: number,
    outH: number,
    outW: number,
    y: number,
  ): void;
  avgPool2x2Backward(
    dy: number,
    planes: number,
    H: number,
    W: number,
    outH: number,
    outW: number,
    dx: number,
  ): void;
  /** Winograd F(2×2, 3×3) filter transform (assembly/winograd.ts); strides in floats. */
  winogradFilters(
    w: number,
    O: number,
    I: number,
    so: number,
    si: number,
    sa: number,
    sb: number,
    u: number,
    plane: number,
  ): void;
  /** Zero-padded copy [C, Hp, Wp] of one image [C, H, W] for the Winograd input transform. */
  winogradPad(
    x: number,
    C: number,
    H: number,
    W: number,
    p: number,
    Hp: number,
    Wp: number,
    padTop: number,
    padLeft: number,
  ): void;
  /** Winograd input transform of tile rows th0 … th1 − 1 of one zero-padded image [C, Hp, Wp]. */
  winogradInputs(
    p: number,
    C: number,
    Hp: number,
    Wp: number,
    th0: number,
    th1: number,
    tilesW: number,
    v: number,
    ld: number,
    plane: number,
  ): void;
  /** Winograd output transform of tile rows th0 … th1 − 1 into one image [F, outH, outW]. */
  winogradOutputs(
    m: number,
    F: number,
    th0: number,
    th1: number,
    tilesW: number,
    ld: number,
    plane: number,
    y: number,
    outH: number,
    outW: number,
    bias: number,
  ): void;
  /** winogradFilters for F(4×4, 3×3) (assembly/winograd4.ts): the same arguments, 36 planes. */
  winograd4Filters(
    w: number,
    O: number,
    I: number,
    so: number,
    si: number,
    sa: number,
    sb: number,
    u: number,
    plane: number,
  ): void;
  /** winogradInputs for F(4×4, 3×3): the same arguments, 36 planes, tiles 4 floats apart. */
  winograd4Inputs(
    p: number,
    C: number,
    Hp: number,
    Wp: number,
    th0: number,
    th1: number,
    tilesW: number,
    v: number,
    ld: number,
    plane: number,
  ): void;
  /** winogradOutputs for F(4×4, 3×3): the same arguments, 36 planes (overwritten on the way). */
  winograd4Outputs(
    m: number,
    F: number,
    th0: number,
    th1: number,
    tilesW: number,
    ld: number,
    plane: number,
    y: number,
    outH: number,
    outW: number,
    bias: number,
  ): void;
  /**
   * Winograd's three steps band by band of tile rows (assembly/winograd.ts): the 15 WinogradBandArgs,
   * then band0, bands, vm (one band's V and M), scratch (the GEMM's).
   */
  winogradBands(...args: [...WinogradBandArgs, number, number, number, number]): void;
  /** y ← max(0, x) over blocks·block floats (assembly/elementwise.ts). */
  reluForward(x: number, blocks: number, y: number, block: number): void;
  /** dx ← dy·[y > 0] over blocks·block floats. */
  reluBackward(dy: number, blocks: number, y: number, dx: number, block: number): void;
  /** d ← d + t over blocks·block floats. */
  addInto(d: number, blocks: number, t: number, block: number): void;
  /** sums[r] ← Σₖ f[r, k] (float64 at `sums`) for rows of M floats, in rowSum's order. */
  rowSums(f: number, rows: number, sums: number, M: number): void;
  /** out[r, k] ← f[r, k] − mu[r] (mu float64), rounded to float32. */
  centreRows(f: number, rows: number, mu: number, out: number, M: number): void;
  /** d[r, k] ← d[r, k] + g[r] (g float64), rounded to float32. */
  addRowConstants(d: number, rows: number, g: number, M: number): void;
  /** partial[i] ← aᵀb over block i of blocks·block float64 entries (assembly/vectors.ts). */
  dotBlocks(a: number, blocks: number, b: number, partial: number, block: number): void;
  /** y ← γ·(y + a·x), then partial[i] ← zᵀy over block i. */
  axpyScaleDotBlocks(
    y: number,
    blocks: number,
    a: number,
    x: number,
    gamma: number,
    z: number,
    partial: number,
    block: number,
  ): void;
  /** y ← y + a·x over blocks·block float64 entries. */
  axpyBlocks(y: number, blocks: number, a: number, x: number, block: number): void;
}

/**
 * The arguments of a fused Winograd conv of one image shared by all its bands: padded image p,
 * C, Hp, Wp, tilesH, tilesW, rowsPerBand, packed U and its byte step per ξ, F, output y, outH,
 * outW, bias (byte address of F floats, or 0), and the scheme's output tile (2: F(2×2, 3×3),
 * 4: F(4×4, 3×3)).
 */
export type WinogradBandArgs = [
  p: number,
  C: number,
  Hp: number,
  Wp: number,
  tilesH: number,
  tilesW: number,
  rowsPerBand: number,
  u: number,
  uStep: number,
  F: number,
  y: number,
  outH: number,
  outW: number,
  bias: number,
  tile: number,
];

/**
 * The kernel passes that loop over a leading channel axis (assembly/winograd.ts; the element-wise
 * and row passes of assembly/elementwise.ts loop over blocks of floats or rows the same way, and
 * L-BFGS's vector passes of assembly/vectors.ts over blocks of entries): argument 1 is
 * the channel count, and channel c's data sits at fixed byte steps from channel 0's pointers, so
 * a range of channels runs as the same call with shifted pointers and a smaller count.
 */
export const CHANNEL_PASSES = [
  'winogradFilters',
  'winogradPad',
  'winogradInputs',
  'winogradOutputs',
  'winograd4Filters',
  'winograd4Inputs',
  'winograd4Outputs',
  'reluForward',
  'reluBackward',
  'addInto',
  'rowSums',
  'centreRows',
  'addRowConstants',
  'dotBlocks',
  'axpyScaleDotBlocks',
  'axpyBlocks',
] as const;

const KERNEL_FUNCTIONS = [
  'heapBase',
  'scratchBytes',
  'gemm',
  'gemmPacked',
  'packAPanels',
  'packBPanels',
  'packedFloats',
  'im2col',
  'im2colBlock',
  'col2im',
  'maxPool2x2Forward',
  'maxPool2x2Backward',
  'avgPool2x2Forward',
  'avgPool2x2Backward',
  'winogradBands',
  ...CHANNEL_PASSES,
] as const satisfies readonly (keyof GemmKernelExports)[];

// (module (func (result v128) v128.const 0)): validates only where SIMD is implemented.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

/** True where this runtime can run the WebAssembly SIMD kernel. */
export const wasmSimdSupported: boolean =
  typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);

// (module (func (result v128) (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0)))):
// validates only where relaxed SIMD is implemented and enabled.
const zeroVector = [0xfd, 0x0c, ...new Array<number>(16).fill(0)]; // v128.const 0
const relaxedBody = [0, ...zeroVector, ...zeroVector, ...zeroVector, 0xfd, 0x85, 0x02, 0x0b];
const RELAXED_PROBE = new Uint8Array([
  ...[0, 97, 115, 109, 1, 0, 0, 0], // magic, version 1
  ...[1, 5, 1, 96, 0, 1, 123], // type section: () -> v128
  ...[3, 2, 1, 0], // function section: one function of type 0
  ...[10, relaxedBody.length + 2, 1, relaxedBody.length, ...relaxedBody], // code section
]);

let relaxed: boolean | undefined;

/**
 * True where the fused multiply-add build of the kernel can run (WebAssembly relaxed SIMD). Node 20's
 * V8 (11.3) implements relaxed SIMD behind --experimental-wasm-relaxed-simd (on by default from
 * V8 11.4, Node 22, Chrome 114), so under Node the flag is switched on here when the probe fails:
 * it is read only when a module is compiled, and every thread of the process shares it.
 * `NNZERO_FMA=0` in the environment keeps the plain SIMD build (for A/B measurements).
 */
export function relaxedSimdSupported(): boolean {
  if (relaxed !== undefined) return relaxed;
  const node = globalThis.process;
  relaxed = false;
  if (!wasmSimdSupported || node?.env?.NNZERO_FMA === '0') return relaxed;
  relaxed = WebAssembly.validate(RELAXED_PROBE);
  if (!relaxed && typeof node?.getBuiltinModule === 'function') {
    node.getBuiltinModule('node:v8').setFlagsFromString('--experimental-wasm-relaxed-simd');
    relaxed = WebAssembly.validate(RELAXED_PROBE);
  }
  return relaxed;
}

// Below this many multiply-adds (8³) the staging copies and call overhead outweigh SIMD; at 16³
// the kernel is already 4× faster than the TypeScript path (measured).
const WASM_MIN = 8 * 8 * 8;

const PAGE = 65536;
// Shared memory reserves its maximum up front; 2 GiB bounds the operands one call can stage.
const MAX_PAGES = 32768;

const align64 = (n: number): number => (n + 63) & ~63;

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** The compiled kernel bound to its memory, plus the bump layout the loader uses. */
export interface GemmKernel {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly exports: GemmKernelExports;
  /** Whether this is the fused multiply-add (relaxed SIMD) build. */
  readonly fused: boolean;
  /** First byte free: resident storage from here, then scratch (scratchBase), then operands. */
  readonly heap: number;
  /** Bytes one scratch region (packed A, packed B, a tile) takes. */
  readonly scratchBytes: number;
}

let kernel: GemmKernel | undefined;

/** The exports of a kernel instance, checked to be the functions this loader calls. */
export function kernelExports(instance: WebAssembly.Instance): GemmKernelExports {
  const missing = KERNEL_FUNCTIONS.filter((name) => typeof instance.exports[name] !== 'function');
  if (missing.length > 0) {
    throw new Error(`gemm: the WebAssembly module does not export ${missing.join(', ')}`);
  }
  // Every name was just checked to be a function; their signatures are the module's (assembly/).
  const f = (name: (typeof KERNEL_FUNCTIONS)[number]) =>
    instance.exports[name] as (...args: number[]) => number;
  return {
    heapBase: f('heapBase'),
    scratchBytes: f('scratchBytes'),
    gemm: f('gemm'),
    gemmPacked: f('gemmPacked'),
    packAPanels: f('packAPanels'),
    packBPanels: f('packBPanels'),
    packedFloats: f('packedFloats'),
    im2col: f('im2col'),
    im2colBlock: f('im2colBlock'),
    col2im: f('col2im'),
    maxPool2x2Forward: f('maxPool2x2Forward'),
    maxPool2x2Backward: f('maxPool2x2Backward'),
    avgPool2x2Forward: f('avgPool2x2Forward'),
    avgPool2x2Backward: f('avgPool2x2Backward'),
    winogradFilters: f('winogradFilters'),
    winogradPad: f('winogradPad'),
    winogradInputs: f('winogradInputs'),
    winogradOutputs: f('winogradOutputs'),
    winograd4Filters: f('winograd4Filters'),
    winograd4Inputs: f('winograd4Inputs'),
    winograd4Outputs: f('winograd4Outputs'),
    winogradBands: f('winogradBands'),
    reluForward: f('reluForward'),
    reluBackward: f('reluBackward'),
    addInto: f('addInto'),
    rowSums: f('rowSums'),
    centreRows: f('centreRows'),
    addRowConstants: f('addRowConstants'),
    dotBlocks: f('dotBlocks'),
    axpyScaleDotBlocks: f('axpyScaleDotBlocks'),
    axpyBlocks: f('axpyBlocks'),
  };
}

/**
 * The kernel instance, created on first use. It uses a shared memory where the runtime allows
 * one (Node; cross-origin-isolated pages), so worker threads can run on the same operands.
 */
export function gemmKernel(): GemmKernel {
  kernel ??= createGemmKernel();
  return kernel;
}

/**
 * A new kernel instance on a fresh one-page memory: shared where the runtime allows it (unless
 * `shared` is false), else unshared, whose buffer is replaced (and old views detached) when it
 * grows. `fused` picks the fused multiply-add build (default: where relaxed SIMD runs).
 */
export function createGemmKernel(shared = true, fused = relaxedSimdSupported()): GemmKernel {
  let memory: WebAssembly.Memory | undefined;
  let module: WebAssembly.Module | undefined;
  if (shared) {
    try {
      memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
      module = new WebAssembly.Module(
        decode(fused ? gemmWasmRelaxedSharedBase64 : gemmWasmSharedBase64),
      );
    } catch {
      memory = undefined;
    }
  }
  if (memory === undefined || module === undefined) {
    memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES });
    module = new WebAssembly.Module(decode(fused ? gemmWasmRelaxedBase64 : gemmWasmBase64));
  }
  const exports = kernelExports(new WebAssembly.Instance(module, { env: { memory } }));
  return {
    module,
    memory,
    exports,
    fused,
    heap: align64(exports.heapBase()),
    scratchBytes: align64(exports.scratchBytes()),
  };
}

/**
 * Make `k` the instance every WebAssembly kernel call uses (undefined: a new default one on next
 * use). For tests of the unshared memory; refused while a thread pool runs on the current one.
 */
export function setGemmKernel(k: GemmKernel | undefined): void {
  if (runners) throw new Error('setGemmKernel: stop the GEMM thread pool first');
  kernel = k;
}

let view = new Float32Array(0);
let intView = new Int32Array(0);

// An int32 view of all of the kernel's memory (descriptors), renewed only when it has grown.
function ints(k: GemmKernel): Int32Array {
  if (intView.buffer !== k.memory.buffer) intView = new Int32Array(k.memory.buffer);
  return intView;
}

/** Grow the kernel's memory to at least `bytes` and return a float32 view of all of it. */
export function kernelView(k: GemmKernel, bytes: number): Float32Array {
  const have = k.memory.buffer.byteLength;
  if (bytes > have) k.memory.grow(Math.ceil((bytes - have) / PAGE));
  // Growing replaces the memory's buffer, so the cached view is renewed only then.
  if (view.buffer !== k.memory.buffer) view = new Float32Array(k.memory.buffer);
  return view;
}

/** Where one operand sits in kernel memory (byte address, element strides). */
export interface StagedOperand {
  ptr: number;
  rs: number;
  cs: number;
  // Element range [lo, lo + len) of the caller's array copied to byte `at` (span mode), or
  // lo = -1 when the view was gathered row-major to `at` (gather mode), or lo = -2 when the
  // array is resident storage (residentAlloc), used where it lies with nothing copied.
  lo: number;
  len: number;
  at: number;
  // B only: byte address of an Im2colDescriptor when B is that implicit column matrix (ptr is
  // then a byte offset into it); 0 or absent for an operand in memory.
  im2col?: number;
}

// Bytes an operand needs in kernel memory: its span, or a dense copy if the span is sparse, or
// none when it is resident already.
function plan(
  x: Float32Array,
  rows: number,
  cols: number,
  off: number,
  rs: number,
  cs: number,
  inPlace = true,
): StagedOperand {
  const resident = inPlace ? residentAddress(x, off) : null;
  if (resident !== null) return { ptr: resident, rs, cs, lo: -2, len: 0, at: 0 };
  const lo = off + Math.min(0, (rows - 1) * rs) + Math.min(0, (cols - 1) * cs);
  const hi = off + Math.max(0, (rows - 1) * rs) + Math.max(0, (cols - 1) * cs);
  const span = hi - lo + 1;
  if (span <= 2 * rows * cols + 16) return { ptr: 0, rs, cs, lo, len: span, at: 0 };
  return { ptr: 0, rs: cols, cs: 1, lo: -1, len: rows * cols, at: 0 };
}

function stageIn(
  s: StagedOperand,
  x: Float32Array,
  off: number,
  rows: number,
  cols: number,
  rs: number,
  cs: number,
  heap: Float32Array,
  copy: boolean,
): void {
  if (s.lo === -2) return;
  const base = s.at >> 2;
  if (s.lo >= 0) {
    heap.set(x.subarray(s.lo, s.lo + s.len), base);
    s.ptr = s.at + ((off - s.lo) << 2);
    return;
  }
  s.ptr = s.at;
  if (!copy) return;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) heap[base + i * cols + j] = x[off + i * rs + j * cs]!;
  }
}

function stageOut(
  s: StagedOperand,
  x: Float32Array,
  off: number,
  rows: number,
  cols: number,
  rs: number,
  cs: number,
  heap: Float32Array,
): void {
  if (s.lo === -2) return;
  const base = s.at >> 2;
  if (s.lo >= 0) {
    x.set(heap.subarray(base, base + s.len), s.lo);
    return;
  }
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) x[off + i * rs + j * cs] = heap[base + i * cols + j]!;
  }
}

/** Splits one kernel call over threads; installed by the Node-only pool (gemm-pool.ts). */
export type GemmRunner = (
  k: GemmKernel,
  M: number,
  N: number,
  K: number,
  alpha: number,
  a: StagedOperand,
  b: StagedOperand,
  beta: number,
  c: StagedOperand,
  scratch: number,
  meanwhile?: () => void,
) => void;

/**
 * Runs `count` independent products staged in kernel memory, product i being product 0 (the
 * kernel arguments before `scratch`) with its A, B and C moved on by i·aStep, i·bStep, i·cStep
 * bytes; installed by the Node-only pool, which gives each thread whole products.
 */
export type GemmBatchRunner = (
  k: GemmKernel,
  count: number,
  args: readonly number[],
  aStep: number,
  bStep: number,
  cStep: number,
  bIm2col: number,
) => void;

/** Which column-matrix pass a ConvRunner runs: im2col (image → cols) or col2im (cols → image). */
export type ConvPass = 'im2col' | 'col2im';

/**
 * Runs one kernel im2col or col2im pass over `images` images, image n at args[0] + n·imageStep
 * and its columns at args[14] + n·colsStep (bytes); installed by the Node-only pool.
 */
export type ConvRunner = (
  k: GemmKernel,
  pass: ConvPass,
  images: number,
  args: Im2colArgs,
  imageStep: number,
  colsStep: number,
  meanwhile?: () => void,
) => void;

/**
 * The kernel's im2col (or col2im) on `images` contiguous images already in kernel memory: image
 * n at args[0] + n·imageStep, its columns at args[14] + n·colsStep (bytes). Split over the thread
 * pool by input channels when one is installed; the result is the same to the bit either way.
 * `meanwhile` runs on the calling thread while the pool works (see gemmWasmStaged).
 */
export function convPassStaged(
  pass: ConvPass,
  images: number,
  args: Im2colArgs,
  imageStep: number,
  colsStep: number,
  meanwhile?: () => void,
): void {
  const k = gemmKernel();
  if (runners) {
    runners.conv(k, pass, images, args, imageStep, colsStep, meanwhile);
    return;
  }
  meanwhile?.();
  const run = k.exports[pass];
  const at = [...args] as Im2colArgs;
  for (let n = 0; n < images; n++) {
    at[0] = args[0] + n * imageStep;
    at[14] = args[14] + n * colsStep;
    run(...at);
  }
}

/** One of CHANNEL_PASSES. */
export type ChannelPass = (typeof CHANNEL_PASSES)[number];

/**
 * Runs one channel pass: `args` as for the kernel call over all channels, `steps[i]` the bytes
 * argument i moves per channel (0 for non-pointers), `work` floats touched (to judge whether
 * splitting pays); installed by the Node-only pool.
 */
export type ChannelRunner = (
  k: GemmKernel,
  pass: ChannelPass,
  args: readonly number[],
  steps: readonly number[],
  work: number,
) => void;

/**
 * The thread pool's versions of the kernel calls, installed and removed together by the
 * Node-only pool (gemm-pool.ts), so that this module stays browser-neutral.
 */
export interface PoolRunners {
  gemm: GemmRunner;
  batch: GemmBatchRunner;
  conv: ConvRunner;
  channels: ChannelRunner;
  bands: BandRunner;
}

/**
 * Runs `bands` bands of a fused Winograd conv (winogradBandsStaged), each thread with its own V
 * and M at vm + region·vmBytes; installed by the Node-only pool.
 */
export type BandRunner = (
  k: GemmKernel,
  args: WinogradBandArgs,
  bands: number,
  vm: number,
  vmBytes: number,
) => void;

let runners: PoolRunners | undefined;

/** Install (or with undefined, remove) the thread pool's runners. */
export function setPoolRunners(r: PoolRunners | undefined): void {
  runners = r;
}

/** Whether a thread pool's runners are installed (large kernel calls are split over threads). */
export function poolRunning(): boolean {
  return runners !== undefined;
}

/**
 * Run a channel pass (see CHANNEL_PASSES) on operands already in kernel memory, split over the
 * thread pool by channels when one is installed; channels are independent, so the result is the
 * same to the bit either way.
 */
export function channelPassStaged(
  pass: ChannelPass,
  args: readonly number[],
  steps: readonly number[],
  work: number,
): void {
  const k = gemmKernel();
  if (runners) {
    runners.channels(k, pass, args, steps, work);
    return;
  }
  (k.exports[pass] as (...a: number[]) => void)(...args);
}

/**
 * Winograd's three steps for every band of one image (see winogradBands in assembly/winograd.ts;
 * its `tile` argument picks F(2×2, 3×3) or F(4×4, 3×3)), on operands already in kernel memory.
 * On the thread pool each thread takes whole bands and keeps its V and M at vm + region·vmBytes,
 * so `vm` must hold threadRegions() of them; the bands write disjoint rows of y, so the bits are
 * the same either way.
 */
export function winogradBandsStaged(
  args: WinogradBandArgs,
  bands: number,
  vm: number,
  vmBytes: number,
): void {
  const k = gemmKernel();
  if (runners && bands >= 2) {
    runners.bands(k, args, bands, vm, vmBytes);
    return;
  }
  k.exports.winogradBands(...args, 0, bands, vm, scratchBase(k));
}

/** Threads a staged call may run on: the calling thread and, while the pool runs, its helpers. */
export function threadRegions(): number {
  return runners ? 1 + extraScratch : 1;
}

/** Extra scratch regions the installed runner needs beyond the calling thread's own. */
let extraScratch = 0;

/** Reserve `regions` more scratch regions in kernel memory (one per helper thread). */
export function reserveScratch(regions: number): void {
  extraScratch = Math.max(extraScratch, regions);
}

// Kernel memory from the bottom: resident storage (residentAlloc), the scratch regions (the
// calling thread's, then one per helper thread), then the operands of the current call.
function operandBase(k: GemmKernel): number {
  return scratchBase(k) + k.scratchBytes * (1 + extraScratch);
}

/**
 * Byte address of scratch region 0 (the calling thread's; helper i's is i·scratchBytes on). It
 * sits above the resident storage, so it moves up when that grows: read it per call.
 */
export function scratchBase(k: GemmKernel): number {
  return k.heap + (arenas.get(k)?.top ?? 0);
}

// ---- resident storage: float32 arrays that live in kernel memory between calls ----
// A tensor whose storage lies in kernel memory is read and written there by the kernels, with
// no staging copies, and the pool's helpers can work on it. Blocks are handed out first-fit
// from the bottom of kernel memory; a block comes back when its array is garbage collected.
// Only shared memory keeps old views valid when it grows, so an unshared kernel has none.

interface Arena {
  /** Bytes in use from k.heap up, blocks and holes. */
  top: number;
  /** Free holes below `top`: [offset from k.heap, bytes], sorted by offset. */
  holes: [number, number][];
}

const arenas = new WeakMap<GemmKernel, Arena>();
// At most this much of kernel memory is resident storage (1 GiB of the 2 GiB it can have).
const RESIDENT_MAX_BYTES = 2 ** 30;
// The kernel each resident array's buffer belongs to (the buffer objects of one shared memory
// differ from growth to growth, so each is recorded as it is handed out).
const residentBuffers = new WeakMap<ArrayBufferLike, GemmKernel>();
const returnBlock = new FinalizationRegistry<{ k: GemmKernel; at: number; bytes: number }>(
  ({ k, at, bytes }) => release(k, at, bytes),
);

// Give a block back: merge it with neighbouring holes, and lower `top` when it is the last.
function release(k: GemmKernel, at: number, bytes: number): void {
  const arena = arenas.get(k);
  if (arena === undefined) return;
  const holes = arena.holes;
  holes.push([at, bytes]);
  holes.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const h of holes) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last[0] + last[1] === h[0]) last[1] += h[1];
    else merged.push([h[0], h[1]]);
  }
  const end = merged[merged.length - 1];
  if (end !== undefined && end[0] + end[1] === arena.top) {
    arena.top = end[0];
    merged.pop();
  }
  arena.holes = merged;
}

/**
 * A float32 array of `length` zeros in kernel memory, or null where the kernel's memory is not
 * shared (or WebAssembly SIMD is missing). It keeps its place while the memory grows; its block
 * returns to the kernel when the array is garbage collected. Must not be called while a thread
 * pool job runs (no kernel call is ever in flight when JavaScript runs, so it cannot be).
 */
export function residentAlloc(length: number): Float32Array | null {
  return allocate(length, 4, (buffer, at) => new Float32Array(buffer, at, length));
}

/**
 * residentAlloc for float64 (vectors the style loss and L-BFGS keep in kernel memory). Its
 * address is residentAddress64's, never residentAddress's, whose callers all read float32.
 */
export function residentAlloc64(length: number): Float64Array | null {
  return allocate(length, 8, (buffer, at) => new Float64Array(buffer, at, length));
}

// A block of `length` elements of `bytesEach` bytes (a 64-byte-aligned place, so any typed array
// fits), viewed by `view` at its byte address.
function allocate<T extends Float32Array | Float64Array>(
  length: number,
  bytesEach: number,
  view: (buffer: ArrayBufferLike, at: number) => T,
): T | null {
  if (!wasmSimdSupported) return null;
  const k = gemmKernel();
  // Pages that are not cross-origin isolated have no SharedArrayBuffer global at all.
  const shared = typeof SharedArrayBuffer !== 'undefined';
  if (!shared || !(k.memory.buffer instanceof SharedArrayBuffer)) return null;
  let arena = arenas.get(k);
  if (arena === undefined) arenas.set(k, (arena = { top: 0, holes: [] }));
  const bytes = align64(Math.max(1, length) * bytesEach);
  let at = -1;
  const hole = arena.holes.findIndex(([, size]) => size >= bytes);
  if (hole >= 0) {
    const h = arena.holes[hole]!;
    at = h[0];
    if (h[1] === bytes) arena.holes.splice(hole, 1);
    else arena.holes[hole] = [h[0] + bytes, h[1] - bytes];
  } else {
    // Past RESIDENT_MAX_BYTES the rest of the memory (at most 2 GiB) is left to the calls'
    // operands: such a tensor is an ordinary array instead (a 1024 px style transfer's
    // activations alone take several GB).
    if (arena.top + bytes > RESIDENT_MAX_BYTES) return null;
    at = arena.top;
    arena.top += bytes;
  }
  // Memory up to the new top; the block may hold an old array's values, so it is zeroed.
  let heap: Float32Array;
  try {
    heap = kernelView(k, k.heap + arena.top);
  } catch {
    release(k, at, bytes); // the memory could not grow (the machine's limit): no block
    return null;
  }
  const array = view(heap.buffer, k.heap + at);
  array.fill(0);
  residentBuffers.set(array.buffer, k);
  returnBlock.register(array, { k, at, bytes });
  return array;
}

/**
 * Byte address in kernel memory of element `offset` of `data` when it is resident storage of the
 * current kernel (residentAlloc), else null: the kernels then read and write it in place.
 */
export function residentAddress(data: ArrayLike<number>, offset: number): number | null {
  if (!(data instanceof Float32Array)) return null;
  if (residentBuffers.get(data.buffer) !== kernel || kernel === undefined) return null;
  return data.byteOffset + 4 * offset;
}

/** residentAddress for float64 storage (residentAlloc64): the byte address of element `offset`. */
export function residentAddress64(data: ArrayLike<number>, offset: number): number | null {
  if (!(data instanceof Float64Array)) return null;
  if (residentBuffers.get(data.buffer) !== kernel || kernel === undefined) return null;
  return data.byteOffset + 8 * offset;
}

/** Byte addresses of float32 regions in kernel memory, and a view of all of that memory. */
export interface KernelRegions {
  /** All of kernel memory as float32; region i starts at element at[i] / 4. */
  readonly heap: Float32Array;
  /** Byte address of each region, 64-byte aligned. */
  readonly at: number[];
}

/**
 * Lay out regions of `floats[i]` float32 each in kernel memory, after every thread's scratch,
 * growing the memory if needed. They are the caller's until its next call into this module.
 * The view is taken after any growth; growing again (a later call) may detach it.
 */
export function kernelRegions(floats: readonly number[]): KernelRegions {
  const k = gemmKernel();
  const at: number[] = [];
  let top = operandBase(k);
  for (const n of floats) {
    at.push(top);
    top = align64(top + n * 4);
  }
  layoutTop = top;
  return { heap: kernelView(k, top), at };
}

// The end of the latest operand layout (kernelRegions, gemmWasmStrided): memory past it is free.
let layoutTop = 0;

/**
 * A byte address of `bytes` free bytes past the operands of the latest layout (growing the
 * memory if needed), for the pool's whole packed operand; valid until the next layout.
 */
export function freeRegion(k: GemmKernel, bytes: number): number {
  const at = align64(Math.max(layoutTop, operandBase(k)));
  kernelView(k, at + bytes);
  return at;
}

/**
 * C ← alpha·A·B + beta·C on operands already in kernel memory (byte addresses from
 * `kernelRegions`, strides in elements; A M×K, B K×N, C M×N), on the thread pool when one is
 * installed. Nothing is copied; float32 only, so the caller checks `wasmSimdSupported` first.
 * `meanwhile`, if given, runs on the calling thread while the pool's helpers work on the product
 * (before the product when there is no pool): serial work that touches none of the product's
 * memory, such as copying an earlier result out of kernel memory, which helpers cannot do.
 * `bIm2col`, if not 0, is the byte address of an Im2colDescriptor (writeIm2colDescriptor): B is
 * then that column matrix, never built, and bPtr a byte offset into it as if it lay from address
 * 0 (element (k, l) at 4·(k·ld + l)), read row-major (bRs = ld, bCs = 1) or transposed (bRs = 1,
 * bCs = ld). The GEMM packs its panels of B straight from the image; the bits are those of the
 * same product on im2col's matrix.
 */
export function gemmWasmStaged(
  M: number,
  N: number,
  K: number,
  alpha: number,
  aPtr: number,
  aRs: number,
  aCs: number,
  bPtr: number,
  bRs: number,
  bCs: number,
  beta: number,
  cPtr: number,
  cRs: number,
  cCs: number,
  meanwhile?: () => void,
  bIm2col = 0,
): void {
  const k = gemmKernel();
  holdScratch(k);
  if (bIm2col !== 0) checkIm2colStrides(k, bIm2col, bRs, bCs);
  if (runners) {
    const a = { ptr: aPtr, rs: aRs, cs: aCs, lo: -1, len: 0, at: aPtr };
    const b = { ptr: bPtr, rs: bRs, cs: bCs, lo: -1, len: 0, at: bPtr, im2col: bIm2col };
    const c = { ptr: cPtr, rs: cRs, cs: cCs, lo: -1, len: 0, at: cPtr };
    runners.gemm(k, M, N, K, alpha, a, b, beta, c, scratchBase(k), meanwhile);
    return;
  }
  meanwhile?.();
  const scratch = scratchBase(k);
  k.exports.gemmPacked(
    ...[M, N, K, alpha, aPtr, aRs, aCs, 0, bPtr, bRs, bCs, 0, beta, cPtr, cRs, cCs],
    scratch,
    bIm2col,
  );
}

// Grow the memory over every thread's scratch region. kernelRegions does so for the operands
// it lays out above them; a product on resident operands alone lays out none, and resident
// storage may have pushed the scratch past the memory's end.
function holdScratch(k: GemmKernel): void {
  kernelView(k, operandBase(k));
}

// An implicit B is read along its rows or its columns, nothing else (see gemmWasmStaged).
function checkIm2colStrides(k: GemmKernel, desc: number, bRs: number, bCs: number): void {
  const ld = ints(k)[(desc >> 2) + 15]!;
  if (!((bRs === ld && bCs === 1) || (bRs === 1 && bCs === ld))) {
    throw new Error(
      `gemm: an implicit column matrix (ld ${ld}) is read with strides (${bRs}, ${bCs}); ` +
        `it takes (${ld}, 1) or (1, ${ld})`,
    );
  }
}

/**
 * `count` independent products on operands already in kernel memory: product i is
 * gemmWasmStaged(M, N, K, alpha, aPtr + i·aStep, aRs, aCs, bPtr + i·bStep, …, cPtr + i·cStep, …)
 * (steps in bytes). On the thread pool each thread takes whole products, so there is one
 * hand-off for the batch and no operand is packed twice; the bits equal one thread's. A 15th
 * argument, bIm2col, makes every B the one implicit column matrix (see gemmWasmStaged), bStep
 * moving the offset into it.
 */
export function gemmWasmStagedBatch(
  count: number,
  aStep: number,
  bStep: number,
  cStep: number,
  ...product: [...ProductArgs, bIm2col?: number]
): void {
  const k = gemmKernel();
  holdScratch(k);
  const [M, N, K] = product;
  const bIm2col = product[14] ?? 0;
  if (bIm2col !== 0) checkIm2colStrides(k, bIm2col, product[8], product[9]);
  if (runners && count >= 2 && M * N * K * count >= BATCH_PARALLEL_MIN) {
    runners.batch(k, count, product.slice(0, 14) as ProductArgs, aStep, bStep, cStep, bIm2col);
    return;
  }
  const args = product.slice(0, 14) as ProductArgs;
  for (let i = 0; i < count; i++) {
    args[4] = product[4] + i * aStep;
    args[7] = product[7] + i * bStep;
    args[11] = product[11] + i * cStep;
    const [M, N, K, alpha, a, aRs, aCs, b, bRs, bCs, beta, c, cRs, cCs] = args;
    k.exports.gemmPacked(
      ...[M, N, K, alpha, a, aRs, aCs, 0, b, bRs, bCs, 0, beta, c, cRs, cCs],
      scratchBase(k),
      bIm2col,
    );
  }
}

// Multiply-adds below which a batch stays on the calling thread (that of one product the pool
// would split, 128³).
const BATCH_PARALLEL_MIN = 128 * 128 * 128;

/**
 * C ← alpha·A·B + beta·C on raw strided Float32Array storage, on the SIMD kernel: A is M×K,
 * B is K×N, C is M×N; same meaning as `gemmStrided`, to which other cases fall back.
 */
export function gemmWasmStrided(
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
  if (
    !wasmSimdSupported ||
    M * N * K < WASM_MIN ||
    !(a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array)
  ) {
    gemmStrided(
      M,
      N,
      K,
      alpha,
      a,
      aOff,
      aRowStride,
      aColStride,
      b,
      bOff,
      bRowStride,
      bColStride,
      beta,
      c,
      cOff,
      cRowStride,
      cColStride,
    );
    return;
  }
  const k = gemmKernel();
  const sa = plan(a, M, K, aOff, aRowStride, aColStride);
  const sb = plan(b, K, N, bOff, bRowStride, bColStride);
  // C is written in place only if it shares no storage with a resident A or B, which the
  // product must read unchanged to the end.
  const shares = (x: Float32Array, s: StagedOperand): boolean =>
    s.lo === -2 &&
    x.buffer === c.buffer &&
    x.byteOffset < c.byteOffset + c.byteLength &&
    c.byteOffset < x.byteOffset + x.byteLength;
  const sc = plan(c, M, N, cOff, cRowStride, cColStride, !shares(a, sa) && !shares(b, sb));
  const scratch = scratchBase(k);
  let top = operandBase(k);
  for (const s of [sa, sb, sc]) {
    s.at = top;
    top = align64(top + s.len * 4);
  }
  layoutTop = top;
  const heap = kernelView(k, top);
  stageIn(sa, a, aOff, M, K, aRowStride, aColStride, heap, true);
  stageIn(sb, b, bOff, K, N, bRowStride, bColStride, heap, true);
  stageIn(sc, c, cOff, M, N, cRowStride, cColStride, heap, beta !== 0);
  if (runners) {
    runners.gemm(k, M, N, K, alpha, sa, sb, beta, sc, scratch);
  } else {
    k.exports.gemm(
      M,
      N,
      K,
      alpha,
      sa.ptr,
      sa.rs,
      sa.cs,
      sb.ptr,
      sb.rs,
      sb.cs,
      beta,
      sc.ptr,
      sc.rs,
      sc.cs,
      scratch,
    );
  }
  stageOut(sc, c, cOff, M, N, cRowStride, cColStride, heap);
}

/**
 * c ← alpha·a·b + beta·c like `gemm` (a [M, K], b [K, N], c [M, N], any views), on the SIMD
 * kernel when all three are float32 and the runtime has WebAssembly SIMD. Returns c.
 */
export function gemmWasm<C extends GemmMatrix>(
  c: C,
  a: GemmMatrix,
  b: GemmMatrix,
  alpha = 1,
  beta = 0,
): C {
  checkGemmShapes(c, a, b);
  // gemmWasmStrided itself falls back to the TypeScript kernel for float64 or mixed storage.
  gemmWasmStrided(
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
