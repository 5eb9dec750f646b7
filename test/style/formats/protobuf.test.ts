// Tests for the protobuf wire-format reader and writer: varints (incl. 64-bit and negative),
// fixed-width floats, packed and unpacked repeated floats as Float32Array (views when aligned),
// unknown-field skipping, the schema-driven decoder, and errors that name the file and byte.

import { expect } from 'chai';
import {
  FloatList,
  FormatError,
  ProtoReader,
  ProtoWriter,
  WireType,
  decodeFields,
  float32View,
} from '../../../lib/style/formats/index.js';
import type { MessageSchema } from '../../../lib/style/formats/index.js';
import { seededFloats } from './fixtures.js';

/** Reads the single field of `bytes` with `read`. */
function one<T>(bytes: Uint8Array, read: (r: ProtoReader) => T): T {
  const r = new ProtoReader(bytes, 'one.bin');
  expect(r.next()).to.equal(true);
  const value = read(r);
  expect(r.next()).to.equal(false);
  return value;
}

function thrown(read: () => unknown): FormatError {
  try {
    read();
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw e;
  }
  throw new Error('expected a FormatError');
}

describe('ProtoReader and ProtoWriter', () => {
  it('round-trips varints from 0 to 2^53 − 1 and reads the documented encoding of 150', () => {
    // The spec's example: field 1 = 150 encodes as 08 96 01.
    expect(Array.from(new ProtoWriter().int(1, 150).finish())).to.deep.equal([0x08, 0x96, 0x01]);
    for (const v of [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
      expect(one(new ProtoWriter().int(3, v).finish(), (r) => r.uint())).to.equal(v);
    }
  });

  it('writes negative int32/int64 as 10-byte two’s complement and reads them back', () => {
    const bytes = new ProtoWriter().int(1, -1).finish();
    expect(bytes.length).to.equal(11);
    expect(one(bytes, (r) => r.int32())).to.equal(-1);
    for (const v of [-1, -2, -(2 ** 31), -(2 ** 40) - 3, -Number.MAX_SAFE_INTEGER]) {
      expect(one(new ProtoWriter().int(2, v).finish(), (r) => r.int64())).to.equal(v);
    }
  });

  it('reads fixed32 floats, fixed64 doubles, bools and UTF-8 strings', () => {
    const w = new ProtoWriter().float(1, 0.1).double(2, 0.1).bool(3, true).string(4, 'λ-conv');
    const r = new ProtoReader(w.finish());
    const seen: unknown[] = [];
    while (r.next()) {
      if (r.field === 1) seen.push(r.float());
      else if (r.field === 2) seen.push(r.double());
      else if (r.field === 3) seen.push(r.bool());
      else seen.push(r.string());
    }
    expect(seen).to.deep.equal([Math.fround(0.1), 0.1, true, 'λ-conv']);
  });

  it('decodes packed and unpacked repeated floats, in several chunks, into one Float32Array', () => {
    const rand = seededFloats(5);
    const a = rand(6);
    const b = rand(3);
    const w = new ProtoWriter().packedFloats(5, a);
    for (const v of b) w.float(5, v);
    w.packedFloats(5, a);
    const list = new FloatList();
    const r = new ProtoReader(w.finish());
    while (r.next()) r.floats(list);
    const all = list.finish();
    expect(all).to.be.instanceOf(Float32Array);
    expect(Array.from(all)).to.deep.equal([...a, ...b, ...a]);
  });

  it('returns a packed float field as a view on the file bytes when aligned, else a copy', () => {
    const values = seededFloats(9)(8);
    const packed = new ProtoWriter().packedFloats(1, values).finish(); // tag, length: data at byte 2
    for (const shift of [0, 1, 2, 3]) {
      const file = new Uint8Array(new ArrayBuffer(64), shift, packed.length);
      file.set(packed);
      const list = new FloatList();
      one(file, (r) => r.floats(list));
      const data = list.finish();
      expect(data).to.deep.equal(values);
      expect(data.buffer === file.buffer, `shift ${shift}`).to.equal((shift + 2) % 4 === 0);
    }
  });

  it('float32View shares memory only when the address is 4-byte aligned', () => {
    const bytes = new Uint8Array(new Float32Array([1, 2, 3]).buffer);
    const view = float32View(bytes, 4, 8);
    expect(Array.from(view)).to.deep.equal([2, 3]);
    expect(view.buffer).to.equal(bytes.buffer);
    const shifted = new Uint8Array(13);
    shifted.set(bytes, 1);
    const copy = float32View(shifted, 1, 12);
    expect(Array.from(copy)).to.deep.equal([1, 2, 3]);
    expect(copy.buffer).to.not.equal(shifted.buffer);
  });

  it('skips unknown fields of every wire type', () => {
    const w = new ProtoWriter()
      .int(9, 5)
      .double(10, 1)
      .string(11, 'skip me')
      .float(12, 2)
      .int(1, 42);
    const r = new ProtoReader(w.finish());
    let found = -1;
    while (r.next()) {
      if (r.field === 1) found = r.uint();
      else r.skip();
    }
    expect(found).to.equal(42);
  });

  it('decodes a schema with enums, nested messages and packed or unpacked repeated ints', () => {
    const schema: MessageSchema = {
      1: { name: 'pool', kind: { enum: { 0: 'MAX', 1: 'AVE' } } },
      2: { name: 'dim', kind: 'int64' },
      3: { name: 'inner', kind: { message: { 1: { name: 'ratio', kind: 'float' } } } },
      4: { name: 'flag', kind: 'bool' },
    };
    const w = new ProtoWriter().int(1, 1).packedVarints(2, [1, 3]).int(2, 224).int(99, 7);
    w.message(3, new ProtoWriter().float(1, 0.5)).bool(4, true);
    const fields = decodeFields(new ProtoReader(w.finish()), schema);
    expect(fields.get('pool')).to.deep.equal(['AVE']);
    expect(fields.get('dim')).to.deep.equal([1, 3, 224]);
    expect(fields.get('inner')).to.deep.equal([new Map([['ratio', [0.5]]])]);
    expect(fields.get('flag')).to.deep.equal([true]);
  });

  it('reports a truncated varint with the file and the byte where it starts', () => {
    const bytes = new Uint8Array([0x08, 0x96]); // field 1, varint 150 missing its last byte
    const e = thrown(() => one(bytes, (r) => r.uint()));
    expect(e.message).to.equal('one.bin: truncated varint at byte 1');
    expect([e.file, e.offset]).to.deep.equal(['one.bin', 1]);
  });

  it('reports a length-delimited field that runs past the end, with bytes needed and left', () => {
    const bytes = new ProtoWriter().bytes(7, new Uint8Array(4000)).finish().subarray(0, 123);
    const e = thrown(() => one(bytes, (r) => r.message('field 7 (blobs)')));
    expect(e.message).to.equal(
      'one.bin: field 7 (blobs) runs past end of file (needs 4000 bytes, 120 left) at byte 1',
    );
  });

  it('names the enclosing message when a nested field overruns it', () => {
    const inner = new Uint8Array([0x0a, 0x05, 0x41]); // field 1, 5 bytes, but only 1 present
    const bytes = new ProtoWriter().bytes(2, inner).int(3, 1).finish();
    const e = thrown(() =>
      one(bytes, (r) => {
        const sub = r.message();
        sub.next();
        return sub.message('field 1 (name)');
      }),
    );
    expect(e.message).to.match(
      /field 1 \(name\) runs past end of its enclosing message \(needs 5 bytes, 1 left\)/,
    );
  });

  it('rejects wrong wire types, field number 0, group wire types and over-long varints', () => {
    const float = new ProtoWriter().float(1, 1).finish();
    expect(
      thrown(() => one(float, (r) => r.expect(WireType.VARINT, 'field 1 (num)'))).message,
    ).to.equal('one.bin: field 1 (num) has wire type 5, expected 0 at byte 0');
    expect(
      thrown(() => new ProtoReader(new Uint8Array([0x00, 0x01]), 'z.bin').next()).message,
    ).to.equal('z.bin: invalid field number 0 in tag at byte 0');
    expect(thrown(() => one(new Uint8Array([0x0b]), (r) => r.skip())).message).to.match(
      /unsupported wire type 3/,
    );
    const long = new Uint8Array([0x08, ...new Array<number>(10).fill(0xff), 0x01]);
    expect(thrown(() => one(long, (r) => r.uint())).message).to.match(
      /malformed varint \(longer than 10 bytes\) at byte 1/,
    );
  });

  it('rejects packed floats whose byte count is not a multiple of 4', () => {
    const bytes = new ProtoWriter().bytes(5, new Uint8Array(6)).finish();
    expect(
      thrown(() => one(bytes, (r) => r.floats(new FloatList(), 'field 5 (data)'))).message,
    ).to.match(/field 5 \(data\) holds 6 bytes, not a whole number of floats/);
  });
});
