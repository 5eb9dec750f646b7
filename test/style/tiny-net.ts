// A tiny feature network for tests, written with plain loops (float64): conv 3×3 → ReLU → max
// pool 2×2 → conv 3×3 → ReLU, taps after each layer. It lets the style-transfer objective be
// gradient-checked down to the pixels through a multi-layer network with several taps.
import { Rng, zeros, type Tensor, type Tensor64 } from '../../lib/core/index.js';
import { RANDOM_PREPROCESSING, type FeatureNet } from '../../lib/style/index.js';

function conv3x3(x: Tensor, w: Tensor64): Tensor64 {
  const [, C, H, W] = x.shape as [number, number, number, number];
  const F = w.shape[0]!;
  const y = zeros([1, F, H, W]);
  for (let f = 0; f < F; f++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++) {
        let s = 0;
        for (let c = 0; c < C; c++)
          for (let a = 0; a < 3; a++)
            for (let b = 0; b < 3; b++) {
              const ii = i + a - 1;
              const jj = j + b - 1;
              if (ii >= 0 && ii < H && jj >= 0 && jj < W)
                s += w.get(f, c, a, b) * x.get(0, c, ii, jj);
            }
        y.set(0, f, i, j, s);
      }
  return y;
}

function conv3x3BackwardInput(dy: Tensor, w: Tensor64, C: number): Tensor64 {
  const [, F, H, W] = dy.shape as [number, number, number, number];
  const dx = zeros([1, C, H, W]);
  for (let f = 0; f < F; f++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++) {
        const g = dy.get(0, f, i, j);
        for (let c = 0; c < C; c++)
          for (let a = 0; a < 3; a++)
            for (let b = 0; b < 3; b++) {
              const ii = i + a - 1;
              const jj = j + b - 1;
              if (ii >= 0 && ii < H && jj >= 0 && jj < W) {
                dx.set(0, c, ii, jj, dx.get(0, c, ii, jj) + g * w.get(f, c, a, b));
              }
            }
      }
  return dx;
}

function relu(x: Tensor64): Tensor64 {
  const y = zeros(x.shape);
  for (let i = 0; i < x.size; i++) y.data[i] = Math.max(0, x.data[i]!);
  return y;
}

/** Build the tiny net with seeded weights: 3 → c1 → c2 channels. */
export function tinyNet(seed: number, c1 = 4, c2 = 5): FeatureNet {
  const rng = new Rng(seed);
  const w1 = rng.fillNormal(zeros([c1, 3, 3, 3]), 0, Math.sqrt(2 / 27));
  const w2 = rng.fillNormal(zeros([c2, c1, 3, 3]), 0, Math.sqrt(2 / (9 * c1)));
  let cache: { conv1: Tensor64; relu1: Tensor64; argmax: Int32Array; conv2: Tensor64 } | undefined;
  return {
    preprocessing: RANDOM_PREPROCESSING,
    layerNames: ['conv1', 'relu1', 'pool1', 'conv2', 'relu2'],
    forward(x, taps) {
      const conv1 = conv3x3(x, w1);
      const relu1 = relu(conv1);
      const [, C, H, W] = relu1.shape as [number, number, number, number];
      const pool1 = zeros([1, C, H >> 1, W >> 1]);
      const argmax = new Int32Array(pool1.size);
      for (let c = 0; c < C; c++)
        for (let i = 0; i < H >> 1; i++)
          for (let j = 0; j < W >> 1; j++) {
            let best = -Infinity;
            let at = 0;
            for (let a = 0; a < 2; a++)
              for (let b = 0; b < 2; b++) {
                const v = relu1.get(0, c, 2 * i + a, 2 * j + b);
                if (v > best) {
                  best = v;
                  at = (c * H + 2 * i + a) * W + 2 * j + b;
                }
              }
            pool1.set(0, c, i, j, best);
            argmax[(c * (H >> 1) + i) * (W >> 1) + j] = at;
          }
      const conv2 = conv3x3(pool1, w2);
      const relu2 = relu(conv2);
      cache = { conv1, relu1, argmax, conv2 };
      const all = new Map<string, Tensor>([
        ['conv1', conv1],
        ['relu1', relu1],
        ['pool1', pool1],
        ['conv2', conv2],
        ['relu2', relu2],
      ]);
      return new Map(taps.map((t) => [t, all.get(t)!]));
    },
    backward(tapGradients) {
      if (cache === undefined) throw new Error('tinyNet.backward called before forward');
      const { conv1, relu1, argmax, conv2 } = cache;
      const add = (name: string, g: Tensor64): Tensor64 => {
        const t = tapGradients.get(name);
        if (t !== undefined) for (let i = 0; i < g.size; i++) g.data[i] += t.data[i]!;
        return g;
      };
      const dRelu2 = add('relu2', zeros(conv2.shape));
      const dConv2 = add('conv2', zeros(conv2.shape));
      for (let i = 0; i < conv2.size; i++)
        if (conv2.data[i]! > 0) dConv2.data[i] += dRelu2.data[i]!;
      const dPool1 = add('pool1', conv3x3BackwardInput(dConv2, w2, relu1.shape[1]!));
      const dRelu1 = add('relu1', zeros(relu1.shape));
      for (let k = 0; k < argmax.length; k++) dRelu1.data[argmax[k]!] += dPool1.data[k]!;
      const dConv1 = add('conv1', zeros(conv1.shape));
      for (let i = 0; i < conv1.size; i++)
        if (conv1.data[i]! > 0) dConv1.data[i] += dRelu1.data[i]!;
      return conv3x3BackwardInput(dConv1, w1, 3);
    },
  };
}
