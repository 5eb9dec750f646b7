// A small protobuf wire-format reader and writer, enough for Caffe and ONNX files. Hand-written
// instead of protobufjs so repeated float fields become Float32Arrays (4 bytes a value) rather
// than JS number arrays (8+ bytes a value). The reader works on the whole file in memory (floats
// are views on its bytes) or on a ByteSource that reads parts of a file on demand (floats are read
// straight from disk into their own arrays, and fields nobody asks for are never read). Spec:
// https://protobuf.dev/programming-guides/encoding/ (varints, wire types 0/1/2/5, packed fields).

/** Wire types from the protobuf encoding spec: VARINT 0, I64 1, LEN 2, I32 5 (3 and 4 are groups). */
export const WireType = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;

/** A file that cannot be read: names the file, what is wrong, and the byte offset when known. */
export class FormatError extends Error {
  /** The file (path or label) being read. */
  readonly file: string;
  /** Byte offset in the file where the problem was found, if it has one. */
  readonly offset: number | undefined;

  /** @param file path or label, @param detail what is wrong, @param offset byte offset */
  constructor(file: string, detail: string, offset?: number) {
    super(`${file}: ${detail}`);
    this.name = 'FormatError';
    this.file = file;
    this.offset = offset;
  }
}

/**
 * Random access to the bytes of a file that is not held in memory (files.ts opens one on a file
 * descriptor). The readers take either this or the whole file as a Uint8Array.
 */
export interface ByteSource {
  /** Size of the file in bytes. */
  readonly length: number;
  /** Bytes a reader fetches at a time for tags, lengths and small fields (default 64 KiB). */
  readonly windowSize?: number;
  /** Copies bytes [position, position + target.length) of the file into `target`. */
  readInto(target: Uint8Array, position: number): void;
}

const TWO_32 = 4294967296;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextDecoder('utf-8', { fatal: true });
// Bytes a file-backed reader fetches at a time for tags, lengths and small fields: one read
// usually covers a whole small layer, and a 575 MB VGG-19 costs a few hundred reads.
const WINDOW = 1 << 16;

/** Floats in the file are little-endian: on a big-endian machine, swap each value in place. */
function fromLittleEndian(out: Float32Array): Float32Array {
  if (LITTLE_ENDIAN) return out;
  const b = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < b.length; i += 4) {
    const [b0, b1] = [b[i]!, b[i + 1]!];
    b[i] = b[i + 3]!;
    b[i + 1] = b[i + 2]!;
    b[i + 2] = b1;
    b[i + 3] = b0;
  }
  return out;
}

/**
 * Reads `byteLength` bytes of little-endian float32 as a Float32Array: a view on the same memory
 * when the absolute address is 4-byte aligned (no copy), otherwise one copy.
 */
export function float32View(bytes: Uint8Array, start: number, byteLength: number): Float32Array {
  const count = byteLength >>> 2;
  const address = bytes.byteOffset + start;
  if (LITTLE_ENDIAN && address % 4 === 0) return new Float32Array(bytes.buffer, address, count);
  const out = new Float32Array(count);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes.subarray(start, start + count * 4));
  } else {
    const view = new DataView(bytes.buffer, address, count * 4);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}

/** Reads `byteLength` bytes of little-endian float64 and rounds them into a new Float32Array. */
export function float64ToFloat32(
  bytes: Uint8Array,
  start: number,
  byteLength: number,
): Float32Array {
  const count = byteLength >>> 3;
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, count * 8);
  for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

/** Bytes [start, end) of a file: a view when it is in memory, else read into a new array. */
export function bytesOf(source: Uint8Array | ByteSource, start: number, end: number): Uint8Array {
  if (source instanceof Uint8Array) return source.subarray(start, end);
  const out = new Uint8Array(end - start);
  source.readInto(out, start);
  return out;
}

/**
 * The little-endian float32 values in bytes [start, start + byteLength) of a file: a view (or one
 * copy when unaligned) when it is in memory; from a ByteSource, read straight from the file into a
 * new Float32Array of their own (one copy from disk, no staging buffer).
 */
export function float32Of(
  source: Uint8Array | ByteSource,
  start: number,
  byteLength: number,
): Float32Array {
  if (source instanceof Uint8Array) return float32View(source, start, byteLength);
  const out = new Float32Array(byteLength >>> 2);
  source.readInto(new Uint8Array(out.buffer), start);
  return fromLittleEndian(out);
}

/**
 * Collects a repeated float field that may arrive packed (one LEN chunk, or several) or unpacked
 * (one I32 value per tag); the spec says parsers must accept both. One chunk is returned as is.
 */
