// Reads and writes .safetensors files (the Hugging Face / PyTorch weight format): an 8-byte
// little-endian header length N, N bytes of JSON ({ name: { dtype, shape, data_offsets } } plus an
// optional "__metadata__" of strings), then the tensors' bytes back to back. F32 tensors come back
// as Float32Array views on bytes in memory, or read into arrays of their own from a ByteSource
// (only the kept ones); F16, BF16 and F64 are converted with one copy. Spec: huggingface/safetensors.

import { bfloat16ToFloat32, float16ToFloat32, floatToBfloat16, floatToHalf } from './float16.js';
import { FormatError, bytesOf, float32Of, float64ToFloat32 } from './protobuf.js';
import type { ByteSource } from './protobuf.js';
import { elementCount } from './shape.js';

/** Element types of the safetensors spec that nnzero converts to float32. */
export type SafetensorsFloatDtype = 'F32' | 'F16' | 'BF16' | 'F64';

/** One tensor read from a file; `dtype` is the stored type, `data` always float32. */
export interface SafeTensor {
  readonly name: string;
  readonly dtype: SafetensorsFloatDtype;
  readonly shape: number[];
  readonly data: Float32Array;
}

/** A parsed file: tensors by name (in data order) and the string metadata. */
export interface SafetensorsFile {
  readonly tensors: Map<string, SafeTensor>;
  readonly metadata: Record<string, string>;
}

/** Options of `parseSafetensors`. */
export interface SafetensorsReadOptions {
  /** Name used in error messages (defaults to "<safetensors>"). */
  file?: string;
  /** Tensors for which this returns false are left out and never converted (nor type-checked). */
  keep?: (name: string, dtype: string) => boolean;
}

/** A tensor to write: values are stored as `dtype` (F32 by default). */
export interface SafetensorsInput {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
  readonly dtype?: SafetensorsFloatDtype;
}

/** Bytes per element of every dtype in the spec (also the ones nnzero does not convert). */
const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};

const FLOAT_DTYPES: readonly string[] = ['F32', 'F16', 'BF16', 'F64'];

function convert(
  source: Uint8Array | ByteSource,
  start: number,
  length: number,
  dtype: SafetensorsFloatDtype,
): Float32Array {
  if (dtype === 'F32') return float32Of(source, start, length);
  const bytes = bytesOf(source, start, start + length);
  if (dtype === 'F64') return float64ToFloat32(bytes, 0, length);
  return dtype === 'F16' ? float16ToFloat32(bytes, 0, length) : bfloat16ToFloat32(bytes, 0, length);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

interface Entry {
  readonly name: string;
  readonly dtype: string;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

/** Validates one header entry: dtype known, shape and offsets non-negative integers, sizes agree. */
function entry(file: string, name: string, v: unknown): Entry {
  const bad = (detail: string): never => {
    throw new FormatError(file, `tensor "${name}": ${detail}`);
  };
  if (!isObject(v)) return bad('header entry is not an object');
  const { dtype, shape, data_offsets: offsets } = v;
  if (typeof dtype !== 'string' || DTYPE_BYTES[dtype] === undefined) {
    return bad(`unknown dtype ${JSON.stringify(dtype)}`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) return bad('shape is not a list of sizes');
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    return bad('data_offsets is not [begin, end]');
  }
  const [begin, end] = offsets as [number, number];
  const need = elementCount(shape as number[]) * (DTYPE_BYTES[dtype] as number);
  if (end < begin || end - begin !== need) {
    return bad(
      `data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${dtype} [${shape.join(', ')}] needs ${need}`,
    );
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/**
 * Parses a .safetensors file.
 * @param source the whole file, or a ByteSource that reads it on demand (files.ts)
 * @returns tensors as float32 (F32 as views on bytes in memory when aligned) and the metadata
 */
export function parseSafetensors(
  source: Uint8Array | ByteSource,
  options: SafetensorsReadOptions = {},
): SafetensorsFile {
  const { file = '<safetensors>', keep } = options;
  const length = source.length;
  if (length < 8) {
    throw new FormatError(
      file,
      `file holds ${length} bytes, fewer than the 8-byte header length`,
      0,
    );
  }
  const prefix = bytesOf(source, 0, 8);
  const headerLength = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(length - 8)) {
    throw new FormatError(
      file,
      `header length ${headerLength} runs past end of file (${length - 8} bytes after the length)`,
      0,
    );
  }
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytesOf(source, 8, dataStart)),
    );
  } catch (e) {
    throw new FormatError(file, `header is not valid UTF-8 JSON (${(e as Error).message})`, 8);
  }
  if (!isObject(header)) throw new FormatError(file, 'header is not a JSON object', 8);

  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isObject(v) || !Object.values(v).every((s) => typeof s === 'string')) {
        throw new FormatError(file, '__metadata__ must map strings to strings', 8);
      }
      Object.assign(metadata, v);
    } else entries.push(entry(file, name, v));
  }

  // The spec requires the tensors to tile the data section exactly: no gaps, no overlaps.
  entries.sort((a, b) => a.begin - b.begin);
  const dataLength = length - dataStart;
  let expected = 0;
  for (const e of entries) {
    if (e.begin !== expected) {
      throw new FormatError(
        file,
        `tensor "${e.name}" starts at data offset ${e.begin}, expected ${expected} (gap or overlap)`,
      );
    }
    expected = e.end;
  }
  if (expected !== dataLength) {
    throw new FormatError(
      file,
      `tensors need ${expected} bytes of data but the file holds ${dataLength} after the header`,
      dataStart,
    );
  }

  const tensors = new Map<string, SafeTensor>();
  for (const e of entries) {
    if (keep && !keep(e.name, e.dtype)) continue;
    if (!FLOAT_DTYPES.includes(e.dtype)) {
      throw new FormatError(
        file,
        `tensor "${e.name}" has dtype ${e.dtype}; nnzero reads only F32, F16, BF16 and F64 (use keep to skip it)`,
      );
    }
    const dtype = e.dtype as SafetensorsFloatDtype;
    const data = convert(source, dataStart + e.begin, e.end - e.begin, dtype);
    tensors.set(e.name, { name: e.name, dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

/**
 * Encodes tensors as a .safetensors file. The header is padded with spaces so the data starts on
 * an 8-byte boundary (as the reference writer does), which keeps F32 tensors view-aligned.
 */
export function encodeSafetensors(
  tensors: readonly SafetensorsInput[],
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header['__metadata__'] = metadata;
  let offset = 0;
  for (const t of tensors) {
    const dtype = t.dtype ?? 'F32';
    const count = elementCount(t.shape);
    if (count !== t.data.length) {
      throw new RangeError(
        `tensor "${t.name}": shape [${t.shape.join(', ')}] needs ${count} values, got ${t.data.length}`,
      );
    }
    if (header[t.name] !== undefined) throw new RangeError(`tensor "${t.name}" appears twice`);
    const size = count * (DTYPE_BYTES[dtype] as number);
    header[t.name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  if (padded !== json.length) {
    json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(padded - json.length));
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors) {
    const dtype = t.dtype ?? 'F32';
    for (let i = 0; i < t.data.length; i++) {
      const v = t.data[i] as number;
      if (dtype === 'F32') view.setFloat32(at, v, true);
      else if (dtype === 'F64') view.setFloat64(at, v, true);
      else if (dtype === 'F16') view.setUint16(at, floatToHalf(v), true);
      else view.setUint16(at, floatToBfloat16(v), true);
      at += DTYPE_BYTES[dtype] as number;
    }
  }
  return out;
}
