// Images ↔ RGBA pixel buffers, the shape a canvas's ImageData has: the browser counterpart of
// image-file.ts (a page reads pixels from a canvas instead of a file). Plain typed arrays only,
// so it runs (and is tested) in Node too. Tensors are CHW float32 in [0, 1], as in png.ts.
import { ShapeError } from './errors.js';
import { zeros, type Tensor, type Tensor32 } from './ndarray.js';

/** RGBA pixels, 4 bytes per pixel, row by row: what `ctx.getImageData` returns. */
export interface ImageDataLike {
  readonly data: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

/** Options for reading pixels into a tensor. */
export interface CanvasImageOptions {
  /** 1 (luminance, ITU-R BT.601 weights), 3 (RGB, the default) or 4 (RGBA). */
  channels?: 1 | 3 | 4;
}

/** RGBA pixels → a CHW float32 tensor in [0, 1], shape [channels, height, width]. */
export function imageFromImageData(
  pixels: ImageDataLike,
  { channels = 3 }: CanvasImageOptions = {},
): Tensor32 {
  const { data, width: W, height: H } = pixels;
  if (data.length !== W * H * 4) {
    throw new ShapeError('imageFromImageData bytes', [data.length], [W * H * 4], `${W}×${H} RGBA`);
  }
  const out = zeros([channels, H, W], 'float32') as Tensor32;
  const o = out.data;
  const plane = H * W;
  for (let p = 0; p < plane; p++) {
    const r = data[4 * p]! / 255;
    const g = data[4 * p + 1]! / 255;
    const b = data[4 * p + 2]! / 255;
    if (channels === 1) {
      o[p] = 0.299 * r + 0.587 * g + 0.114 * b;
    } else {
      o[p] = r;
      o[plane + p] = g;
      o[2 * plane + p] = b;
      if (channels === 4) o[3 * plane + p] = data[4 * p + 3]! / 255;
    }
  }
  return out;
}

/**
 * A CHW image tensor (C = 1, 3 or 4; values in [0, 1], clamped) → RGBA pixels for
 * `new ImageData(pixels.data, pixels.width, pixels.height)`. Gray is repeated into R, G and B.
 */
export function imageToImageData(image: Tensor): ImageDataLike {
  if (image.shape.length !== 3 || ![1, 3, 4].includes(image.shape[0]!)) {
    throw new ShapeError('imageToImageData', image.shape, [-1, -1, -1], 'C must be 1, 3 or 4');
  }
  const [C, H, W] = image.shape as [number, number, number];
  const data = new Uint8ClampedArray(W * H * 4);
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      const p = 4 * (i * W + j);
      for (let c = 0; c < 3; c++) data[p + c] = Math.round(255 * image.get(C === 1 ? 0 : c, i, j));
      data[p + 3] = C === 4 ? Math.round(255 * image.get(3, i, j)) : 255;
    }
  }
  return { data, width: W, height: H };
}
