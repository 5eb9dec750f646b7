// PNG and JPEG bytes ↔ image tensors. An image is a CHW float tensor with values in [0, 1]
// (C = 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA). Works on bytes only, so it runs anywhere; reading
// and writing files lives in image-file.ts. Errors name the source (a file path or a label).
import pngjs from 'pngjs';
import jpeg from 'jpeg-js';
import { FileFormatError, ShapeError } from './errors.js';
import { tensor, zeros, type Tensor, type Tensor32 } from './ndarray.js';

const { PNG } = pngjs;

/** Options for decoding an image. */
export interface DecodeOptions {
  /** Convert to this many channels: 1 (luminance), 3 (RGB) or 4 (RGBA). Default: as stored. */
  channels?: 1 | 3 | 4;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** True when the bytes start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/** True when the bytes start with a JPEG start-of-image marker. */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

// Channels stored per PNG colour type (3 = palette, expanded to RGB or RGBA).
function storedChannels(colorType: number, alpha: boolean): 1 | 2 | 3 | 4 {
  switch (colorType) {
    case 0:
      return 1;
    case 4:
      return 2;
    case 2:
      return 3;
    case 3:
      return alpha ? 4 : 3;
    default:
      return 4;
  }
}

/** Decode PNG bytes (8- or 16-bit, gray/RGB/RGBA/palette) into a CHW float32 tensor in [0, 1]. */
export function decodePng(
  bytes: Uint8Array,
  source = 'PNG data',
  options: DecodeOptions = {},
): Tensor32 {
  if (!isPng(bytes)) throw new FileFormatError(source, 'not a PNG file (bad signature)');
  let png: {
    width: number;
    height: number;
    data: Uint8Array | Uint16Array;
    colorType: number;
    alpha: boolean;
    depth: number;
  };
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
      skipRescale: true,
    }) as unknown as typeof png;
  } catch (err) {
    throw new FileFormatError(source, `corrupt or truncated PNG (${(err as Error).message})`);
  }
  const max = png.depth === 16 ? 65535 : 255;
  const stored = storedChannels(png.colorType, png.alpha);
  return rgbaToChw(
    png.data,
    png.width,
    png.height,
    max,
    options.channels ?? (stored === 2 ? 4 : stored),
    stored === 2,
  );
}

/** Decode JPEG bytes into a CHW float32 tensor in [0, 1] (RGB, or gray with channels: 1). */
export function decodeJpeg(
  bytes: Uint8Array,
  source = 'JPEG data',
  options: DecodeOptions = {},
): Tensor32 {
  if (!isJpeg(bytes))
    throw new FileFormatError(source, 'not a JPEG file (no start-of-image marker)');
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      tolerantDecoding: false,
      maxMemoryUsageInMB: 1024,
    });
  } catch (err) {
    throw new FileFormatError(source, `corrupt or truncated JPEG (${(err as Error).message})`);
  }
  return rgbaToChw(img.data, img.width, img.height, 255, options.channels ?? 3, false);
}

/** Decode PNG or JPEG bytes, chosen by their signature. */
export function decodeImage(
  bytes: Uint8Array,
  source = 'image data',
  options: DecodeOptions = {},
): Tensor32 {
  if (isPng(bytes)) return decodePng(bytes, source, options);
  if (isJpeg(bytes)) return decodeJpeg(bytes, source, options);
  if (bytes.length === 0) throw new FileFormatError(source, 'empty file');
  throw new FileFormatError(source, 'not a PNG or JPEG image (unknown signature)');
}

// Interleaved RGBA (as decoders give it) → planar CHW in [0, 1].
function rgbaToChw(
  rgba: ArrayLike<number>,
  width: number,
  height: number,
  max: number,
  channels: 1 | 3 | 4,
  grayAlpha: boolean,
): Tensor32 {
  const n = width * height;
  const out = zeros([channels, height, width], 'float32');
  const d = out.data;
  for (let p = 0; p < n; p++) {
    const r = rgba[4 * p]! / max;
    const g = rgba[4 * p + 1]! / max;
    const b = rgba[4 * p + 2]! / max;
    if (channels === 1) {
      // ITU-R BT.601 luma, as most tools compute gray from RGB.
      d[p] = grayAlpha ? r : 0.299 * r + 0.587 * g + 0.114 * b;
    } else {
      d[p] = r;
      d[n + p] = g;
      d[2 * n + p] = b;
      if (channels === 4) d[3 * n + p] = rgba[4 * p + 3]! / max;
    }
  }
  return out;
}

/** Options for encoding a PNG. */
export interface EncodeOptions {
  /** 8 (default) or 16 bits per sample. */
  bitDepth?: 8 | 16;
}

/**
 * Encode a CHW (or HW) tensor with values in [0, 1] as PNG bytes. C = 1 gray, 3 RGB, 4 RGBA.
 * Values are clipped to [0, 1] and rounded; NaN is refused rather than written as black.
 */
export function encodePng(image: Tensor, options: EncodeOptions = {}): Uint8Array {
  const { bitDepth = 8 } = options;
  const chw =
    image.shape.length === 2
      ? tensor(
          image.data,
          [1, image.shape[0]!, image.shape[1]!],
          [0, image.stride[0]!, image.stride[1]!],
          image.offset,
        )
      : image;
  if (chw.shape.length !== 3 || ![1, 3, 4].includes(chw.shape[0]!)) {
    throw new ShapeError(
      'encodePng',
      image.shape,
      [-1, -1, -1],
      'expected [C, H, W] with C = 1, 3 or 4',
    );
  }
  const [C, H, W] = chw.shape as [number, number, number];
  const max = bitDepth === 16 ? 65535 : 255;
  const rgba = bitDepth === 16 ? new Uint16Array(4 * H * W) : new Uint8Array(4 * H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = 4 * (y * W + x);
      for (let c = 0; c < 4; c++) {
        const src = C === 1 ? (c < 3 ? 0 : -1) : c < C ? c : -1;
        let v = 1;
        if (src >= 0) {
          v = chw.get(src, y, x);
          if (Number.isNaN(v))
            throw new Error(`encodePng: NaN at channel ${src}, row ${y}, column ${x}`);
        }
        rgba[p + c] = Math.round(Math.min(1, Math.max(0, v)) * max);
      }
    }
  }
  const colorType = C === 1 ? 0 : C === 3 ? 2 : 6;
  const buffer = PNG.sync.write(
    // pngjs's typings want a whole PNG object; the sync writer reads only these three fields.
    {
      width: W,
      height: H,
      data: Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength),
    } as pngjs.PNG,
    { colorType, inputColorType: 6, inputHasAlpha: true, bitDepth },
  );
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
