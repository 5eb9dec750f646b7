// Reads and writes ONNX models (.onnx, a binary ModelProto) as plain records: the graph's nodes
// with typed attributes, initializers with float data as Float32Array (views on raw_data when
// the file is in memory and aligned, read straight into their own arrays from a ByteSource),
// graph inputs/outputs with their shapes, and opset imports. Field numbers follow onnx/onnx.proto
// (IR version 10); sparse initializers and external data are refused clearly.

import { bfloat16ToFloat32, float16ToFloat32, floatToHalf } from './float16.js';
import { FloatList, FormatError, ProtoReader, ProtoWriter, WireType } from './protobuf.js';
import { float64ToFloat32, type ByteSource } from './protobuf.js';
import { elementCount } from './shape.js';

/** TensorProto.DataType names by number (onnx.proto). */
const DATA_TYPES: readonly string[] = [
  'UNDEFINED',
  'FLOAT',
  'UINT8',
  'INT8',
  'UINT16',
  'INT16',
  'INT32',
  'INT64',
  'STRING',
  'BOOL',
  'FLOAT16',
  'DOUBLE',
  'UINT32',
  'UINT64',
  'COMPLEX64',
  'COMPLEX128',
  'BFLOAT16',
  'FLOAT8E4M3FN',
  'FLOAT8E4M3FNUZ',
  'FLOAT8E5M2',
  'FLOAT8E5M2FNUZ',
  'UINT4',
  'INT4',
];

/** Element bytes of the integer types nnzero reads from raw_data, with signedness. */
const INT_TYPES: Readonly<Record<string, readonly [number, boolean]>> = {
  UINT8: [1, false],
  INT8: [1, true],
  UINT16: [2, false],
  INT16: [2, true],
  INT32: [4, true],
  INT64: [8, true],
  BOOL: [1, false],
  UINT32: [4, false],
  UINT64: [8, false],
};

/** An ONNX tensor (initializer or attribute value). */
export interface OnnxTensor {
  readonly name: string;
  readonly dims: number[];
  /** TensorProto.DataType name: "FLOAT", "INT64", ... */
  readonly dataType: string;
  /**
   * FLOAT, FLOAT16, BFLOAT16 and DOUBLE tensors: float32 values (FLOAT raw_data as a view when
   * aligned); integer and BOOL tensors: numbers; STRING tensors: strings.
   */
  readonly data: Float32Array | number[] | string[];
}

/** A node attribute, tagged with its AttributeProto.AttributeType name. */
export type OnnxAttribute =
  | { readonly type: 'FLOAT'; readonly value: number }
  | { readonly type: 'INT'; readonly value: number }
  | { readonly type: 'STRING'; readonly value: string }
  | { readonly type: 'TENSOR'; readonly value: OnnxTensor }
  | { readonly type: 'GRAPH'; readonly value: OnnxGraph }
  | { readonly type: 'FLOATS'; readonly value: number[] }
  | { readonly type: 'INTS'; readonly value: number[] }
  | { readonly type: 'STRINGS'; readonly value: string[] }
  | { readonly type: 'TENSORS'; readonly value: OnnxTensor[] }
  | { readonly type: 'GRAPHS'; readonly value: OnnxGraph[] };

/** One graph node: an operator applied to named values. */
export interface OnnxNode {
  readonly name: string;
  readonly opType: string;
  /** Operator-set domain; "" is the default ONNX domain. */
  readonly domain: string;
  readonly inputs: string[];
  readonly outputs: string[];
  readonly attributes: Map<string, OnnxAttribute>;
}

/** A graph input, output or intermediate value with its tensor type, when declared. */
export interface OnnxValueInfo {
  readonly name: string;
  /** Element type name, or null when the value's type is not a tensor or not given. */
  readonly elemType: string | null;
  /** Dimensions: a number, a symbolic name ("batch"), or null when unknown; null for unknown rank. */
  readonly shape: (number | string | null)[] | null;
}

