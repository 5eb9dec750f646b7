// Reads Caffe .caffemodel files (a binary NetParameter) into plain layer records with Float32Array
// weights. Handles the V1 `layers` (field 2, enum types) and V2 `layer` (field 100, string types)
// forms, packed or unpacked float data, double_data, and legacy 4-D blob shapes. Platform-neutral
// (a Uint8Array, or a ByteSource that reads the file on demand); the Node file helpers live in
// files.ts. Field numbers: BVLC caffe.proto.

import { V1_PARAM_FIELDS, V2_PARAM_FIELDS } from './caffe-params.js';
import { layerParams, v1LayerType, BLOB_SHAPE_SCHEMA } from './caffe-params.js';
import type { CaffeLayerParams, FieldSpecOf } from './caffe-params.js';
import { FloatList, FormatError, ProtoReader, WireType, decodeFields } from './protobuf.js';
import type { ByteSource, Fields } from './protobuf.js';
import { elementCount } from './shape.js';

/** One parameter blob: shape as stored (legacy files give 4-D [num, channels, height, width]). */
export interface CaffeBlob {
  readonly shape: number[];
  /**
   * Row-major values: a view on the file bytes when the file is in memory and aligned, else an
   * array of their own (read straight from disk when parsing a ByteSource).
   */
  readonly data: Float32Array;
}

/** One layer: connectivity, weights and the parameters needed to build it. */
export interface CaffeLayer {
  readonly name: string;
  /** V2 type string ("Convolution", "Pooling", ...); V1 enums are mapped to the same names. */
  readonly type: string;
  readonly bottoms: string[];
  readonly tops: string[];
  /** Weights then bias for Convolution and InnerProduct; empty when the file holds none. */
  readonly blobs: CaffeBlob[];
  readonly params: CaffeLayerParams;
  /** The phase of the layer's first `include` rule, or null when it is in every phase. */
  readonly phase: 'TRAIN' | 'TEST' | null;
}

/** A net input declared outside the layers (the old `input:` + `input_dim:`/`input_shape` form). */
export interface CaffeInput {
  readonly name: string;
  readonly shape: number[];
}

/** A whole net, from a .caffemodel or a .prototxt. */
export interface CaffeNet {
  readonly name: string;
  readonly inputs: CaffeInput[];
  readonly layers: CaffeLayer[];
}

/** Options of `parseCaffeModel`. */
export interface CaffeReadOptions {
  /** Layers for which this returns false are left out, and their blobs are never read. */
  keep?: (layerName: string, type: string) => boolean;
  /** Name used in error messages (defaults to "<caffemodel>"). */
  file?: string;
  /**
   * Copy the kept blobs into one fresh buffer so the file's bytes can be freed (worth it when
   * only a part is kept, e.g. the conv layers of VGG-19: ~80 MB of a 550 MB file). Default false.
   */
  compact?: boolean;
}

const PHASES = ['TRAIN', 'TEST'] as const;

/** NetStateRule { optional Phase phase = 1; } where Phase is TRAIN = 0, TEST = 1. */
function rulePhase(r: ProtoReader): 'TRAIN' | 'TEST' | null {
  let phase: 'TRAIN' | 'TEST' | null = null;
  while (r.next()) {
    if (r.field === 1 && r.wire === WireType.VARINT) phase = PHASES[r.int32()] ?? null;
    else r.skip();
  }
  return phase;
}

/**
 * BlobProto: shape = 7 (BlobShape), data = 5 (packed float), diff = 6, double_data = 8,
 * double_diff = 9, legacy num/channels/height/width = 1..4. Diffs (gradients) are skipped.
 */
function readBlob(r: ProtoReader, what: string): CaffeBlob {
  const floats = new FloatList();
  const doubles = new FloatList();
  let shape: number[] | null = null;
  const legacy = [0, 0, 0, 0];
  let hasLegacy = false;
  let hasFloats = false;
  let hasDoubles = false;
  while (r.next()) {
    switch (r.field) {
      case 1:
      case 2:
      case 3:
      case 4:
        r.expect(WireType.VARINT, `${what} legacy dimension`);
        legacy[r.field - 1] = r.int64();
        hasLegacy = true;
        break;
      case 5:
        r.floats(floats, `${what} field 5 (data)`);
        hasFloats = true;
        break;
      case 7: {
        r.expect(WireType.LEN, `${what} field 7 (shape)`);
        const dims = decodeFields(r.message(`${what} field 7 (shape)`), BLOB_SHAPE_SCHEMA).get(
          'dim',
        );
        shape = (dims ?? []) as number[];
        break;
      }
      case 8:
        r.doublesAsFloats(doubles, `${what} field 8 (double_data)`);
        hasDoubles = true;
        break;
      default:
        r.skip();
    }
  }
  const data = hasFloats || !hasDoubles ? floats.finish() : doubles.finish();
  shape ??= hasLegacy ? legacy : [data.length];
  if (elementCount(shape) !== data.length) {
    r.fail(
      `${what}: shape [${shape.join(', ')}] needs ${elementCount(shape)} values but data holds ${data.length}`,
      r.end,
    );
  }
  return { shape, data };
}

