// Tests for the .safetensors reader and writer: three tensors and metadata round-trip exactly as
// Float32Array views, F16/BF16/F64 widen to float32, other dtypes are refused (or skipped with
// keep), and truncated, garbage or inconsistent files raise FormatError naming file and problem.

import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FormatError,
  encodeSafetensors,
  floatToBfloat16,
  floatToHalf,
  halfToFloat,
  parseSafetensors,
  readSafetensors,
  writeSafetensors,
} from '../../../lib/style/formats/index.js';
import { indexOfBytes, memorySource, outcome, seededFloats, withTempDir } from './fixtures.js';

const rand = seededFloats(21);
const TENSORS = [
  { name: 'conv1.weight', shape: [4, 3, 3, 3], data: rand(108) },
  { name: 'conv1.bias', shape: [4], data: rand(4) },
  { name: 'fc.weight', shape: [5, 7], data: rand(35) },
];

/** Builds a file by hand from a header object and raw data bytes. */
function handMade(header: unknown, data: Uint8Array, lengthOverride?: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(lengthOverride ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors', () => {
  const bytes = encodeSafetensors(TENSORS, { format: 'pt', source: 'nnzero test' });

  it('reads back three tensors and the metadata exactly', () => {
    const file = parseSafetensors(bytes);
    expect([...file.tensors.keys()]).to.deep.equal(['conv1.weight', 'conv1.bias', 'fc.weight']);
    for (const t of TENSORS) {
      const read = file.tensors.get(t.name);
      expect(read?.dtype).to.equal('F32');
      expect(read?.shape).to.deep.equal(t.shape);
      expect(read?.data).to.be.instanceOf(Float32Array);
      expect(read?.data).to.deep.equal(t.data);
    }
    expect(file.metadata).to.deep.equal({ format: 'pt', source: 'nnzero test' });
  });

  it('pads the header so F32 tensors are views on the file bytes', () => {
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).to.equal(0);
    for (const t of parseSafetensors(bytes).tensors.values())
      expect(t.data.buffer).to.equal(bytes.buffer);
  });

  it('widens F16, BF16 and F64 tensors to float32', () => {
    const values = [0, -2, 1.5, 0.25, 65504, -1023 * 2 ** -24, 2 ** -24];
    const file = parseSafetensors(
      encodeSafetensors([
        { name: 'h', shape: [7], data: values, dtype: 'F16' },
        { name: 'b', shape: [4], data: values.slice(0, 4), dtype: 'BF16' },
        { name: 'd', shape: [1, 7], data: [0.1, 1e-30, -3, 4, 5, 6, 7], dtype: 'F64' },
      ]),
    );
    expect(Array.from(file.tensors.get('h')?.data ?? [])).to.deep.equal(values);
    expect(file.tensors.get('h')?.dtype).to.equal('F16');
    expect(Array.from(file.tensors.get('b')?.data ?? [])).to.deep.equal(values.slice(0, 4));
    expect(file.tensors.get('d')?.data).to.deep.equal(
      Float32Array.from([0.1, 1e-30, -3, 4, 5, 6, 7]),
    );
    expect(file.tensors.get('d')?.data).to.be.instanceOf(Float32Array);
  });

  it('rounds to half and bfloat16 to nearest, ties to even, and overflows to infinity', () => {
    expect(floatToHalf(1 / 3)).to.equal(0x3555);
    expect(floatToHalf(1 + 2 ** -11)).to.equal(0x3c00); // tie → even (down)
    expect(floatToHalf(1 + 3 * 2 ** -11)).to.equal(0x3c02); // tie → even (up)
    expect(floatToHalf(65520)).to.equal(0x7c00);
    expect(floatToHalf(-(2 ** -25))).to.equal(0x8000); // tie at the smallest subnormal → zero
    expect(halfToFloat(floatToHalf(3 * 2 ** -24))).to.equal(3 * 2 ** -24);
    expect(Number.isNaN(halfToFloat(floatToHalf(NaN)))).to.equal(true);
    expect(floatToBfloat16(1 + 2 ** -8)).to.equal(0x3f80); // tie → even (down)
    expect(floatToBfloat16(1 + 3 * 2 ** -8)).to.equal(0x3f82); // tie → even (up)
  });

  it('refuses integer dtypes by name unless keep skips them', () => {
    const header = {
      step: { dtype: 'I64', shape: [], data_offsets: [0, 8] },
      w: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
    };
    const file = handMade(header, new Uint8Array(16));
    expect(() => parseSafetensors(file, { file: 'ckpt.safetensors' })).to.throw(
      FormatError,
      /^ckpt\.safetensors: tensor "step" has dtype I64; nnzero reads only F32, F16, BF16 and F64/,
    );
    const kept = parseSafetensors(file, { keep: (_, dtype) => dtype !== 'I64' });
    expect([...kept.tensors.keys()]).to.deep.equal(['w']);
  });

  it('raises FormatError naming the file wherever the file is cut', () => {
    const wrong: string[] = [];
    for (let cut = 0; cut < bytes.length; cut += 5) {
      const result = outcome(() =>
        parseSafetensors(bytes.subarray(0, cut), { file: 'cut.safetensors' }),
      );
      if (!result.startsWith('cut.safetensors: ')) wrong.push(`cut at ${cut}: ${result}`);
    }
    expect(wrong).to.deep.equal([]);
    expect(() =>
      parseSafetensors(bytes.subarray(0, bytes.length - 4), { file: 'cut.safetensors' }),
    ).to.throw(/tensors need 588 bytes of data but the file holds 584 after the header/);
  });

  it('names the problem in garbage and inconsistent files', () => {
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(5), /fewer than the 8-byte header length/],
      [
        Uint8Array.from(seededFloats(2)(64), (v) => Math.floor((v + 1) * 128)),
        /header length \d+ runs past end of file/,
      ],
      [handMade({}, new Uint8Array(0), 1), /header is not valid UTF-8 JSON/],
      [handMade([1, 2], new Uint8Array(0)), /header is not a JSON object/],
      [
        handMade({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)),
        /tensor "w": data_offsets \[0, 8\] hold 8 bytes but F32 \[3\] needs 12/,
      ],
      [
        handMade({ w: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)),
        /tensor "w": unknown dtype "Q4"/,
      ],
      [
        handMade({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)),
        /tensor "w": shape is not a list of sizes/,
      ],
      [
        handMade(
          {
            a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
            b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
          },
          new Uint8Array(12),
        ),
        /tensor "b" starts at data offset 8, expected 4 \(gap or overlap\)/,
      ],
      [
        handMade({ __metadata__: { n: 1 } }, new Uint8Array(0)),
        /__metadata__ must map strings to strings/,
      ],
    ];
    for (const [file, message] of cases) {
      expect(() => parseSafetensors(file, { file: 'bad.safetensors' })).to.throw(
        FormatError,
        message,
      );
    }
  });

  it('reads only the kept tensors from a ByteSource, each into an array of its own', () => {
    const source = memorySource(bytes);
    const file = parseSafetensors(source, { keep: (name) => name !== 'fc.weight' });
    expect([...file.tensors.keys()]).to.deep.equal(['conv1.weight', 'conv1.bias']);
    for (const t of file.tensors.values())
      expect(t.data.buffer.byteLength).to.equal(t.data.byteLength);
    expect(file.tensors.get('conv1.weight')?.data).to.deep.equal(TENSORS[0]?.data);
    const fc = TENSORS[2]!.data;
    const at = indexOfBytes(bytes, new Uint8Array(fc.buffer, fc.byteOffset, fc.byteLength));
    const touches = (reads: [number, number][]) =>
      reads.some(([a, b]) => a < at + fc.byteLength && b > at);
    expect(touches(source.reads)).to.equal(false);
    // Negative control: reading everything does read fc.weight's bytes.
    const all = memorySource(bytes);
    parseSafetensors(all);
    expect(touches(all.reads)).to.equal(true);
  });

  it('gives the same FormatError over a ByteSource as from bytes wherever the file is cut', () => {
    const wrong: string[] = [];
    for (let cut = 0; cut < bytes.length; cut += 5) {
      const part = bytes.subarray(0, cut);
      const fromBytes = outcome(() => parseSafetensors(part, { file: 'cut.safetensors' }));
      const fromSource = outcome(() =>
        parseSafetensors(memorySource(part), { file: 'cut.safetensors' }),
      );
      if (fromSource !== fromBytes) wrong.push(`cut at ${cut}: ${fromSource} ≠ ${fromBytes}`);
    }
    expect(wrong).to.deep.equal([]);
  });

  it('writes and reads files on disk, naming the path in errors', () => {
    withTempDir((dir) => {
      const path = join(dir, 'model.safetensors');
      writeSafetensors(path, TENSORS);
      expect(readSafetensors(path).tensors.get('fc.weight')?.data).to.deep.equal(TENSORS[2]?.data);
      writeFileSync(path, bytes.subarray(0, 20));
      expect(() => readSafetensors(path)).to.throw(
        FormatError,
        /model\.safetensors: header length/,
      );
    });
  });
});