export class FloatList {
  readonly #chunks: Float32Array[] = [];
  #pending: number[] = [];

  /** Adds a decoded chunk of values. */
  push(chunk: Float32Array): void {
    this.#flush();
    this.#chunks.push(chunk);
  }

  /** Adds one value (from an unpacked field). */
  pushValue(value: number): void {
    this.#pending.push(value);
  }

  /** @returns all values in order, as one Float32Array (copied only when there were several chunks) */
  finish(): Float32Array {
    this.#flush();
    if (this.#chunks.length === 1) return this.#chunks[0] as Float32Array;
    let total = 0;
    for (const c of this.#chunks) total += c.length;
    const out = new Float32Array(total);
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    this.#chunks.push(Float32Array.from(this.#pending));
    this.#pending = [];
  }
}

/**
 * A cursor over one protobuf message in bytes [start, end) of a file. Call `next()` to read each
 * tag, then the value reader that matches the field's type (or `skip()`). Positions are file
 * offsets, so errors name the byte in the file. Every overrun throws FormatError.
 *
 * Over a Uint8Array the whole file is in memory; over a ByteSource the reader keeps a small window
 * of the file and reads a new one when it moves past it, while payloads it only steps over (a
 * blob nobody wants) are never read at all.
 */
export class ProtoReader {
  /** File name or label used in error messages. */
  readonly file: string;
  /** Size of the whole file in bytes. */
  readonly fileLength: number;
  /** End of this message (exclusive). */
  readonly end: number;
  /** Current read position (a file offset). */
  pos: number;
  /** Field number of the last tag read by `next()`. */
  field = 0;
  /** Wire type of the last tag read by `next()`. */
  wire = 0;
  /** Offset of the last tag read by `next()`. */
  tagAt = 0;
  readonly #source: ByteSource | null;
  // Bytes [#base, #base + #window.length) of the file: all of it in memory, else a window that is
  // replaced (never overwritten, so sub-readers and strings may keep views on it) as we move on.
  #window: Uint8Array;
  #base: number;
  #lo = 0;
  #hi = 0;

  /** @param input the whole file or a ByteSource, @param file name for errors, @param start/end message bounds */
  constructor(input: Uint8Array | ByteSource, file = '<bytes>', start = 0, end = input.length) {
    this.file = file;
    this.fileLength = input.length;
    this.pos = start;
    this.end = end;
    if (input instanceof Uint8Array) {
      this.#source = null;
      this.#window = input;
    } else {
      this.#source = input;
      this.#window = new Uint8Array(0);
    }
    this.#base = 0;
  }

  /** Throws a FormatError naming this file and the given byte offset. */
  fail(detail: string, offset = this.pos): never {
    throw new FormatError(this.file, `${detail} at byte ${offset}`, offset);
  }

  // Make bytes [pos, pos + n) readable in the window; n never reaches past `end`.
  #ensure(n: number): void {
    const at = this.pos - this.#base;
    if (at >= 0 && at + n <= this.#window.length) return;
    const size = Math.min(Math.max(n, this.#source!.windowSize ?? WINDOW), this.end - this.pos);
    const window = new Uint8Array(size);
    this.#source!.readInto(window, this.pos);
    this.#window = window;
    this.#base = this.pos;
  }

  /** @returns true and sets `field`/`wire` when another tag follows; false at the message end */
  next(): boolean {
    if (this.pos >= this.end) return false;
    this.tagAt = this.pos;
    const tag = this.uint();
    this.field = Math.floor(tag / 8);
    this.wire = tag % 8;
    if (this.field === 0) this.fail('invalid field number 0 in tag', this.tagAt);
    return true;
  }

  /** Decodes a varint into the low/high 32-bit halves (a varint holds up to 64 bits, 10 bytes). */
  #varint(): void {
    const start = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint', start);
      // A file-backed reader moves its window on when the varint crosses its end.
      if (this.pos - this.#base >= this.#window.length) this.#ensure(1);
      const b = this.#window[this.pos++ - this.#base] as number;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) {
        this.#lo = lo >>> 0;
        this.#hi = hi >>> 0;
        return;
      }
    }
    this.fail('malformed varint (longer than 10 bytes)', start);
  }

  /** Reads an unsigned varint (uint32, uint64, enum, length); throws beyond 2^53. */
  uint(): number {
    const b = this.#window[this.pos - this.#base];
    if (b !== undefined && b < 0x80 && this.pos < this.end) {
      this.pos++;
      return b;
    }
    const start = this.pos;
    this.#varint();
    if (this.#hi > 0x1fffff) this.fail('varint larger than 2^53', start);
    return this.#hi * TWO_32 + this.#lo;
  }

  /** Reads an int64 varint (two's complement, 10 bytes when negative); throws beyond ±2^53. */
  int64(): number {
    const start = this.pos;
    this.#varint();
    if (this.#hi & 0x80000000) {
      const magnitude = (~this.#hi >>> 0) * TWO_32 + ((~this.#lo >>> 0) + 1);
      if (magnitude > Number.MAX_SAFE_INTEGER) this.fail('int64 smaller than -2^53', start);
      return -magnitude;
    }
    if (this.#hi > 0x1fffff) this.fail('int64 larger than 2^53', start);
    return this.#hi * TWO_32 + this.#lo;
  }

  /** Reads an int32 varint (negative values are sign-extended to 10 bytes on the wire). */
  int32(): number {
    this.#varint();
    return this.#lo | 0;
  }

  /** Reads a bool varint. */
  bool(): boolean {
    this.#varint();
    return this.#lo !== 0 || this.#hi !== 0;
  }

  #where(): string {
    return this.end === this.fileLength ? 'end of file' : 'end of its enclosing message';
  }

  // Reserve n bytes at pos (readable in the window) and return their index in the window.
  #need(n: number, what: string): number {
    const left = this.end - this.pos;
    if (n > left) this.fail(`${what} runs past ${this.#where()} (needs ${n} bytes, ${left} left)`);
    this.#ensure(n);
    const at = this.pos - this.#base;
    this.pos += n;
    return at;
  }

  /** Reads a fixed32 float (wire type I32, little-endian). */
  float(): number {
    const at = this.#need(4, `field ${this.field} (float)`);
    const w = this.#window;
    return new DataView(w.buffer, w.byteOffset + at, 4).getFloat32(0, true);
  }

  /** Reads a fixed64 double (wire type I64, little-endian). */
  double(): number {
    const at = this.#need(8, `field ${this.field} (double)`);
    const w = this.#window;
    return new DataView(w.buffer, w.byteOffset + at, 8).getFloat64(0, true);
  }

  /**
   * Reads the length prefix of a LEN field (throwing if the tag had another wire type) and steps
   * over its bytes without reading them.
   * @param what names the field in errors, e.g. "field 7 (blobs)"
   * @returns [start, end) of the payload as file offsets
   */
  span(what = `field ${this.field}`): [number, number] {
    this.expect(WireType.LEN, what);
    const lengthAt = this.pos;
    const n = this.uint();
    const left = this.end - this.pos;
    if (n > left) {
      this.fail(`${what} runs past ${this.#where()} (needs ${n} bytes, ${left} left)`, lengthAt);
    }
    const start = this.pos;
    this.pos += n;
    return [start, start + n];
  }

  /** Reads a LEN field as a sub-reader over the nested message (nothing is read yet). */
  message(what?: string): ProtoReader {
    const [start, end] = this.span(what);
    const sub = new ProtoReader(this.#source ?? this.#window, this.file, start, end);
    // A file-backed sub-reader inside our window starts on it instead of reading again.
    if (this.#source !== null && start >= this.#base && end <= this.#base + this.#window.length) {
      sub.#window = this.#window;
      sub.#base = this.#base;
    }
    return sub;
  }

  /**
   * The bytes [start, end) of the file: a view when they are in memory (the whole file, or the
   * current window), else read into a new array. `start` and `end` come from `span`.
   */
  bytesAt(start: number, end: number): Uint8Array {
    const at = start - this.#base;
    if (at >= 0 && end - this.#base <= this.#window.length) {
      return this.#window.subarray(at, end - this.#base);
    }
    const out = new Uint8Array(end - start);
    this.#source!.readInto(out, start);
    return out;
  }

  /**
   * The little-endian float32 values in bytes [start, start + byteLength) of the file: from a file
   * in memory a view on it when aligned (else one copy); from a ByteSource read straight from
   * the file into a new Float32Array of their own (one copy from disk, no staging buffer).
   */
  float32At(start: number, byteLength: number): Float32Array {
    const at = start - this.#base;
    if (this.#source === null || at < 0 || at + byteLength > this.#window.length) {
      return float32Of(this.#source ?? this.#window, start, byteLength);
    }
    // Already in the window (a small blob): copy it out rather than read the file again.
    const out = new Float32Array(byteLength >>> 2);
    new Uint8Array(out.buffer).set(this.#window.subarray(at, at + byteLength));
    return fromLittleEndian(out);
  }

  /** Reads a LEN field as bytes (a view when in memory; see `bytesAt`). */
  bytesField(what?: string): Uint8Array {
    const [start, end] = this.span(what);
    return this.bytesAt(start, end);
  }

  /** Reads a LEN field as UTF-8 text. */
  string(what?: string): string {
    const [start, end] = this.span(what);
    try {
      return utf8.decode(this.bytesAt(start, end));
    } catch {
      return this.fail(`${what ?? `field ${this.field}`} is not valid UTF-8`, start);
    }
  }

  /**
   * Reads one occurrence of a repeated float field into `list`: a packed LEN chunk becomes a
   * Float32Array (see `float32At`); an unpacked I32 value is appended.
   */
  floats(list: FloatList, what = `field ${this.field}`): void {
    if (this.wire === WireType.I32) {
      list.pushValue(this.float());
      return;
    }
    this.expect(WireType.LEN, what);
    const [start, end] = this.span(what);
    if ((end - start) % 4 !== 0) {
      this.fail(`${what} holds ${end - start} bytes, not a whole number of floats`, start);
    }
    list.push(this.float32At(start, end - start));
  }

  /** Like `floats` for a repeated double field, rounding the values to float32 (one copy). */
  doublesAsFloats(list: FloatList, what = `field ${this.field}`): void {
    if (this.wire === WireType.I64) {
      list.pushValue(this.double());
      return;
    }
    this.expect(WireType.LEN, what);
    const [start, end] = this.span(what);
    if ((end - start) % 8 !== 0) {
      this.fail(`${what} holds ${end - start} bytes, not a whole number of doubles`, start);
    }
    list.push(float64ToFloat32(this.bytesAt(start, end), 0, end - start));
  }

  /** Reads one occurrence of a repeated varint field (packed or not) through `read`, into `out`. */
  varints(out: number[], read: (r: ProtoReader) => number, what = `field ${this.field}`): void {
    if (this.wire === WireType.VARINT) {
      out.push(read(this));
      return;
    }
    this.expect(WireType.LEN, what);
    const sub = this.message(what);
    while (sub.pos < sub.end) out.push(read(sub));
  }

  /** Throws unless the last tag had wire type `wire`. */
  expect(wire: number, what = `field ${this.field}`): void {
    if (this.wire !== wire) {
      this.fail(`${what} has wire type ${this.wire}, expected ${wire}`, this.tagAt);
    }
  }

  /** Skips the value of the last tag according to its wire type (unknown fields). */
  skip(): void {
    switch (this.wire) {
      case WireType.VARINT:
        this.#varint();
        return;
      case WireType.I64:
        this.#step(8);
        return;
      case WireType.LEN:
        this.span();
        return;
      case WireType.I32:
        this.#step(4);
        return;
      default:
        this.fail(`unsupported wire type ${this.wire} (field ${this.field})`, this.tagAt);
    }
  }

  // Step over n bytes of a fixed-width value without reading them.
  #step(n: number): void {
    const left = this.end - this.pos;
    if (n > left) {
      this.fail(`field ${this.field} runs past ${this.#where()} (needs ${n} bytes, ${left} left)`);
    }
    this.pos += n;
  }
}

/** Scalar field kinds of the schema-driven decoder, named as in .proto files. */
export type ScalarKind =
  'int32' | 'int64' | 'uint32' | 'uint64' | 'bool' | 'float' | 'double' | 'string';

/** One field of a message schema: its .proto name and kind (enums map numbers to names). */
export interface FieldSpec {
  readonly name: string;
  readonly kind:
    | ScalarKind
    | { readonly enum: Readonly<Record<number, string>> }
    | { readonly message: MessageSchema };
}

/** A message schema: field number to field spec, copied from the .proto file. */
export type MessageSchema = Readonly<Record<number, FieldSpec>>;

/** A decoded field value: enums decode to their names, nested messages to `Fields`. */
export type FieldValue = string | number | boolean | Fields;

/** A decoded message: field name to all its values in order (every field is a list). */
export type Fields = Map<string, FieldValue[]>;

function readScalar(r: ProtoReader, kind: ScalarKind, what: string): FieldValue {
  switch (kind) {
    case 'int32':
      r.expect(WireType.VARINT, what);
      return r.int32();
    case 'int64':
      r.expect(WireType.VARINT, what);
      return r.int64();
    case 'uint32':
    case 'uint64':
      r.expect(WireType.VARINT, what);
      return r.uint();
    case 'bool':
      r.expect(WireType.VARINT, what);
      return r.bool();
    case 'float':
      r.expect(WireType.I32, what);
      return r.float();
    case 'double':
      r.expect(WireType.I64, what);
      return r.double();
    case 'string':
      r.expect(WireType.LEN, what);
      return r.string(what);
  }
}

/**
 * Decodes a small message into `Fields` following `schema`; unknown fields are skipped. Meant for
 * parameter messages (a few numbers), not for bulk data.
 */
export function decodeFields(r: ProtoReader, schema: MessageSchema): Fields {
  const out: Fields = new Map();
  while (r.next()) {
    const spec = schema[r.field];
    if (spec === undefined) {
      r.skip();
      continue;
    }
    const what = `field ${r.field} (${spec.name})`;
    let list = out.get(spec.name);
    if (list === undefined) {
      list = [];
      out.set(spec.name, list);
    }
    const kind = spec.kind;
    if (typeof kind === 'object' && 'message' in kind) {
      r.expect(WireType.LEN, what);
      list.push(decodeFields(r.message(what), kind.message));
    } else if (typeof kind === 'object') {
      const numbers: number[] = [];
      r.varints(numbers, (s) => s.int32(), what);
      for (const n of numbers) list.push(kind.enum[n] ?? n);
    } else if (r.wire === WireType.LEN && kind !== 'string') {
      // A packed repeated scalar: one LEN payload holding many values of the scalar's own wire type.
      const sub = r.message(what);
      sub.wire = kind === 'float' ? WireType.I32 : kind === 'double' ? WireType.I64 : 0;
      while (sub.pos < sub.end) list.push(readScalar(sub, kind, what));
    } else {
      list.push(readScalar(r, kind, what));
    }
  }
  return out;
}

/** Builds a protobuf message byte by byte; nested messages are written from their own writer. */
export class ProtoWriter {
  #buf = new Uint8Array(64);
  #len = 0;

  /** Number of bytes written so far. */
  get length(): number {
    return this.#len;
  }

  #ensure(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.#buf.subarray(0, this.#len));
    this.#buf = bigger;
  }

  #varint(value: number): void {
    if (!Number.isSafeInteger(value))
      throw new RangeError(`varint value ${value} is not a safe integer`);
    // Negative int32/int64 values are written as 64-bit two's complement (10 bytes), per the spec.
    let lo = value >>> 0;
    let hi = Math.floor(value / TWO_32) >>> 0;
    this.#ensure(10);
    while (hi > 0 || lo > 0x7f) {
      this.#buf[this.#len++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.#buf[this.#len++] = lo;
  }

  #tag(field: number, wire: number): void {
    this.#varint(field * 8 + wire);
  }

  /** Writes a varint field (int32, int64, uint32, uint64, enum); negatives take 10 bytes. */
  int(field: number, value: number): this {
    this.#tag(field, WireType.VARINT);
    this.#varint(value);
    return this;
  }

  /** Writes a bool field. */
  bool(field: number, value: boolean): this {
    return this.int(field, value ? 1 : 0);
  }

  /** Writes a fixed32 float field. */
  float(field: number, value: number): this {
    this.#tag(field, WireType.I32);
    this.#ensure(4);
    new DataView(this.#buf.buffer).setFloat32(this.#len, value, true);
    this.#len += 4;
    return this;
  }

  /** Writes a fixed64 double field. */
  double(field: number, value: number): this {
    this.#tag(field, WireType.I64);
    this.#ensure(8);
    new DataView(this.#buf.buffer).setFloat64(this.#len, value, true);
    this.#len += 8;
    return this;
  }

  /** Writes a length-delimited field holding raw bytes. */
  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, WireType.LEN);
    this.#varint(value.length);
    this.#ensure(value.length);
    this.#buf.set(value, this.#len);
    this.#len += value.length;
    return this;
  }

  /** Writes a string field as UTF-8. */
  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** Writes a nested message field from another writer. */
  message(field: number, inner: ProtoWriter): this {
    return this.bytes(field, inner.finish());
  }

  /** Writes a packed repeated float field (one LEN payload of little-endian float32). */
  packedFloats(field: number, values: ArrayLike<number>): this {
    const payload = new Uint8Array(values.length * 4);
    const view = new DataView(payload.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
    return this.bytes(field, payload);
  }

  /** Writes a packed repeated double field. */
  packedDoubles(field: number, values: ArrayLike<number>): this {
    const payload = new Uint8Array(values.length * 8);
    const view = new DataView(payload.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i] as number, true);
    return this.bytes(field, payload);
  }

  /** Writes a packed repeated varint field (int32/int64/uint/enum values). */
  packedVarints(field: number, values: ArrayLike<number>): this {
    const inner = new ProtoWriter();
    for (let i = 0; i < values.length; i++) inner.#varint(values[i] as number);
    return this.message(field, inner);
  }

  /** @returns the bytes written, as a new Uint8Array of exact length */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}
