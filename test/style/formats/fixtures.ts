// Shared test fixtures for the format readers: a tiny seeded generator (Math.random is banned),
// temporary files under os.tmpdir(), and tiny Caffe nets written field by field with the field
// numbers of caffe.proto spelled out, so the reader is checked against the spec, not against itself.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError, ProtoWriter } from '../../../lib/style/formats/index.js';
import type { ByteSource } from '../../../lib/style/formats/index.js';

/** mulberry32: a small seeded generator; returns floats in [-1, 1) rounded to float32. */
export function seededFloats(seed: number): (n: number) => Float32Array {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (n) => Float32Array.from({ length: n }, () => next() * 2 - 1);
}

/**
 * Runs a read and reports how it ended: "ok", the message of a FormatError, or "not a
 * FormatError: ..." for anything else (so one assertion can check many cuts at once).
 */
export function outcome(read: () => unknown): string {
  try {
    read();
    return 'ok';
  } catch (e) {
    return e instanceof FormatError ? e.message : `not a FormatError: ${String(e)}`;
  }
}

/**
 * A ByteSource over bytes in memory, as files.ts makes one over a file: it serves positional reads
 * through windows of `windowSize` bytes and records every range it was asked for in `reads`.
 */
export function memorySource(
  bytes: Uint8Array,
  windowSize?: number,
): ByteSource & { readonly reads: [number, number][] } {
  const reads: [number, number][] = [];
  return {
    length: bytes.length,
    ...(windowSize === undefined ? {} : { windowSize }),
    reads,
    readInto(target, position) {
      if (position < 0 || position + target.length > bytes.length) {
        throw new RangeError(`read of [${position}, ${position + target.length}) past the end`);
      }
      reads.push([position, position + target.length]);
      target.set(bytes.subarray(position, position + target.length));
    },
  };
}