/** A computation graph: nodes in topological order, weights as initializers. */
export interface OnnxGraph {
  readonly name: string;
  readonly nodes: OnnxNode[];
  readonly initializers: Map<string, OnnxTensor>;
  readonly inputs: OnnxValueInfo[];
  readonly outputs: OnnxValueInfo[];
  readonly valueInfo: OnnxValueInfo[];
}

/** An operator set the model imports. */
export interface OnnxOpset {
  readonly domain: string;
  readonly version: number;
}

/** A whole ONNX model. */
export interface OnnxModel {
  readonly irVersion: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly domain: string;
  readonly modelVersion: number;
  readonly docString: string;
  readonly opsetImports: OnnxOpset[];
  readonly graph: OnnxGraph;
  readonly metadata: Record<string, string>;
}

/** Options of `parseOnnxModel`. */
export interface OnnxReadOptions {
  /** Name used in error messages (defaults to "<onnx>"). */
  file?: string;
  /**
   * Initializers for which this returns false are left out of `graph.initializers`, and their
   * raw_data (where exporters put weights) is never read.
   */
  keep?: (initializer: string) => boolean;
}

/** StringStringEntryProto { key = 1; value = 2; } */
function readEntry(r: ProtoReader): [string, string] {
  let key = '';
  let value = '';
  while (r.next()) {
    if (r.field === 1) key = r.string('key');
    else if (r.field === 2) value = r.string('value');
    else r.skip();
  }
  return [key, value];
}

