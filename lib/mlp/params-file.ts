// Save and load a network's parameters by name (Node only). One file, safetensors-like:
//   line 1  `nnzero-params 1`                       (magic and format version)
//   line 2  JSON manifest {"params":[{"name","shape","dtype","offset"}]}  (offset in bytes)
//   then    zero padding to a multiple of 8 bytes, and the raw little-endian float data.
// Layers never serialize themselves (STYLE.md C2.9): any network is just its named params().
import { readFileSync } from 'node:fs';
import {
  FileFormatError,
  assign,
  dtypeOf,
  sizeOf,
  tensor,
  writeFileAtomic,
  type DType,
  type Param,
} from '../core/index.js';

const MAGIC = 'nnzero-params 1';

interface Entry {
  name: string;
  shape: number[];
  dtype: DType;
  offset: number;
}

/** Write every parameter's value (name, shape, dtype, data) to `path`, atomically. */
export function saveParams(path: string, params: readonly Param[]): void {
  const entries: Entry[] = [];
  let offset = 0;
  for (const p of params) {
    const dtype = dtypeOf(p.value);
    entries.push({ name: p.name, shape: [...p.value.shape], dtype, offset });
    offset += p.value.size * (dtype === 'float32' ? 4 : 8);
    offset = Math.ceil(offset / 8) * 8; // keep every block 8-byte aligned
  }
  const header = new TextEncoder().encode(`${MAGIC}\n${JSON.stringify({ params: entries })}\n`);
  const start = Math.ceil(header.length / 8) * 8;
  const bytes = new Uint8Array(start + offset);
  bytes.set(header);
  entries.forEach((e, i) => {
    const v = params[i]!.value;
    const n = v.size;
    const block =
      e.dtype === 'float32'
        ? new Float32Array(bytes.buffer, start + e.offset, n)
        : new Float64Array(bytes.buffer, start + e.offset, n);
    assign(tensor(block, v.shape), v);
  });
  writeFileAtomic(path, bytes);
}

/**
 * Read parameters saved by saveParams into `params`, matched by name. Throws a FileFormatError
 * listing every missing, unexpected or mis-shaped parameter; nothing is changed unless all match.
 * Values are converted when the file's dtype differs from the parameter's.
 */
export function loadParams(path: string, params: readonly Param[]): void {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FileFormatError(path, code === 'ENOENT' ? 'no such file' : `cannot read (${code})`);
  }
  // Copy into a fresh, 8-byte aligned buffer so typed views over the data are legal.
  const bytes = new Uint8Array(raw.length);
  bytes.set(raw);
  const first = bytes.indexOf(10);
  const second = first < 0 ? -1 : bytes.indexOf(10, first + 1);
  const decoder = new TextDecoder();
  if (first < 0 || decoder.decode(bytes.subarray(0, first)) !== MAGIC || second < 0) {
    throw new FileFormatError(path, `not an nnzero parameter file (expected '${MAGIC}' first)`);
  }
  let entries: Entry[];
  try {
    entries = (JSON.parse(decoder.decode(bytes.subarray(first + 1, second))) as { params: Entry[] })
      .params;
  } catch (err) {
    throw new FileFormatError(path, `unreadable manifest (${(err as Error).message})`);
  }
  const start = Math.ceil((second + 1) / 8) * 8;
  const byName = new Map(entries.map((e) => [e.name, e]));
  const problems: string[] = [];
  const wanted = new Set(params.map((p) => p.name));
  for (const p of params) {
    const e = byName.get(p.name);
    if (e === undefined) problems.push(`missing ${p.name} [${p.value.shape.join(', ')}]`);
    else if (e.shape.join() !== p.value.shape.join()) {
      problems.push(
        `${p.name} has shape [${e.shape.join(', ')}] in the file, [${p.value.shape.join(', ')}] in the network`,
      );
    } else if (
      start + e.offset + sizeOf(e.shape) * (e.dtype === 'float32' ? 4 : 8) >
      bytes.length
    ) {
      problems.push(`${p.name}: data truncated`);
    }
  }
  for (const e of entries) {
    if (!wanted.has(e.name)) problems.push(`unexpected ${e.name} [${e.shape.join(', ')}]`);
  }
  if (problems.length > 0) {
    throw new FileFormatError(path, `parameters do not match the network: ${problems.join('; ')}`);
  }
  for (const p of params) {
    const e = byName.get(p.name)!;
    const n = sizeOf(e.shape);
    const block =
      e.dtype === 'float32'
        ? new Float32Array(bytes.buffer, start + e.offset, n)
        : new Float64Array(bytes.buffer, start + e.offset, n);
    assign(p.value, tensor(block, e.shape));
  }
}
