// nnzero/core: what every chapter needs and is not itself the lesson — tensors, the seeded RNG,
// the numerical gradient check, the Layer shape, images, figures and progress.
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
  writeIm2colDescriptor,
  IM2COL_DESCRIPTOR_BYTES,
  type Im2colDescriptor,
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
export { startGemmPool, stopGemmPool, defaultThreads } from './gemm-pool.js';
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
export {
  type DecodeOptions,
  type EncodeOptions,
  isPng,
  isJpeg,
  decodePng,
  decodeJpeg,
  decodeImage,
  encodePng,
} from './png.js';
export { readImage, writePng } from './image-file.js';
export {
  type ImageDataLike,
  type CanvasImageOptions,
  imageFromImageData,
  imageToImageData,
} from './canvas-image.js';
export { writeFileAtomic } from './atomic.js';
export {
  type Series,
  type LineChart,
  type LabelledPoint,
  type ScatterChart,
  lineChartSpec,
  scatterChartSpec,
  renderSvg,
  lineChartSvg,
  scatterChartSvg,
  writeFigure,
  svgToPng,
} from './figures.js';
export { type MosaicOptions, imageMosaic } from './mosaic.js';
export { type ProgressOptions, Progress } from './progress.js';