/** Reads fixed-width little-endian integers from raw_data into numbers (int64 within ±2^53). */
function rawInts(r: ProtoReader, raw: Uint8Array, type: string, what: string): number[] {
  const [size, signed] = INT_TYPES[type] as readonly [number, boolean];
  if (raw.length % size !== 0)
    r.fail(`${what}: raw_data holds ${raw.length} bytes, not a multiple of ${size}`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
  const out: number[] = [];
  for (let at = 0; at < raw.length; at += size) {
    if (size === 1) out.push(signed ? view.getInt8(at) : view.getUint8(at));
    else if (size === 2) out.push(signed ? view.getInt16(at, true) : view.getUint16(at, true));
    else if (size === 4) out.push(signed ? view.getInt32(at, true) : view.getUint32(at, true));
    else {
      const big = signed ? view.getBigInt64(at, true) : view.getBigUint64(at, true);
      const n = Number(big);
      if (!Number.isSafeInteger(n))
        r.fail(`${what}: value ${big} does not fit in a double exactly`);
      out.push(n);
    }
  }
  return out;
}

/**
 * TensorProto: dims = 1, data_type = 2, float_data = 4, int32_data = 5, string_data = 6,
 * int64_data = 7, name = 8, raw_data = 9, double_data = 10, uint64_data = 11,
 * external_data = 13, data_location = 14. raw_data is only located in the loop and read at the
 * end, once the name and type are known (the spec allows any field order), so a tensor `keep`
 * rejects costs no read of its data; returns null for such a tensor.
 */
function readTensor(r: ProtoReader, what: string): OnnxTensor;
function readTensor(
  r: ProtoReader,
  what: string,
  keep: ((name: string) => boolean) | undefined,
): OnnxTensor | null;
function readTensor(
  r: ProtoReader,
  what: string,
  keep?: (name: string) => boolean,
): OnnxTensor | null {
  const dims: number[] = [];
  let dataTypeCode = 0;
  let name = '';
  const floats = new FloatList();
  const doubles = new FloatList();
  const int32s: number[] = [];
  const int64s: number[] = [];
  const uint64s: number[] = [];
  const strings: string[] = [];
  let raw: [number, number] | null = null;
  let external = false;
  let segment = false;
  while (r.next()) {
    switch (r.field) {
      case 1:
        r.varints(dims, (s) => s.int64(), `${what} dims`);
        break;
      case 2:
        r.expect(WireType.VARINT, `${what} data_type`);
        dataTypeCode = r.int32();
        break;
      case 3:
        segment = true;
        r.skip();
        break;
      case 4:
        r.floats(floats, `${what} float_data`);
        break;
      case 5:
        r.varints(int32s, (s) => s.int32(), `${what} int32_data`);
        break;
      case 6:
        r.expect(WireType.LEN, `${what} string_data`);
        strings.push(r.string(`${what} string_data`));
        break;
      case 7:
        r.varints(int64s, (s) => s.int64(), `${what} int64_data`);
        break;
      case 8:
        r.expect(WireType.LEN, `${what} name`);
        name = r.string(`${what} name`);
        break;
      case 9:
        raw = r.span(`${what} raw_data`);
        break;
      case 10:
        r.doublesAsFloats(doubles, `${what} double_data`);
        break;
      case 11:
        r.varints(uint64s, (s) => s.uint(), `${what} uint64_data`);
        break;
      case 13:
        external = true;
        r.skip();
        break;
      case 14:
        r.expect(WireType.VARINT, `${what} data_location`);
        if (r.int32() === 1) external = true;
        break;
      default:
        r.skip();
    }
  }
  const label = `${what}${name ? ` "${name}"` : ''}`;
  const type = DATA_TYPES[dataTypeCode] ?? `DataType ${dataTypeCode}`;
  if (external) {
    r.fail(
      `${label} keeps its data in an external file; nnzero reads only self-contained .onnx files`,
      r.end,
    );
  }
  if (segment)
    r.fail(`${label} is a segment of a chunked tensor, which nnzero does not read`, r.end);
  if (keep !== undefined && !keep(name)) return null;
  let data: Float32Array | number[] | string[];
  if (type === 'FLOAT') {
    data = raw ? rawFloats(r, raw, 4, label) : floats.finish();
  } else if (type === 'DOUBLE') {
    data = raw ? rawFloats(r, raw, 8, label, float64ToFloat32) : doubles.finish();
  } else if (type === 'FLOAT16' || type === 'BFLOAT16') {
    const widen = type === 'FLOAT16' ? float16ToFloat32 : bfloat16ToFloat32;
    // Without raw_data, half floats travel as their 16-bit patterns in int32_data (onnx.proto).
    data = raw
      ? rawFloats(r, raw, 2, label, widen)
      : widen(halfBitsToBytes(int32s), 0, 2 * int32s.length);
  } else if (type === 'STRING') {
    data = strings;
  } else if (INT_TYPES[type] !== undefined) {
    if (raw) data = rawInts(r, r.bytesAt(raw[0], raw[1]), type, label);
    else if (type === 'INT64') data = int64s;
    else if (type === 'UINT32' || type === 'UINT64') data = uint64s;
    else data = int32s;
  } else {
    return r.fail(`${label} has data type ${type}, which nnzero does not read`, r.end);
  }
  if (data.length !== elementCount(dims)) {
    r.fail(
      `${label}: dims [${dims.join(', ')}] need ${elementCount(dims)} values but the data holds ${data.length}`,
      r.end,
    );
  }
  return { name, dims, dataType: type, data };
}

/**
 * Checks that raw_data [start, end) holds whole elements of `size` bytes, then reads it: float32
 * as such (a view or a read of its own, see ProtoReader.float32At), other widths through `widen`.
 */
function rawFloats(
  r: ProtoReader,
  [start, end]: [number, number],
  size: number,
  label: string,
  widen?: (bytes: Uint8Array, start: number, byteLength: number) => Float32Array,
): Float32Array {
  const n = end - start;
  if (n % size !== 0) r.fail(`${label}: raw_data holds ${n} bytes, not a multiple of ${size}`);
  return widen === undefined ? r.float32At(start, n) : widen(r.bytesAt(start, end), 0, n);
}

function halfBitsToBytes(bits: readonly number[]): Uint8Array {
  const out = new Uint8Array(bits.length * 2);
  const view = new DataView(out.buffer);
  bits.forEach((b, i) => view.setUint16(2 * i, b & 0xffff, true));
  return out;
}

/** AttributeProto.AttributeType numbers (onnx.proto) for the types nnzero reads. */
const ATTRIBUTE_TYPES: Readonly<Record<number, OnnxAttribute['type']>> = {
  1: 'FLOAT',
  2: 'INT',
  3: 'STRING',
  4: 'TENSOR',
  5: 'GRAPH',
  6: 'FLOATS',
  7: 'INTS',
  8: 'STRINGS',
  9: 'TENSORS',
  10: 'GRAPHS',
};

/**
 * AttributeProto: name = 1, f = 2, i = 3, s = 4, t = 5, g = 6, floats = 7, ints = 8,
 * strings = 9, tensors = 10, graphs = 11, type = 20. IR version 1 files have no `type`, so it is
 * inferred from the one value field present.
 */
function readAttribute(r: ProtoReader, what: string): [string, OnnxAttribute] {
  let name = '';
  let typeCode = 0;
  let f = 0;
  let i = 0;
  let s = '';
  let t: OnnxTensor | null = null;
  let g: OnnxGraph | null = null;
  const floats = new FloatList();
  const ints: number[] = [];
  const strings: string[] = [];
  const tensors: OnnxTensor[] = [];
  const graphs: OnnxGraph[] = [];
  let seen = 0;
  while (r.next()) {
    const label = `${what}${name ? ` "${name}"` : ''}`;
    switch (r.field) {
      case 1:
        name = r.string(`${what} name`);
        break;
      case 20:
        r.expect(WireType.VARINT, `${label} type`);
        typeCode = r.int32();
        break;
      case 2:
        r.expect(WireType.I32, `${label} f`);
        f = r.float();
        seen = 1;
        break;
      case 3:
        r.expect(WireType.VARINT, `${label} i`);
        i = r.int64();
        seen = 2;
        break;
      case 4:
        r.expect(WireType.LEN, `${label} s`);
        s = r.string(`${label} s`);
        seen = 3;
        break;
      case 5:
        r.expect(WireType.LEN, `${label} t`);
        t = readTensor(r.message(`${label} t`), `${label} tensor`);
        seen = 4;
        break;
      case 6:
        r.expect(WireType.LEN, `${label} g`);
        g = readGraph(r.message(`${label} g`));
        seen = 5;
        break;
      case 7:
        r.floats(floats, `${label} floats`);
        seen = 6;
        break;
      case 8:
        r.varints(ints, (x) => x.int64(), `${label} ints`);
        seen = 7;
        break;
      case 9:
        r.expect(WireType.LEN, `${label} strings`);
        strings.push(r.string(`${label} strings`));
        seen = 8;
        break;
      case 10:
        r.expect(WireType.LEN, `${label} tensors`);
        tensors.push(readTensor(r.message(`${label} tensors`), `${label} tensor`));
        seen = 9;
        break;
      case 11:
        r.expect(WireType.LEN, `${label} graphs`);
        graphs.push(readGraph(r.message(`${label} graphs`)));
        seen = 10;
        break;
      default:
        r.skip();
    }
  }
  const code = typeCode || seen;
  const type = ATTRIBUTE_TYPES[code];
  const label = `${what} "${name}"`;
  switch (type) {
    case 'FLOAT':
      return [name, { type, value: f }];
    case 'INT':
      return [name, { type, value: i }];
    case 'STRING':
      return [name, { type, value: s }];
    case 'TENSOR':
      return t
        ? [name, { type, value: t }]
        : r.fail(`${label} has type TENSOR but no tensor`, r.end);
    case 'GRAPH':
      return g ? [name, { type, value: g }] : r.fail(`${label} has type GRAPH but no graph`, r.end);
    case 'FLOATS':
      return [name, { type, value: Array.from(floats.finish()) }];
    case 'INTS':
      return [name, { type, value: ints }];
    case 'STRINGS':
      return [name, { type, value: strings }];
    case 'TENSORS':
      return [name, { type, value: tensors }];
    case 'GRAPHS':
      return [name, { type, value: graphs }];
    default:
      return r.fail(`${label} has attribute type ${code}, which nnzero does not read`, r.end);
  }
}

/** NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5, domain = 7. */
function readNode(r: ProtoReader, index: number): OnnxNode {
  const inputs: string[] = [];
  const outputs: string[] = [];
  let name = '';
  let opType = '';
  let domain = '';
  const attributes = new Map<string, OnnxAttribute>();
  while (r.next()) {
    const what = `node ${index}${name ? ` "${name}"` : ''}`;
    switch (r.field) {
      case 1:
        inputs.push(r.string(`${what} input`));
        break;
      case 2:
        outputs.push(r.string(`${what} output`));
        break;
      case 3:
        name = r.string(`${what} name`);
        break;
      case 4:
        opType = r.string(`${what} op_type`);
        break;
      case 5: {
        r.expect(WireType.LEN, `${what} attribute`);
        const [key, value] = readAttribute(r.message(`${what} attribute`), `${what} attribute`);
        attributes.set(key, value);
        break;
      }
      case 7:
        domain = r.string(`${what} domain`);
        break;
      default:
        r.skip();
    }
  }
  return { name, opType, domain, inputs, outputs, attributes };
}

/**
 * ValueInfoProto { name = 1; type = 2 } → TypeProto { tensor_type = 1 } → Tensor { elem_type = 1;
 * shape = 2 } → TensorShapeProto { dim = 1 } → Dimension { dim_value = 1; dim_param = 2 }.
 */
function readValueInfo(r: ProtoReader, what: string): OnnxValueInfo {
  let name = '';
  let elemType: string | null = null;
  let shape: (number | string | null)[] | null = null;
  while (r.next()) {
    if (r.field === 1) name = r.string(`${what} name`);
    else if (r.field === 2) {
      const type = r.message(`${what} type`);
      while (type.next()) {
        if (type.field !== 1) {
          type.skip();
          continue;
        }
        const tensor = type.message(`${what} tensor_type`);
        while (tensor.next()) {
          if (tensor.field === 1) {
            tensor.expect(WireType.VARINT, `${what} elem_type`);
            const code = tensor.int32();
            elemType = DATA_TYPES[code] ?? `DataType ${code}`;
          } else if (tensor.field === 2) {
            shape = [];
            const dims = tensor.message(`${what} shape`);
            while (dims.next()) {
              if (dims.field !== 1) {
                dims.skip();
                continue;
              }
              const dim = dims.message(`${what} dim`);
              let value: number | string | null = null;
              while (dim.next()) {
                if (dim.field === 1) {
                  dim.expect(WireType.VARINT, `${what} dim_value`);
                  value = dim.int64();
                } else if (dim.field === 2) value = dim.string(`${what} dim_param`);
                else dim.skip();
              }
              shape.push(value);
            }
          } else tensor.skip();
        }
      }
    } else r.skip();
  }
  return { name, elemType, shape };
}

/**
 * GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12, value_info = 13,
 * sparse_initializer = 15 (refused: its weights would otherwise go missing silently).
 * Initializers `keep` rejects are left out.
 */
function readGraph(r: ProtoReader, keep?: (name: string) => boolean): OnnxGraph {
  let name = '';
  const nodes: OnnxNode[] = [];
  const initializers = new Map<string, OnnxTensor>();
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  const valueInfo: OnnxValueInfo[] = [];
  while (r.next()) {
    switch (r.field) {
      case 1:
        r.expect(WireType.LEN, `graph node ${nodes.length}`);
        nodes.push(readNode(r.message(`graph node ${nodes.length}`), nodes.length));
        break;
      case 2:
        name = r.string('graph name');
        break;
      case 5: {
        const what = `initializer ${initializers.size}`;
        r.expect(WireType.LEN, what);
        const t = readTensor(r.message(what), what, keep);
        if (t !== null) initializers.set(t.name, t);
        break;
      }
      case 11:
        inputs.push(
          readValueInfo(r.message(`graph input ${inputs.length}`), `graph input ${inputs.length}`),
        );
        break;
      case 12:
        outputs.push(
          readValueInfo(
            r.message(`graph output ${outputs.length}`),
            `graph output ${outputs.length}`,
          ),
        );
        break;
      case 13:
        valueInfo.push(
          readValueInfo(
            r.message(`value_info ${valueInfo.length}`),
            `value_info ${valueInfo.length}`,
          ),
        );
        break;
      case 15:
        r.fail('graph has sparse initializers, which nnzero does not read', r.tagAt);
        break;
      default:
        r.skip();
    }
  }
  return { name, nodes, initializers, inputs, outputs, valueInfo };
}

/**
 * Parses an .onnx file (ModelProto: ir_version = 1, producer_name = 2, producer_version = 3,
 * domain = 4, model_version = 5, doc_string = 6, graph = 7, opset_import = 8, metadata_props = 14).
 * @param source the whole file, or a ByteSource that reads it on demand (files.ts)
 */
export function parseOnnxModel(
  source: Uint8Array | ByteSource,
  options: OnnxReadOptions = {},
): OnnxModel {
  const r = new ProtoReader(source, options.file ?? '<onnx>');
  let irVersion = 0;
  let producerName = '';
  let producerVersion = '';
  let domain = '';
  let modelVersion = 0;
  let docString = '';
  let graph: OnnxGraph | null = null;
  const opsetImports: OnnxOpset[] = [];
  const metadata: Record<string, string> = {};
  while (r.next()) {
    switch (r.field) {
      case 1:
        r.expect(WireType.VARINT, 'field 1 (ir_version)');
        irVersion = r.int64();
        break;
      case 2:
        producerName = r.string('field 2 (producer_name)');
        break;
      case 3:
        producerVersion = r.string('field 3 (producer_version)');
        break;
      case 4:
        domain = r.string('field 4 (domain)');
        break;
      case 5:
        r.expect(WireType.VARINT, 'field 5 (model_version)');
        modelVersion = r.int64();
        break;
      case 6:
        docString = r.string('field 6 (doc_string)');
        break;
      case 7:
        r.expect(WireType.LEN, 'field 7 (graph)');
        graph = readGraph(r.message('field 7 (graph)'), options.keep);
        break;
      case 8: {
        r.expect(WireType.LEN, 'field 8 (opset_import)');
        const o = r.message('field 8 (opset_import)');
        let opsetDomain = '';
        let version = 0;
        while (o.next()) {
          if (o.field === 1) opsetDomain = o.string('opset_import domain');
          else if (o.field === 2) {
            o.expect(WireType.VARINT, 'opset_import version');
            version = o.int64();
          } else o.skip();
        }
        opsetImports.push({ domain: opsetDomain, version });
        break;
      }
      case 14: {
        r.expect(WireType.LEN, 'field 14 (metadata_props)');
        const [key, value] = readEntry(r.message('field 14 (metadata_props)'));
        metadata[key] = value;
        break;
      }
      default:
        r.skip();
    }
  }
  if (graph === null) throw new FormatError(r.file, 'no graph (field 7); is this an .onnx model?');
  return {
    irVersion,
    producerName,
    producerVersion,
    domain,
    modelVersion,
    docString,
    opsetImports,
    graph,
    metadata,
  };
}

/** Options of `encodeOnnxModel`. */
export interface OnnxWriteOptions {
  /** Store FLOAT tensors in raw_data (default, what exporters do) or in packed float_data. */
  floatStorage?: 'raw_data' | 'float_data';
}

function writeTensor(t: OnnxTensor, options: OnnxWriteOptions): ProtoWriter {
  const w = new ProtoWriter();
  // dims is `repeated int64 dims = 1` without [packed = true]: proto2 writes one tag per value.
  for (const d of t.dims) w.int(1, d);
  const code = DATA_TYPES.indexOf(t.dataType);
  if (code <= 0) throw new RangeError(`tensor "${t.name}": unknown data type ${t.dataType}`);
  w.int(2, code);
  if (t.name) w.string(8, t.name);
  const data = t.data;
  if (t.dataType === 'FLOAT' && data instanceof Float32Array) {
    if ((options.floatStorage ?? 'raw_data') === 'raw_data') {
      w.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } else w.packedFloats(4, data);
  } else if (t.dataType === 'FLOAT16' && data instanceof Float32Array) {
    w.packedVarints(5, Array.from(data, floatToHalf));
  } else if (t.dataType === 'DOUBLE' && data instanceof Float32Array) {
    w.packedDoubles(10, data);
  } else if (t.dataType === 'STRING') {
    for (const s of data as string[]) w.string(6, s);
  } else if (t.dataType === 'INT64') {
    w.packedVarints(7, data as number[]);
  } else if (t.dataType === 'UINT32' || t.dataType === 'UINT64') {
    w.packedVarints(11, data as number[]);
  } else if (INT_TYPES[t.dataType] !== undefined) {
    w.packedVarints(5, data as number[]);
  } else {
    throw new RangeError(
      `tensor "${t.name}": cannot write data type ${t.dataType} with ${data.constructor.name}`,
    );
  }
  return w;
}

function writeAttribute(name: string, a: OnnxAttribute, options: OnnxWriteOptions): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  const code = Number(Object.entries(ATTRIBUTE_TYPES).find(([, t]) => t === a.type)?.[0]);
  w.int(20, code);
  // floats = 7 and ints = 8 are repeated without [packed = true]: proto2 writes them unpacked.
  switch (a.type) {
    case 'FLOAT':
      return w.float(2, a.value);
    case 'INT':
      return w.int(3, a.value);
    case 'STRING':
      return w.string(4, a.value);
    case 'TENSOR':
      return w.message(5, writeTensor(a.value, options));
    case 'GRAPH':
      return w.message(6, writeGraph(a.value, options));
    case 'FLOATS':
      for (const v of a.value) w.float(7, v);
      return w;
    case 'INTS':
      for (const v of a.value) w.int(8, v);
      return w;
    case 'STRINGS':
      for (const v of a.value) w.string(9, v);
      return w;
    case 'TENSORS':
      for (const v of a.value) w.message(10, writeTensor(v, options));
      return w;
    case 'GRAPHS':
      for (const v of a.value) w.message(11, writeGraph(v, options));
      return w;
  }
}

