// A naive LayerKit for importer tests: convolution and pooling written with .get/.set straight
// from their definitions (Caffe's pooling rules included), forward only — the importer tests
// compare outputs, and chapter 4's layers take this kit's place in real use.
import { makeParam, zeros, type Layer, type Param, type Tensor } from '../../lib/core/index.js';
import type { ConvSpec, LayerKit, PoolSpec } from '../../lib/pretrained/index.js';

function forwardOnly(name: string): never {
  throw new Error(`test kit layer ${name} has no backward`);
}

class NaiveConv implements Layer {
  readonly weight: Param;
  readonly bias: Param | undefined;
  constructor(readonly spec: ConvSpec) {
    const { name, outChannels, inChannels, kernel, group, dtype } = spec;
    this.weight = makeParam(`${name}.weight`, [outChannels, inChannels / group, ...kernel], dtype);
    this.bias = spec.bias ? makeParam(`${name}.bias`, [outChannels], dtype) : undefined;
  }
  forward(x: Tensor): Tensor {
    const [N, , H, W] = x.shape as [number, number, number, number];
    const { outChannels: F, inChannels, kernel, stride, pad, dilation, group } = this.spec;
    const Cg = inChannels / group;
    const Fg = F / group;
    const outH =
      Math.floor((H + pad[0] + pad[1] - dilation[0] * (kernel[0] - 1) - 1) / stride[0]) + 1;
    const outW =
      Math.floor((W + pad[2] + pad[3] - dilation[1] * (kernel[1] - 1) - 1) / stride[1]) + 1;
    const y = zeros([N, F, outH, outW], this.spec.dtype);
    for (let n = 0; n < N; n++)
      for (let f = 0; f < F; f++)
        for (let i = 0; i < outH; i++)
          for (let j = 0; j < outW; j++) {
            let s = this.bias ? this.bias.value.get(f) : 0;
            const g = Math.floor(f / Fg);
            for (let c = 0; c < Cg; c++)
              for (let ki = 0; ki < kernel[0]; ki++)
                for (let kj = 0; kj < kernel[1]; kj++) {
                  const h = i * stride[0] - pad[0] + ki * dilation[0];
                  const w = j * stride[1] - pad[2] + kj * dilation[1];
                  if (h < 0 || h >= H || w < 0 || w >= W) continue;
                  s += this.weight.value.get(f, c, ki, kj) * x.get(n, g * Cg + c, h, w);
                }
            y.set(n, f, i, j, s);
          }
    return y;
  }
  backward(): Tensor {
    return forwardOnly(this.spec.name);
  }
  params(): Param[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }
}

// Output length with Caffe's and ONNX's ceil rule: the last window must start inside the input
// or its leading padding.
function poolLength(
  size: number,
  k: number,
  s: number,
  padA: number,
  padB: number,
  ceil: boolean,
): number {
  const steps = (size + padA + padB - k) / s;
  let out = (ceil ? Math.ceil(steps) : Math.floor(steps)) + 1;
  if (ceil && (out - 1) * s >= size + padA) out--;
  return out;
}

class NaivePool implements Layer {
  constructor(readonly spec: PoolSpec) {}
  forward(x: Tensor): Tensor {
    const [N, C, H, W] = x.shape as [number, number, number, number];
    const { kind, kernel, stride, pad, ceilMode, countPadding } = this.spec;
    const outH = poolLength(H, kernel[0], stride[0], pad[0], pad[1], ceilMode);
    const outW = poolLength(W, kernel[1], stride[1], pad[2], pad[3], ceilMode);
    const y = zeros([N, C, outH, outW], x.data instanceof Float32Array ? 'float32' : 'float64');
    for (let n = 0; n < N; n++)
      for (let c = 0; c < C; c++)
        for (let i = 0; i < outH; i++)
          for (let j = 0; j < outW; j++) {
            const h0 = i * stride[0] - pad[0];
            const w0 = j * stride[1] - pad[2];
            // The window clipped to the padded input (what Caffe counts), then to the input.
            const h1 = Math.min(h0 + kernel[0], H + pad[1]);
            const w1 = Math.min(w0 + kernel[1], W + pad[3]);
            const padded = (h1 - h0) * (w1 - w0);
            let acc = kind === 'max' ? -Infinity : 0;
            let count = 0;
            for (let h = Math.max(h0, 0); h < Math.min(h1, H); h++)
              for (let w = Math.max(w0, 0); w < Math.min(w1, W); w++) {
                const v = x.get(n, c, h, w);
                acc = kind === 'max' ? Math.max(acc, v) : acc + v;
                count++;
              }
            y.set(n, c, i, j, kind === 'max' ? acc : acc / (countPadding ? padded : count));
          }
    return y;
  }
  backward(): Tensor {
    return forwardOnly(this.spec.name);
  }
  params(): Param[] {
    return [];
  }
}

class NaiveGlobalPool implements Layer {
  constructor(readonly kind: 'max' | 'avg') {}
  forward(x: Tensor): Tensor {
    const [N, C, H, W] = x.shape as [number, number, number, number];
    const y = zeros([N, C, 1, 1], x.data instanceof Float32Array ? 'float32' : 'float64');
    for (let n = 0; n < N; n++)
      for (let c = 0; c < C; c++) {
        let acc = this.kind === 'max' ? -Infinity : 0;
        for (let h = 0; h < H; h++)
          for (let w = 0; w < W; w++) {
            const v = x.get(n, c, h, w);
            acc = this.kind === 'max' ? Math.max(acc, v) : acc + v;
          }
        y.set(n, c, 0, 0, this.kind === 'max' ? acc : acc / (H * W));
      }
    return y;
  }
  backward(): Tensor {
    return forwardOnly('global pool');
  }
  params(): Param[] {
    return [];
  }
}

/** The naive kit: convolution and pooling read straight off their definitions. */
export const naiveKit: LayerKit = {
  conv2d: (spec) => new NaiveConv(spec),
  pool2d: (spec) => new NaivePool(spec),
  globalPool2d: ({ kind }) => new NaiveGlobalPool(kind),
};
