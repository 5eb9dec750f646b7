// Image files (Node only): read PNG/JPEG files into CHW tensors and write tensors as PNG files,
// atomically. Errors name the file.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic.js';
import { FileFormatError } from './errors.js';
import type { Tensor, Tensor32 } from './ndarray.js';
import { decodeImage, encodePng, type DecodeOptions, type EncodeOptions } from './png.js';

/** Read a PNG or JPEG file as a CHW float32 tensor in [0, 1]. */
export function readImage(path: string, options: DecodeOptions = {}): Tensor32 {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FileFormatError(
      path,
      code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(err)})`,
    );
  }
  return decodeImage(bytes, path, options);
}

/** Write a CHW tensor in [0, 1] as a PNG file, atomically. */
export function writePng(path: string, image: Tensor, options: EncodeOptions = {}): void {
  writeFileAtomic(path, encodePng(image, options));
}
