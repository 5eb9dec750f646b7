// Pooling layers around the kernels of pool.ts: max pooling (keeps the argmax for backward),
// average pooling and global average pooling. No parameters; `frozen` is accepted for symmetry
// with Conv2d (there is nothing to skip).
import {
  checkUpstream,
  dtypeOf,
  requireCache,
  zeros,
  type Layer,
  type Param,
  type Tensor,
} from '../core/index.js';
import { poolGeometry, type PoolGeometry, type PoolOptions, type Pair } from './geometry.js';
import {
  avgPool2dBackward,
  avgPool2dForward,
  globalAvgPool2dBackward,
  globalAvgPool2dForward,
  maxPool2dBackward,
  maxPool2dForward,
} from './pool.js';

/** Options of a pooling layer: the window's geometry (kernel given separately) and a name. */
export interface PoolLayerOptions extends Omit<PoolOptions, 'kernel'> {
  name?: string;
}

// Shared plumbing: the geometry for the current input shape, recomputed when it changes.
abstract class Pool2d implements Layer {
  readonly name: string;
  frozen = false;
  readonly options: Readonly<PoolOptions>;
  protected x: Tensor | undefined;
  protected geom: PoolGeometry | undefined;

  constructor(kernel: Pair, options: PoolLayerOptions, defaultName: string) {
    const { name = defaultName, ...rest } = options;
    this.name = name;
    this.options = Object.freeze({ kernel, ...rest });
  }

  protected geometryFor(x: Tensor): PoolGeometry {
    const g = this.geom;
    const s = x.shape;
    if (
      g === undefined ||
      s.length !== 4 ||
      g.N !== s[0] ||
      g.C !== s[1] ||
      g.H !== s[2] ||
      g.W !== s[3]
    ) {
      this.geom = poolGeometry(s, this.options);
    }
    return this.geom!;
  }

  protected outShape(g: PoolGeometry): number[] {
    return [g.N, g.C, g.outH, g.outW];
  }

  abstract forward(x: Tensor): Tensor;
  abstract backward(dy: Tensor): Tensor;

  /** No parameters. */
  params(): Param[] {
    return [];
  }
}

/** Max pooling: x [N, C, H, W] → y [N, C, outH, outW], the maximum of each window. */
export class MaxPool2d extends Pool2d {
  #argmax = new Int32Array(0);

  /** @param kernel window k or [kH, kW]; stride defaults to the kernel (windows tile). */
  constructor(kernel: Pair, options: PoolLayerOptions = {}) {
    super(kernel, options, 'maxpool');
  }

  /** y = window maxima; remembers which input won each window. */
  forward(x: Tensor): Tensor {
    const g = this.geometryFor(x);
    const y = zeros(this.outShape(g), dtypeOf(x));
    if (this.#argmax.length !== y.size) this.#argmax = new Int32Array(y.size);
    maxPool2dForward(y, this.#argmax, x, g);
    this.x = x;
    return y;
  }

  /** dx: each window's gradient goes to the input that won it; the others get zero. */
  backward(dy: Tensor): Tensor {
    const x = requireCache(this.x, `MaxPool2d(${this.name})`);
    const g = this.geom!;
    checkUpstream(dy, this.outShape(g), `MaxPool2d(${this.name})`);
    return maxPool2dBackward(zeros(x.shape, dtypeOf(x)), dy, this.#argmax, g);
  }
}

/** Average pooling: x [N, C, H, W] → y [N, C, outH, outW], the mean of each window. */
export class AvgPool2d extends Pool2d {
  /** @param kernel window k or [kH, kW]; options.countPadding (default true) sets the divisor. */
  constructor(kernel: Pair, options: PoolLayerOptions = {}) {
    super(kernel, options, 'avgpool');
  }

  /** y = window means. */
  forward(x: Tensor): Tensor {
    const g = this.geometryFor(x);
    this.x = x;
    return avgPool2dForward(zeros(this.outShape(g), dtypeOf(x)), x, g);
  }

  /** dx: each window's gradient spread evenly (÷ count) over its inputs. */
  backward(dy: Tensor): Tensor {
    const x = requireCache(this.x, `AvgPool2d(${this.name})`);
    const g = this.geom!;
    checkUpstream(dy, this.outShape(g), `AvgPool2d(${this.name})`);
    return avgPool2dBackward(zeros(x.shape, dtypeOf(x)), dy, g);
  }
}

/** Global average pooling: x [N, C, H, W] → y [N, C, 1, 1], the mean of each channel. */
export class GlobalAvgPool2d implements Layer {
  readonly name: string;
  frozen = false;
  #x: Tensor | undefined;

  /** @param options optional name (default `gap`) */
  constructor(options: { name?: string } = {}) {
    this.name = options.name ?? 'gap';
  }

  /** y[n, c] = mean over h, w of x[n, c]. */
  forward(x: Tensor): Tensor {
    const [N, C] = x.shape as [number, number];
    this.#x = x;
    return globalAvgPool2dForward(zeros([N, C, 1, 1], dtypeOf(x)), x);
  }

  /** dx[n, c, h, w] = dy[n, c] / (H·W). */
  backward(dy: Tensor): Tensor {
    const x = requireCache(this.#x, `GlobalAvgPool2d(${this.name})`);
    checkUpstream(dy, [x.shape[0]!, x.shape[1]!, 1, 1], `GlobalAvgPool2d(${this.name})`);
    return globalAvgPool2dBackward(zeros(x.shape, dtypeOf(x)), dy);
  }

  /** No parameters. */
  params(): Param[] {
    return [];
  }
}