/** Reads one LayerParameter (V2) or V1LayerParameter; returns null when `keep` rejects it. */
function readLayer(
  r: ProtoReader,
  v1: boolean,
  index: number,
  keep: CaffeReadOptions['keep'],
): CaffeLayer | null {
  // Field numbers differ between the two messages (caffe.proto): V2 name 1, type 2 (string),
  // bottom 3, top 4, blobs 7, include 8; V1 bottom 2, top 3, name 4, type 5 (enum), blobs 6,
  // include 32, and field 1 holds a pre-2014 V0LayerParameter.
  const F = v1
    ? { name: 4, type: 5, bottom: 2, top: 3, blobs: 6, include: 32 }
    : { name: 1, type: 2, bottom: 3, top: 4, blobs: 7, include: 8 };
  const paramFields: Readonly<Record<number, FieldSpecOf>> = v1 ? V1_PARAM_FIELDS : V2_PARAM_FIELDS;
  let name = '';
  let type = '';
  const bottoms: string[] = [];
  const tops: string[] = [];
  let phase: 'TRAIN' | 'TEST' | null = null;
  let sawInclude = false;
  const blobReaders: ProtoReader[] = [];
  const paramReaders: [FieldSpecOf, ProtoReader][] = [];
  const label = () => `layer ${index}${name ? ` ("${name}")` : ''}`;

  // First pass: names and connectivity; blobs and parameter messages are only located (the spec
  // allows any field order), so `keep` can reject a layer before any of them is decoded.
  while (r.next()) {
    const f = r.field;
    if (f === F.name) name = r.string(`${label()} name`);
    else if (f === F.type && !v1) type = r.string(`${label()} type`);
    else if (f === F.type && v1) {
      r.expect(WireType.VARINT, `${label()} type`);
      const code = r.int32();
      type = v1LayerType(code) ?? `V1_TYPE_${code}`;
    } else if (f === F.bottom) bottoms.push(r.string(`${label()} bottom`));
    else if (f === F.top) tops.push(r.string(`${label()} top`));
    else if (f === F.blobs) {
      r.expect(WireType.LEN, `${label()} field ${f} (blobs)`);
      blobReaders.push(r.message(`${label()} field ${f} (blobs)`));
    } else if (f === F.include) {
      r.expect(WireType.LEN, `${label()} include`);
      const p = rulePhase(r.message(`${label()} include`));
      if (!sawInclude) phase = p;
      sawInclude = true;
    } else if (v1 && f === 1) {
      r.fail(
        `${label()} uses the pre-2014 V0 layer format, which nnzero does not read; ` +
          "upgrade it with Caffe's upgrade_net_proto_binary",
        r.tagAt,
      );
    } else if (paramFields[f] !== undefined) {
      const spec = paramFields[f];
      const what = `${label()} field ${f} (${spec.name})`;
      paramReaders.push([spec, r.message(what)]);
    } else r.skip();
  }
  if (keep && !keep(name, type)) return null;
  const blobs = blobReaders.map((b, i) => readBlob(b, `${label()} blob ${i}`));
  const raw: Fields = new Map();
  for (const [spec, p] of paramReaders) {
    raw.set(spec.name, [...(raw.get(spec.name) ?? []), decodeFields(p, spec.kind.message)]);
  }
  const params = layerParams(raw, type, r.file, name);
  return { name, type, bottoms, tops, blobs, params, phase };
}

/**
 * Gives a blob the shape a layer expects, the way Caffe's Blob::ShapeEquals accepts legacy files:
 * the stored shape must equal `shape`, or be a 4-D legacy shape whose trailing dims equal `shape`
 * with leading 1s (bias [1, 1, 1, 96] as [96], fc weights [1, 1, 4096, 9216] as [4096, 9216]).
 * The data is shared, not copied.
 */
export function blobWithShape(
  blob: CaffeBlob,
  shape: readonly number[],
  file = '<caffemodel>',
): CaffeBlob {
  const stored = blob.shape;
  const same = stored.length === shape.length && stored.every((d, i) => d === shape[i]);
  const pad = stored.length - shape.length;
  const legacy =
    stored.length === 4 &&
    pad >= 0 &&
    stored.slice(0, pad).every((d) => d === 1) &&
    shape.every((d, i) => d === stored[pad + i]);
  if (!same && !legacy) {
    throw new FormatError(
      file,
      `blob of shape [${stored.join(', ')}] does not fit the expected shape [${shape.join(', ')}]`,
    );
  }
  return { shape: [...shape], data: blob.data };
}

