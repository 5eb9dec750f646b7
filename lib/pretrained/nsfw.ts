// Yahoo's open_nsfw scoring (classify_nsfw.py): resize the image to 256 × 256 with Pillow's
// BILINEAR filter, take the central 224 × 224, convert to Caffe's BGR · 255 − mean, run the
// thin ResNet-50 and read the second probability ("NSFW") as the score in [0, 1]. The original
// also re-encodes the resized image as JPEG before cropping; we skip that step, so scores can
// differ from the published tool's in the second decimal.
import { ShapeError, copy, reshape, zeros, type Layer, type Tensor } from '../core/index.js';

/** open_nsfw's per-channel mean, BGR order. */
export const NSFW_MEAN: readonly number[] = [104, 117, 123];

// Resample one axis with Pillow's BILINEAR kernel: a triangle of radius max(1, scale) in input
// pixels (so shrinking averages every covered pixel, like Pillow's antialiasing), pixel centres
// aligned: the output pixel i covers input centre (i + 0.5) · scale.
function resampleAxis(x: Tensor, axis: 1 | 2, outSize: number): Tensor {
  const [C, H, W] = x.shape as [number, number, number];
  const inSize = axis === 1 ? H : W;
  const scale = inSize / outSize;
  const support = Math.max(1, scale);
  const shape = axis === 1 ? [C, outSize, W] : [C, H, outSize];
  const out = zeros(shape, 'float32');
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(inSize, Math.ceil(centre + support));
    const weights: number[] = [];
    let total = 0;
    for (let k = lo; k < hi; k++) {
      const w = Math.max(0, 1 - Math.abs((k + 0.5 - centre) / support));
      weights.push(w);
      total += w;
    }
    for (let c = 0; c < C; c++) {
      const other = axis === 1 ? W : H;
      for (let t = 0; t < other; t++) {
        let acc = 0;
        for (let k = lo; k < hi; k++) {
          const v = axis === 1 ? x.get(c, k, t) : x.get(c, t, k);
          acc += (weights[k - lo]! / total) * v;
        }
        if (axis === 1) out.set(c, o, t, acc);
        else out.set(c, t, o, acc);
      }
    }
  }
  return out;
}

/** Resize x [C, H, W] to [C, outH, outW] as Pillow's Image.resize(…, BILINEAR) does. */
export function resizePillowBilinear(x: Tensor, outH: number, outW: number): Tensor {
  return resampleAxis(resampleAxis(x, 2, outW), 1, outH);
}

/**
 * open_nsfw's input: RGB [3, H, W] in [0, 1] → [1, 3, 224, 224] float32, BGR · 255 − NSFW_MEAN,
 * after a resize to 256 × 256 and a central crop.
 */
export function nsfwPreprocess(rgb: Tensor, { size = 256, crop = 224 } = {}): Tensor {
  if (rgb.shape.length !== 3 || rgb.shape[0] !== 3) {
    throw new ShapeError('nsfwPreprocess image', rgb.shape, [3, -1, -1]);
  }
  const resized = resizePillowBilinear(rgb, size, size);
  const offset = Math.floor((size - crop) / 2);
  const out = zeros([3, crop, crop], 'float32');
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < crop; i++) {
      for (let j = 0; j < crop; j++) {
        out.set(c, i, j, 255 * resized.get(2 - c, offset + i, offset + j) - NSFW_MEAN[c]!);
      }
    }
  }
  return reshape(out, [1, 3, crop, crop]);
}

/**
 * The open_nsfw score of an image: P(NSFW) from a network whose output is [1, 2] probabilities
 * (SFW, NSFW), e.g. the imported resnet_50_1by2_nsfw.
 * @param rgb image [3, H, W] in [0, 1]
 */
export function nsfwScore(
  net: Layer,
  rgb: Tensor,
  options: { size?: number; crop?: number } = {},
): number {
  const y = net.forward(copy(nsfwPreprocess(rgb, options)));
  if (y.size !== 2)
    throw new ShapeError('open_nsfw output (SFW, NSFW probabilities)', y.shape, [1, 2]);
  return y.data[y.offset + y.stride[y.stride.length - 1]!]!;
}
