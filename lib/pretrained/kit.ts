// What an importer needs from chapter 4 to build convolution and pooling layers, as plain typed
// specs: the Caffe and ONNX importers translate their files into these, and a LayerKit turns
// them into layers. Everything else an importer builds (Linear, ReLU, LRN, Concat, …) it
// constructs directly.
import type { DType, Layer, Tensor } from '../core/index.js';

/** A 2-D convolution as both formats describe it; weights `name.weight` [F, C/group, kH, kW]. */
export interface ConvSpec {
  readonly name: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  /** Zero padding [top, bottom, left, right]. */
  readonly pad: readonly [number, number, number, number];
  readonly dilation: readonly [number, number];
  readonly group: number;
  /** Whether the layer has a bias `name.bias` [F]. */
  readonly bias: boolean;
  readonly dtype: DType;
  /**
   * The imported values, for the layer to take as its parameters as they are (no copy): weight
   * [F, C/group, kH, kW] and, with `bias`, bias [F]. A kit that allocates its own parameters
   * instead leaves them to the importer, which then copies these in.
   */
  readonly weights?: { readonly weight: Tensor; readonly bias?: Tensor };
}

/** A 2-D max or average pooling window. */
export interface PoolSpec {
  readonly name: string;
  readonly kind: 'max' | 'avg';
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  /** Implicit padding [top, bottom, left, right]. */
  readonly pad: readonly [number, number, number, number];
  /** Round the output size up (Caffe's default; ONNX `ceil_mode`). */
  readonly ceilMode: boolean;
  /** Average pooling divides by the window including padding (Caffe; ONNX `count_include_pad`). */
  readonly countPadding: boolean;
}

/** Builds the chapter-4 layers an imported network needs. */
export interface LayerKit {
  /** A convolution whose params() are named `${spec.name}.weight` (and `.bias`). */
  conv2d(spec: ConvSpec): Layer;
  pool2d(spec: PoolSpec): Layer;
  /** Pooling over the whole H × W: [N, C, H, W] → [N, C, 1, 1]. */
  globalPool2d(spec: { readonly name: string; readonly kind: 'max' | 'avg' }): Layer;
}
