// A network's parameters by name ↔ bytes, platform neutral (params-file.ts puts them in files,
// the web playground fetches them). The format, safetensors-like:
//   line 1  `nnzero-params 1`                       (magic and format version)
//   line 2  JSON manifest {"params":[{"name","shape","dtype","offset"}]}  (offset in bytes)
//   then    zero padding to a multiple of 8 bytes, and the raw little-endian float data.
// Layers never serialize themselves (STYLE.md C2.9): any network is just its named params().
import {
  FileFormatError,
  assign,
  dtypeOf,
  sizeOf,
  tensor,
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

/** Every parameter's value (name, shape, dtype, data) as the bytes of a parameter file. */
export function encodeParams(params: readonly Param[]): Uint8Array {
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
  return bytes;
}

/**
 * Read the bytes of a parameter file into `params`, matched by name. Throws a FileFormatError
 * naming `source` (a path or URL) and listing every missing, unexpected or mis-shaped parameter;
 * nothing is changed unless all match. Values are converted when the dtypes differ.
 */
export function decodeParams(data: Uint8Array, params: readonly Param[], source: string): void {
  // Copy into a fresh, 8-byte aligned buffer so typed views over the data are legal.
  const bytes = new Uint8Array(data.length);
  bytes.set(data);
  const first = bytes.indexOf(10);
  const second = first < 0 ? -1 : bytes.indexOf(10, first + 1);
  const decoder = new TextDecoder();
  if (first < 0 || decoder.decode(bytes.subarray(0, first)) !== MAGIC || second < 0) {
    throw new FileFormatError(source, `not an nnzero parameter file (expected '${MAGIC}' first)`);
  }
  let entries: Entry[];
  try {
    entries = (JSON.parse(decoder.decode(bytes.subarray(first + 1, second))) as { params: Entry[] })
      .params;
  } catch (err) {
    throw new FileFormatError(source, `unreadable manifest (${(err as Error).message})`);
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
    throw new FileFormatError(
      source,
      `parameters do not match the network: ${problems.join('; ')}`,
    );
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
