// Node-only edge of the format readers: read weight files from disk (or take bytes already in
// memory) and hand them to the platform-neutral parsers, with the path in every error message.
// Reading a 550 MB caffemodel into one Buffer is fine (Buffer memory lives outside the JS heap);
// `compact` then lets that Buffer go once only the kept layers' weights are copied out.

import { readFileSync, writeFileSync } from 'node:fs';
import { compactCaffeNet, parseCaffeModel } from './caffe.js';
import type { CaffeNet, CaffeReadOptions } from './caffe.js';
import { parseOnnxModel } from './onnx.js';
import type { OnnxModel } from './onnx.js';
import { parsePrototxt } from './prototxt.js';
import { encodeSafetensors, parseSafetensors } from './safetensors.js';
import type { SafetensorsFile, SafetensorsInput, SafetensorsReadOptions } from './safetensors.js';
import { FormatError } from './protobuf.js';

function load(source: string | Uint8Array, label: string): [Uint8Array, string] {
  if (typeof source !== 'string') return [source, label];
  try {
    return [readFileSync(source), source];
  } catch (e) {
    throw new FormatError(source, `cannot read file (${(e as Error).message})`);
  }
}

/**
 * Reads a .caffemodel from a path (or bytes). When reading a path, kept blobs are copied into one
 * compact buffer if they are less than half the file, so a VGG-19 read for its conv layers costs
 * ~80 MB instead of holding all 550 MB; pass `compact` to decide yourself.
 */
export function readCaffeModel(
  source: string | Uint8Array,
  options: CaffeReadOptions = {},
): CaffeNet {
  const [bytes, file] = load(source, options.file ?? '<caffemodel>');
  const net = parseCaffeModel(bytes, { ...options, file, compact: false });
  if (options.compact === false || (options.compact === undefined && typeof source !== 'string')) {
    return net;
  }
  let kept = 0;
  for (const layer of net.layers) for (const b of layer.blobs) kept += b.data.byteLength;
  return options.compact === true || kept * 2 < bytes.length ? compactCaffeNet(net) : net;
}

/** Reads a deploy.prototxt from a path into CaffeNet records (blobs empty). */
export function readPrototxt(path: string): CaffeNet {
  const [bytes, file] = load(path, path);
  return parsePrototxt(new TextDecoder().decode(bytes), file);
}

/** Reads a .safetensors file from a path (or bytes). */
export function readSafetensors(
  source: string | Uint8Array,
  options: SafetensorsReadOptions = {},
): SafetensorsFile {
  const [bytes, file] = load(source, options.file ?? '<safetensors>');
  return parseSafetensors(bytes, { ...options, file });
}

/** Writes tensors (and string metadata) to a .safetensors file. */
export function writeSafetensors(
  path: string,
  tensors: readonly SafetensorsInput[],
  metadata: Readonly<Record<string, string>> = {},
): void {
  writeFileSync(path, encodeSafetensors(tensors, metadata));
}

/** Reads an .onnx model from a path (or bytes). */
export function readOnnxModel(source: string | Uint8Array): OnnxModel {
  const [bytes, file] = load(source, '<onnx>');
  return parseOnnxModel(bytes, { file });
}
