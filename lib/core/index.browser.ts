// nnzero/core in a browser page: the platform-neutral part of index.ts (tensors, the seeded RNG,
// the numerical gradient check, the Layer shape, mosaics) plus the browser counterparts of its
// Node-only edges (images from and to a canvas instead of files). The site's Vite config
// substitutes this file for index.ts, so chapter code imports '../core/index.js' everywhere.
export { ShapeError, FileFormatError, DivergenceError, assert, formatShape } from './errors.js';
export {
  type FloatArray,
  type DType,
  type Tensor,
  type Tensor32,
  type Tensor64,
  sizeOf,
  stridesOf,
  dtypeOf,
  allocate,
  tensor,
  zeros,
  fromArray,
  like,
  reuseTensor,
  copy,
  isContiguous,
  contiguous,
  reshape,
  toArray,
  assertShape,
  sameShape,
  assign,
  addInPlace,
  scaleInPlace,
  fill,
  sum,
  dot,
  maxAbs,
  allFinite,
} from './ndarray.js';
export { residentZeros, kernelZeros, bufferZeros } from './resident.js';
export { Rng } from './rng.js';
export { type GemmArray, type GemmMatrix, gemm, gemmNaive, gemmStrided } from './gemm.js';
export {
  type GemmKernel,
  type GemmKernelExports,
  type ConvPass,
  type Im2colArgs,
  type ProductArgs,
  type KernelRegions,
  gemmKernel,
  gemmWasm,
  convPassStaged,
  channelPassStaged,
  type ChannelPass,
  gemmWasmStaged,
  gemmWasmStagedBatch,
  poolRunning,
  threadRegions,
  residentAddress,
  residentAddress64,
  residentAlloc64,
  winogradBandsStaged,
  type WinogradBandArgs,
  gemmWasmStrided,
  kernelRegions,
  relaxedSimdSupported,
  wasmSimdSupported,
} from './gemm-wasm.js';
export {
  type Param,
  type Layer,
  makeParam,
  paramOf,
  zeroGrad,
  requireCache,
  checkUpstream,
} from './layer.js';
export {
  type GradCheckOptions,
  type GradEntry,
  type GradReport,
  type GradCheckResult,
  type GradTarget,
  numericalGradient,
  relativeError,
  compareGradient,
  gradCheckResult,
  checkGradients,
  checkLayerGradients,
} from './gradcheck.js';
export { type MosaicOptions, imageMosaic } from './mosaic.js';
export {
  type ImageDataLike,
  type CanvasImageOptions,
  imageFromImageData,
  imageToImageData,
} from './canvas-image.js';