/**
 * Builds the net inputs of the deprecated NetParameter fields: `input` names with either one
 * `input_shape` each or four `input_dim` values each (num, channels, height, width).
 */
export function netInputs(
  names: readonly string[],
  shapes: readonly number[][],
  dims: readonly number[],
  file: string,
): CaffeInput[] {
  if (shapes.length === 0 && dims.length !== 4 * names.length && names.length > 0) {
    throw new FormatError(
      file,
      `${names.length} input(s) need ${4 * names.length} input_dim values, found ${dims.length}`,
    );
  }
  if (shapes.length > 0 && shapes.length !== names.length) {
    throw new FormatError(file, `${names.length} input(s) but ${shapes.length} input_shape(s)`);
  }
  return names.map((name, i) => ({
    name,
    shape: shapes.length > 0 ? (shapes[i] as number[]) : dims.slice(4 * i, 4 * i + 4),
  }));
}

/**
 * Copies every blob of a net into one fresh shared buffer, so the views no longer hold on to the
 * file's bytes and those can be freed.
 */
export function compactCaffeNet(net: CaffeNet): CaffeNet {
  let total = 0;
  for (const layer of net.layers) for (const b of layer.blobs) total += b.data.length;
  const store = new Float32Array(total);
  let at = 0;
  const layers = net.layers.map((layer) => ({
    ...layer,
    blobs: layer.blobs.map((b) => {
      store.set(b.data, at);
      const data = store.subarray(at, at + b.data.length);
      at += b.data.length;
      return { shape: b.shape, data };
    }),
  }));
  return { ...net, layers };
}

/**
 * Parses a .caffemodel (binary NetParameter: name = 1, layers = 2 (V1), input = 3,
 * input_dim = 4, input_shape = 8, layer = 100 (V2)).
 * @param source the whole file, or a ByteSource that reads it on demand (files.ts)
 * @returns the net; blobs are Float32Array views on the bytes in memory (copies when unaligned or
 * compact), or arrays read from the ByteSource for the kept layers only
 */
export function parseCaffeModel(
  source: Uint8Array | ByteSource,
  options: CaffeReadOptions = {},
): CaffeNet {
  const { keep, file = '<caffemodel>', compact = false } = options;
  const r = new ProtoReader(source, file);
  let name = '';
  const inputNames: string[] = [];
  const inputDims: number[] = [];
  const inputShapes: number[][] = [];
  const layers: CaffeLayer[] = [];
  let count = 0;
  while (r.next()) {
    switch (r.field) {
      case 1:
        r.expect(WireType.LEN, 'field 1 (name)');
        name = r.string('field 1 (name)');
        break;
      case 2:
      case 100: {
        const v1 = r.field === 2;
        const what = v1 ? `field 2 (layers) #${count}` : `field 100 (layer) #${count}`;
        r.expect(WireType.LEN, what);
        const layer = readLayer(r.message(what), v1, count, keep);
        count++;
        if (layer) layers.push(layer);
        break;
      }
      case 3:
        r.expect(WireType.LEN, 'field 3 (input)');
        inputNames.push(r.string('field 3 (input)'));
        break;
      case 4:
        r.varints(inputDims, (s) => s.int64(), 'field 4 (input_dim)');
        break;
      case 8: {
        r.expect(WireType.LEN, 'field 8 (input_shape)');
        const dims = decodeFields(r.message('field 8 (input_shape)'), BLOB_SHAPE_SCHEMA).get('dim');
        inputShapes.push((dims ?? []) as number[]);
        break;
      }
      default:
        r.skip();
    }
  }
  if (count === 0 && source.length > 0) {
    throw new FormatError(
      file,
      'no layers found (neither field 2 `layers` nor field 100 `layer`); is this a .caffemodel?',
    );
  }
  const net = { name, inputs: netInputs(inputNames, inputShapes, inputDims, file), layers };
  return compact ? compactCaffeNet(net) : net;
}

/**
 * Fills a net definition (from a .prototxt) with the weights of a .caffemodel, matching layers by
 * name as Caffe's CopyTrainedLayersFrom does; layers the weights lack keep empty blobs.
 */
export function mergeCaffeWeights(definition: CaffeNet, weights: CaffeNet): CaffeNet {
  const byName = new Map<string, CaffeLayer>();
  for (const layer of weights.layers) byName.set(layer.name, layer);
  return {
    ...definition,
    layers: definition.layers.map((layer) => ({
      ...layer,
      blobs: byName.get(layer.name)?.blobs ?? layer.blobs,
    })),
  };
}
