// Node-only edge of the format readers: weight files are read from disk by positional reads on a
// file descriptor (Node has no mmap), so a 575 MB VGG-19 caffemodel never sits in memory whole:
// the parsers walk its structure through a small window and read the float payload of each kept
// blob straight into the Float32Array that becomes the parameter; blobs nobody keeps are stepped
// over unread. Bytes already in memory go to the same platform-neutral parsers. Every error names
// the path.

import { closeSync, fstatSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { parseCaffeModel } from './caffe.js';
import type { CaffeNet, CaffeReadOptions } from './caffe.js';
import { parseOnnxModel } from './onnx.js';
import type { OnnxModel, OnnxReadOptions } from './onnx.js';
import { parsePrototxt } from './prototxt.js';
import { encodeSafetensors, parseSafetensors } from './safetensors.js';
import type { SafetensorsFile, SafetensorsInput, SafetensorsReadOptions } from './safetensors.js';
import { FormatError, type ByteSource } from './protobuf.js';

// The error for a file that cannot be opened or read, naming the path.
function unreadable(path: string, e: unknown): FormatError {
  const err = e as NodeJS.ErrnoException;
  return new FormatError(
    path,
    err.code === 'ENOENT' ? 'no such file' : `cannot read file (${err.message})`,
  );
}

function load(source: string | Uint8Array, label: string): [Uint8Array, string] {
  if (typeof source !== 'string') return [source, label];
  try {
    return [readFileSync(source), source];
  } catch (e) {
    throw unreadable(source, e);
  }
}

// readSync moves at most 2 GiB per call; ask for at most 1 GiB at a time.
const MAX_READ = 1 << 30;

/**
 * Opens `path` read-only and runs `read` over a ByteSource on it (positional reads with
 * fs.readSync), closing the file afterwards. A file that ends early (it shrank, or is still being
 * written) throws a FormatError naming the path and the byte where it ended.
 */
export function withByteSource<T>(path: string, read: (source: ByteSource) => T): T {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw unreadable(path, e);
  }
  try {
    const length = fstatSync(fd).size;
    const source: ByteSource = {
      length,
      readInto(target, position) {
        let done = 0;
        while (done < target.length) {
          const want = Math.min(target.length - done, MAX_READ);
          let got: number;
          try {
            got = readSync(fd, target, done, want, position + done);
          } catch (e) {
            throw unreadable(path, e);
          }
          if (got === 0) {
            throw new FormatError(
              path,
              `file ended at byte ${position + done} while reading bytes ${position}–${position + target.length} (it was ${length} bytes when opened)`,
              position + done,
            );
          }
          done += got;
        }
      },
    };
    return read(source);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a .caffemodel from a path (or bytes). From a path, only the blobs of kept layers are read
 * from disk, each straight into its own Float32Array, so a VGG-19 read for its conv layers costs
 * ~80 MB, not the 575 MB file. From bytes, blobs are views on them; `compact` copies the kept ones
 * into one buffer so the bytes can be freed (it is off by default either way).
 */
export function readCaffeModel(
  source: string | Uint8Array,
  options: CaffeReadOptions = {},
): CaffeNet {
  if (typeof source === 'string') {
    return withByteSource(source, (bytes) => parseCaffeModel(bytes, { ...options, file: source }));
  }
  return parseCaffeModel(source, { ...options, file: options.file ?? '<caffemodel>' });
}

/** Reads a deploy.prototxt from a path into CaffeNet records (blobs empty). */
export function readPrototxt(path: string): CaffeNet {
  const [bytes, file] = load(path, path);
  return parsePrototxt(new TextDecoder().decode(bytes), file);
}

/**
 * Reads a .safetensors file from a path (or bytes). From a path, only the tensors `keep` accepts
 * are read from disk, each into an array of its own.
 */
export function readSafetensors(
  source: string | Uint8Array,
  options: SafetensorsReadOptions = {},
): SafetensorsFile {
  if (typeof source === 'string') {
    return withByteSource(source, (bytes) => parseSafetensors(bytes, { ...options, file: source }));
  }
  return parseSafetensors(source, { ...options, file: options.file ?? '<safetensors>' });
}

/** Writes tensors (and string metadata) to a .safetensors file. */
export function writeSafetensors(
  path: string,
  tensors: readonly SafetensorsInput[],
  metadata: Readonly<Record<string, string>> = {},
): void {
  writeFileSync(path, encodeSafetensors(tensors, metadata));
}

/**
 * Reads an .onnx model from a path (or bytes). From a path, initializers' raw_data is read from
 * disk straight into their own Float32Arrays, and not at all for those `keep` leaves out.
 */
export function readOnnxModel(
  source: string | Uint8Array,
  options: OnnxReadOptions = {},
): OnnxModel {
  if (typeof source === 'string') {
    return withByteSource(source, (bytes) => parseOnnxModel(bytes, { ...options, file: source }));
  }
  return parseOnnxModel(source, { ...options, file: options.file ?? '<onnx>' });
}