/** Where `needle` first occurs in `haystack` (as bytes), or −1. */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Runs `body` with a fresh temporary directory that is removed afterwards. */
export function withTempDir<T>(body: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'nnzero-formats-'));
  try {
    return body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The weights of the tiny test net, by layer name. */
export interface TinyWeights {
  readonly conv1: [Float32Array, Float32Array];
  readonly conv2: [Float32Array];
  readonly fc: [Float32Array, Float32Array];
}

/** Weights for the tiny net: conv1 [4,3,3,3] + [4], conv2 [6,2,3,1] (no bias), fc [5,24] + [5]. */
export function tinyWeights(seed: number): TinyWeights {
  const rand = seededFloats(seed);
  return {
    conv1: [rand(4 * 3 * 3 * 3), rand(4)],
    conv2: [rand(6 * 2 * 3 * 1)],
    fc: [rand(5 * 24), rand(5)],
  };
}

/** BlobProto with `shape` (7 → BlobShape.dim = 1, packed) and packed `data` (5). */
function blobV2(shape: number[], data: Float32Array): ProtoWriter {
  return new ProtoWriter()
    .message(7, new ProtoWriter().packedVarints(1, shape))
    .packedFloats(5, data);
}

/**
 * The tiny net as a V2 NetParameter (`layer` = 100): conv1 → relu1 → pool1 → norm1 → conv2 →
 * drop → fc → prob. LayerParameter: name 1, type 2, bottom 3, top 4, blobs 7, include 8.
 */
export function tinyCaffeV2(w: TinyWeights): Uint8Array {
  const layer = (name: string, type: string, bottom: string, top: string) =>
    new ProtoWriter().string(1, name).string(2, type).string(3, bottom).string(4, top);
  const net = new ProtoWriter().string(1, 'tiny');
  // input = 3, input_dim = 4 (four per input: num, channels, height, width).
  net.string(3, 'data').int(4, 1).int(4, 3).int(4, 8).int(4, 8);
  // ConvolutionParameter (106): num_output 1, pad 3, kernel_size 4, stride 6.
  const conv1 = new ProtoWriter().int(1, 4).int(3, 1).int(4, 3).int(6, 1);
  net.message(
    100,
    layer('conv1', 'Convolution', 'data', 'conv1')
      .message(106, conv1)
      .message(7, blobV2([4, 3, 3, 3], w.conv1[0]))
      .message(7, blobV2([4], w.conv1[1])),
  );
  net.message(100, layer('relu1', 'ReLU', 'conv1', 'conv1'));
  // PoolingParameter (121): pool 1 (MAX = 0), kernel_size 2, stride 3.
  net.message(
    100,
    layer('pool1', 'Pooling', 'conv1', 'pool1').message(
      121,
      new ProtoWriter().int(1, 0).int(2, 2).int(3, 2),
    ),
  );
  // LRNParameter (118): local_size 1, alpha 2, beta 3, k 5.
  const lrn = new ProtoWriter().int(1, 3).float(2, 0.0001).float(3, 0.75).float(5, 2);
  net.message(100, layer('norm1', 'LRN', 'pool1', 'norm1').message(118, lrn));
  // kernel_h 11 / kernel_w 12, pad_h 9 / pad_w 10, stride_h 13 / stride_w 14, group 5, bias_term 2.
  const conv2 = new ProtoWriter().int(1, 6).int(11, 3).int(12, 1).int(9, 1).int(10, 0);
  conv2.int(13, 2).int(14, 1).int(5, 2).bool(2, false).int(18, 1);
  net.message(
    100,
    layer('conv2', 'Convolution', 'norm1', 'conv2')
      .message(106, conv2)
      .message(7, blobV2([6, 2, 3, 1], w.conv2[0])),
  );
  // DropoutParameter (108): dropout_ratio 1; include (8) → NetStateRule.phase 1 = TRAIN (0).
  const drop = layer('drop', 'Dropout', 'conv2', 'conv2').message(
    108,
    new ProtoWriter().float(1, 0.25),
  );
  net.message(100, drop.message(8, new ProtoWriter().int(1, 0)));
  // InnerProductParameter (117): num_output 1.
  net.message(
    100,
    layer('fc', 'InnerProduct', 'conv2', 'fc')
      .message(117, new ProtoWriter().int(1, 5))
      .message(7, blobV2([5, 24], w.fc[0]))
      .message(7, blobV2([5], w.fc[1])),
  );
  net.message(100, layer('prob', 'Softmax', 'fc', 'prob'));
  return net.finish();
}

/** Legacy BlobProto: num 1, channels 2, height 3, width 4, then data written as `how`. */
function blobV1(
  dims: [number, number, number, number],
  data: Float32Array,
  how: 'packed' | 'unpacked' | 'double',
): ProtoWriter {
  const b = new ProtoWriter().int(1, dims[0]).int(2, dims[1]).int(3, dims[2]).int(4, dims[3]);
  if (how === 'packed') return b.packedFloats(5, data);
  if (how === 'unpacked') {
    for (const v of data) b.float(5, v);
    return b;
  }
  return b.packedDoubles(8, data);
}

/**
 * The same net as a V1 NetParameter (`layers` = 2). V1LayerParameter: bottom 2, top 3, name 4,
 * type 5 (enum: CONVOLUTION 4, RELU 18, POOLING 17, LRN 15, DROPOUT 6, INNER_PRODUCT 14,
 * SOFTMAX 20), blobs 6, and parameter messages convolution 10, pooling 19, lrn 18, dropout 12,
 * inner_product 17. Blobs use legacy 4-D shapes; conv1's bias is unpacked, fc's bias is double_data.
 */
export function tinyCaffeV1(w: TinyWeights): Uint8Array {
  const layer = (name: string, type: number, bottom: string, top: string) =>
    new ProtoWriter().string(4, name).int(5, type).string(2, bottom).string(3, top);
  const net = new ProtoWriter().string(1, 'tiny');
  net.string(3, 'data').int(4, 1).int(4, 3).int(4, 8).int(4, 8);
  net.message(
    2,
    layer('conv1', 4, 'data', 'conv1')
      .message(10, new ProtoWriter().int(1, 4).int(3, 1).int(4, 3).int(6, 1))
      .message(6, blobV1([4, 3, 3, 3], w.conv1[0], 'packed'))
      .message(6, blobV1([1, 1, 1, 4], w.conv1[1], 'unpacked')),
  );
  net.message(2, layer('relu1', 18, 'conv1', 'conv1'));
  net.message(
    2,
    layer('pool1', 17, 'conv1', 'pool1').message(
      19,
      new ProtoWriter().int(1, 0).int(2, 2).int(3, 2),
    ),
  );
  const lrn = new ProtoWriter().int(1, 3).float(2, 0.0001).float(3, 0.75).float(5, 2);
  net.message(2, layer('norm1', 15, 'pool1', 'norm1').message(18, lrn));
  const conv2 = new ProtoWriter().int(1, 6).int(11, 3).int(12, 1).int(9, 1).int(10, 0);
  conv2.int(13, 2).int(14, 1).int(5, 2).bool(2, false);
  net.message(
    2,
    layer('conv2', 4, 'norm1', 'conv2')
      .message(10, conv2)
      .message(6, blobV1([6, 2, 3, 1], w.conv2[0], 'packed')),
  );
  // include = 32 in V1LayerParameter.
  net.message(
    2,
    layer('drop', 6, 'conv2', 'conv2')
      .message(12, new ProtoWriter().float(1, 0.25))
      .message(32, new ProtoWriter().int(1, 0)),
  );
  net.message(
    2,
    layer('fc', 14, 'conv2', 'fc')
      .message(17, new ProtoWriter().int(1, 5))
      .message(6, blobV1([1, 1, 5, 24], w.fc[0], 'packed'))
      .message(6, blobV1([1, 1, 1, 5], w.fc[1], 'double')),
  );
  net.message(2, layer('prob', 20, 'fc', 'prob'));
  return net.finish();
}