function writeValueInfo(v: OnnxValueInfo): ProtoWriter {
  const w = new ProtoWriter().string(1, v.name);
  if (v.elemType === null && v.shape === null) return w;
  const tensor = new ProtoWriter();
  if (v.elemType !== null) tensor.int(1, DATA_TYPES.indexOf(v.elemType));
  if (v.shape !== null) {
    const shape = new ProtoWriter();
    for (const d of v.shape) {
      const dim = new ProtoWriter();
      if (typeof d === 'number') dim.int(1, d);
      else if (typeof d === 'string') dim.string(2, d);
      shape.message(1, dim);
    }
    tensor.message(2, shape);
  }
  return w.message(2, new ProtoWriter().message(1, tensor));
}

function writeGraph(g: OnnxGraph, options: OnnxWriteOptions): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) {
    const node = new ProtoWriter();
    for (const i of n.inputs) node.string(1, i);
    for (const o of n.outputs) node.string(2, o);
    if (n.name) node.string(3, n.name);
    node.string(4, n.opType);
    for (const [key, a] of n.attributes) node.message(5, writeAttribute(key, a, options));
    if (n.domain) node.string(7, n.domain);
    w.message(1, node);
  }
  if (g.name) w.string(2, g.name);
  for (const t of g.initializers.values()) w.message(5, writeTensor(t, options));
  for (const v of g.inputs) w.message(11, writeValueInfo(v));
  for (const v of g.outputs) w.message(12, writeValueInfo(v));
  for (const v of g.valueInfo) w.message(13, writeValueInfo(v));
  return w;
}

/** Encodes a model as .onnx bytes (the inverse of `parseOnnxModel`, for tests and small tools). */
export function encodeOnnxModel(model: OnnxModel, options: OnnxWriteOptions = {}): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, model.irVersion);
  if (model.producerName) w.string(2, model.producerName);
  if (model.producerVersion) w.string(3, model.producerVersion);
  if (model.domain) w.string(4, model.domain);
  if (model.modelVersion) w.int(5, model.modelVersion);
  if (model.docString) w.string(6, model.docString);
  w.message(7, writeGraph(model.graph, options));
  for (const o of model.opsetImports) {
    const opset = new ProtoWriter();
    if (o.domain) opset.string(1, o.domain);
    w.message(8, opset.int(2, o.version));
  }
  for (const [key, value] of Object.entries(model.metadata)) {
    w.message(14, new ProtoWriter().string(1, key).string(2, value));
  }
  return w.finish();
}
