// Test helpers for lib/pretrained: random tensors as awkward views, a relative difference for
// "fast equals naive", and a tiny 1×1 convolution written with .get/.set so graph tests need
// nothing from chapter 4.
import {
  Rng,
  makeParam,
  requireCache,
  tensor,
  toArray,
  zeros,
  type DType,
  type Layer,
  type Param,
  type Tensor,
} from '../../lib/core/index.js';

/** A tensor of `shape` with normal values: contiguous, or every axis strided ×2 from offset 3. */
export function randomTensor(
  rng: Rng,
  shape: readonly number[],
  { strided = false, dtype = 'float64' }: { strided?: boolean; dtype?: DType } = {},
): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const alloc = (len: number): Float32Array | Float64Array =>
    dtype === 'float32' ? new Float32Array(len) : new Float64Array(len);
  if (!strided) return rng.fillNormal(tensor(alloc(n), shape));
  const stride = new Array<number>(shape.length);
  let s = 2;
  for (let i = shape.length - 1; i >= 0; i--) {
    stride[i] = s;
    s *= 2 * shape[i]!;
  }
  return rng.fillNormal(tensor(alloc(3 + s), shape, stride, 3));
}

/** max |a − b| / max |b| over all elements (0 when both are all zero). */
export function relativeDifference(a: Tensor, b: Tensor): number {
  const av = toArray(a);
  const bv = toArray(b);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < av.length; i++) {
    diff = Math.max(diff, Math.abs(av[i]! - bv[i]!));
    scale = Math.max(scale, Math.abs(bv[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

/** y[n, f, h, w] = Σ_c W[f, c] x[n, c, h, w] + b[f]: a 1×1 convolution, the plainest way. */
export class Pointwise implements Layer {
  readonly weight: Param;
  readonly bias: Param;
  forwardCalls = 0;
  #x: Tensor | undefined;

  constructor(
    rng: Rng,
    readonly inC: number,
    readonly outC: number,
    readonly name = 'pw',
  ) {
    this.weight = makeParam(`${name}.weight`, [outC, inC]);
    this.bias = makeParam(`${name}.bias`, [outC]);
    rng.fillNormal(this.weight.value, 0, 0.5);
    rng.fillNormal(this.bias.value, 0, 0.1);
  }

  forward(x: Tensor): Tensor {
    this.forwardCalls++;
    this.#x = x;
    const [N, , H, W] = x.shape as [number, number, number, number];
    const y = zeros([N, this.outC, H, W]);
    for (let n = 0; n < N; n++)
      for (let f = 0; f < this.outC; f++)
        for (let h = 0; h < H; h++)
          for (let w = 0; w < W; w++) {
            let s = this.bias.value.get(f);
            for (let c = 0; c < this.inC; c++) s += this.weight.value.get(f, c) * x.get(n, c, h, w);
            y.set(n, f, h, w, s);
          }
    return y;
  }

  backward(dy: Tensor): Tensor {
    const x = requireCache(this.#x, `Pointwise(${this.name})`);
    const [N, , H, W] = x.shape as [number, number, number, number];
    const dx = zeros(x.shape);
    for (let n = 0; n < N; n++)
      for (let f = 0; f < this.outC; f++)
        for (let h = 0; h < H; h++)
          for (let w = 0; w < W; w++) {
            const g = dy.get(n, f, h, w);
            this.bias.grad.set(f, this.bias.grad.get(f) + g);
            for (let c = 0; c < this.inC; c++) {
              this.weight.grad.set(f, c, this.weight.grad.get(f, c) + g * x.get(n, c, h, w));
              dx.set(n, c, h, w, dx.get(n, c, h, w) + g * this.weight.value.get(f, c));
            }
          }
    return dx;
  }

  params(): Param[] {
    return [this.weight, this.bias];
  }
}
