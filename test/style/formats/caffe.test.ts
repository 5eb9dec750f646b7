// Tests for the .caffemodel reader: the tiny net written field by field in V1 and V2 form reads
// back exactly (names, types, parameters, float32 weights), the keep filter skips layers before
// decoding them, and truncated or garbage files raise FormatError naming the file and the problem.

import { expect } from 'chai';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FormatError,
  ProtoReader,
  ProtoWriter,
  blobWithShape,
  compactCaffeNet,
  parseCaffeModel,
  readCaffeModel,
  withByteSource,
} from '../../../lib/style/formats/index.js';
import type { CaffeNet } from '../../../lib/style/formats/index.js';
import {
  indexOfBytes,
  memorySource,
  outcome,
  seededFloats,
  tinyCaffeV1,
  tinyCaffeV2,
  tinyWeights,
  withTempDir,
} from './fixtures.js';

const weights = tinyWeights(7);

function layer(net: CaffeNet, name: string) {
  const found = net.layers.find((l) => l.name === name);
  if (!found) throw new Error(`no layer ${name}`);
  return found;
}

/** Offsets at which a top-level field of the message ends (cuts there leave a valid message). */
function topLevelBoundaries(bytes: Uint8Array): Set<number> {
  const r = new ProtoReader(bytes);
  const ends = new Set<number>([0]);
  while (r.next()) {
    r.skip();
    ends.add(r.pos);
  }
  return ends;
}

describe('parseCaffeModel', () => {
  for (const [form, bytes] of [
    ['V2', tinyCaffeV2(weights)],
    ['V1', tinyCaffeV1(weights)],
  ] as const) {
    describe(`${form} file`, () => {
      const net = parseCaffeModel(bytes, { file: `tiny-${form}.caffemodel` });

      it('reads the net name, inputs and every layer in order with V2 type names', () => {
        expect(net.name).to.equal('tiny');
        expect(net.inputs).to.deep.equal([{ name: 'data', shape: [1, 3, 8, 8] }]);
        expect(net.layers.map((l) => [l.name, l.type])).to.deep.equal([
          ['conv1', 'Convolution'],
          ['relu1', 'ReLU'],
          ['pool1', 'Pooling'],
          ['norm1', 'LRN'],
          ['conv2', 'Convolution'],
          ['drop', 'Dropout'],
          ['fc', 'InnerProduct'],
          ['prob', 'Softmax'],
        ]);
        expect(layer(net, 'relu1').bottoms).to.deep.equal(['conv1']);
        expect(layer(net, 'relu1').tops).to.deep.equal(['conv1']);
      });

      it('returns weights as Float32Array with the exact values written', () => {
        const conv1 = layer(net, 'conv1').blobs;
        expect(conv1[0]?.data).to.be.instanceOf(Float32Array);
        expect(conv1[0]?.shape).to.deep.equal([4, 3, 3, 3]);
        expect(conv1[0]?.data).to.deep.equal(weights.conv1[0]);
        expect(conv1[1]?.data).to.be.instanceOf(Float32Array);
        expect(conv1[1]?.data).to.deep.equal(weights.conv1[1]);
        expect(layer(net, 'conv2').blobs[0]?.data).to.deep.equal(weights.conv2[0]);
        expect(layer(net, 'fc').blobs[0]?.data).to.deep.equal(weights.fc[0]);
        expect(layer(net, 'fc').blobs[1]?.data).to.be.instanceOf(Float32Array);
        expect(layer(net, 'fc').blobs[1]?.data).to.deep.equal(weights.fc[1]);
        expect(layer(net, 'relu1').blobs).to.deep.equal([]);
      });

      it('resolves convolution parameters, including kernel_h/kernel_w, pads, strides and group', () => {
        expect(layer(net, 'conv1').params.convolution).to.deep.equal({
          numOutput: 4,
          kernelH: 3,
          kernelW: 3,
          strideH: 1,
          strideW: 1,
          padH: 1,
          padW: 1,
          dilationH: 1,
          dilationW: 1,
          group: 1,
          biasTerm: true,
        });
        expect(layer(net, 'conv2').params.convolution).to.deep.equal({
          numOutput: 6,
          kernelH: 3,
          kernelW: 1,
          strideH: 2,
          strideW: 1,
          padH: 1,
          padW: 0,
          dilationH: 1,
          dilationW: 1,
          group: 2,
          biasTerm: false,
        });
      });

      it('reads pooling (ceil rounding by default), LRN, dropout, inner product and ReLU defaults', () => {
        expect(layer(net, 'pool1').params.pooling).to.deep.equal({
          pool: 'MAX',
          kernelH: 2,
          kernelW: 2,
          strideH: 2,
          strideW: 2,
          padH: 0,
          padW: 0,
          globalPooling: false,
          roundMode: 'CEIL',
        });
        expect(layer(net, 'norm1').params.lrn).to.deep.equal({
          localSize: 3,
          alpha: Math.fround(0.0001),
          beta: 0.75,
          k: 2,
          normRegion: 'ACROSS_CHANNELS',
        });
        expect(layer(net, 'drop').params.dropout).to.deep.equal({ ratio: 0.25 });
        expect(layer(net, 'drop').phase).to.equal('TRAIN');
        expect(layer(net, 'conv1').phase).to.equal(null);
        expect(layer(net, 'fc').params.innerProduct).to.deep.equal({
          numOutput: 5,
          biasTerm: true,
          axis: 1,
          transpose: false,
        });
        expect(layer(net, 'relu1').params.relu).to.deep.equal({ negativeSlope: 0 });
        expect(layer(net, 'prob').params.softmax).to.deep.equal({ axis: 1 });
      });

      it('keeps only the layers the keep filter accepts, and asks it about every layer', () => {
        const asked: string[] = [];
        const kept = parseCaffeModel(bytes, {
          keep: (name, type) => {
            asked.push(`${name}:${type}`);
            return type === 'Convolution';
          },
        });
        expect(kept.layers.map((l) => l.name)).to.deep.equal(['conv1', 'conv2']);
        expect(asked).to.have.length(8);
        expect(asked).to.include('fc:InnerProduct');
        expect(layer(kept, 'conv2').blobs[0]?.data).to.deep.equal(weights.conv2[0]);
      });

      it('raises FormatError naming the file when cut anywhere inside a layer', () => {
        const boundaries = topLevelBoundaries(bytes);
        const wrong: string[] = [];
        // Every 7th byte keeps the test fast (each throw captures a stack) while still landing in
        // tags, lengths, strings, parameter messages and float data of every layer.
        for (let cut = 1; cut < bytes.length; cut += 7) {
          const result = outcome(() =>
            parseCaffeModel(bytes.subarray(0, cut), { file: 'cut.caffemodel' }),
          );
          // Protobuf has no end marker: a cut between top-level fields is a shorter, valid net
          // (or, before the first layer, a net without layers, which is refused).
          const ok = boundaries.has(cut)
            ? result === 'ok' || /^cut\.caffemodel: no layers found/.test(result)
            : /^cut\.caffemodel: .* at byte \d+$/.test(result);
          if (!ok) wrong.push(`cut at ${cut}: ${result}`);
        }
        expect(wrong).to.deep.equal([]);
      });
    });
  }

  it('legacy V1 blobs keep their 4-D shape [num, channels, height, width]', () => {
    const net = parseCaffeModel(tinyCaffeV1(weights));
    expect(layer(net, 'conv1').blobs[1]?.shape).to.deep.equal([1, 1, 1, 4]);
    expect(layer(net, 'fc').blobs[0]?.shape).to.deep.equal([1, 1, 5, 24]);
  });

  it('blobWithShape accepts legacy 4-D shapes with leading 1s and shares the data', () => {
    const net = parseCaffeModel(tinyCaffeV1(weights));
    const fc = layer(net, 'fc').blobs[0];
    if (!fc) throw new Error('fc has no weights');
    const reshaped = blobWithShape(fc, [5, 24]);
    expect(reshaped.shape).to.deep.equal([5, 24]);
    expect(reshaped.data).to.equal(fc.data);
    expect(blobWithShape(fc, [1, 5, 24]).shape).to.deep.equal([1, 5, 24]);
    expect(() => blobWithShape(fc, [24, 5], 'vgg.caffemodel')).to.throw(
      FormatError,
      /^vgg\.caffemodel: blob of shape \[1, 1, 5, 24\] does not fit the expected shape \[24, 5\]$/,
    );
    const conv1 = layer(net, 'conv1').blobs[0];
    if (!conv1) throw new Error('conv1 has no weights');
    expect(() => blobWithShape(conv1, [4, 27])).to.throw(FormatError);
  });

  it('never decodes the blobs of a layer the keep filter rejects', () => {
    // fc's blob claims 1000 values but holds 2: decoding it would throw.
    const bad = new ProtoWriter()
      .string(1, 'fc')
      .string(2, 'InnerProduct')
      .message(
        7,
        new ProtoWriter()
          .message(7, new ProtoWriter().packedVarints(1, [1000]))
          .packedFloats(5, [1, 2]),
      );
    const conv = new ProtoWriter().string(1, 'conv').string(2, 'Convolution');
    const bytes = new ProtoWriter().message(100, conv).message(100, bad).finish();
    const net = parseCaffeModel(bytes, { keep: (_, type) => type !== 'InnerProduct' });
    expect(net.layers.map((l) => l.name)).to.deep.equal(['conv']);
    expect(() => parseCaffeModel(bytes, { file: 'bad.caffemodel' })).to.throw(
      FormatError,
      /bad\.caffemodel: layer 1 \("fc"\) blob 0: shape \[1000\] needs 1000 values but data holds 2/,
    );
  });

  it('names the field and the shortfall when a blob runs past the end of the file', () => {
    const bytes = tinyCaffeV2(weights);
    const cut = bytes.subarray(0, bytes.length - 30);
    expect(() => parseCaffeModel(cut, { file: 'vgg.caffemodel' })).to.throw(
      FormatError,
      /^vgg\.caffemodel: field 100 \(layer\) #6 runs past end of file \(needs \d+ bytes, \d+ left\) at byte \d+$/,
    );
  });

  it('raises FormatError on garbage bytes and on a text file', () => {
    const rand = seededFloats(3);
    const garbage = Uint8Array.from(rand(512), (v) => Math.floor((v + 1) * 128));
    expect(() => parseCaffeModel(garbage, { file: 'garbage.bin' })).to.throw(
      FormatError,
      /^garbage\.bin: /,
    );
    const text = new TextEncoder().encode('name: "not binary"\nlayer { name: "x" }\n');
    expect(() => parseCaffeModel(text, { file: 'deploy.prototxt' })).to.throw(
      FormatError,
      /^deploy\.prototxt: /,
    );
  });

  it('refuses pre-2014 V0 layers with an explanation', () => {
    const v0 = new ProtoWriter().message(1, new ProtoWriter().string(1, 'old'));
    const bytes = new ProtoWriter().message(2, v0).finish();
    expect(() => parseCaffeModel(bytes)).to.throw(FormatError, /V0 layer format/);
  });

  it('compactCaffeNet copies all blobs into one buffer that is not the file', () => {
    const bytes = tinyCaffeV2(weights);
    const net = compactCaffeNet(parseCaffeModel(bytes));
    const buffers = new Set(net.layers.flatMap((l) => l.blobs.map((b) => b.data.buffer)));
    expect(buffers.size).to.equal(1);
    expect(buffers.has(bytes.buffer)).to.equal(false);
    expect(layer(net, 'fc').blobs[0]?.data).to.deep.equal(weights.fc[0]);
  });

  it('readCaffeModel reads a path (kept blobs only, each in its own array) and names the path in errors', () => {
    withTempDir((dir) => {
      const path = join(dir, 'tiny.caffemodel');
      const bytes = tinyCaffeV2(weights);
      writeFileSync(path, bytes);
      const net = readCaffeModel(path, { keep: (name) => name === 'conv2' });
      expect(net.layers.map((l) => l.name)).to.deep.equal(['conv2']);
      expect(net.layers[0]?.blobs[0]?.data).to.deep.equal(weights.conv2[0]);
      expect(net.layers[0]?.blobs[0]?.data.buffer.byteLength).to.equal(weights.conv2[0].byteLength);
      writeFileSync(path, bytes.subarray(0, 100));
      expect(() => readCaffeModel(path)).to.throw(
        FormatError,
        new RegExp(`^${path.replace(/[.\\]/g, '\\$&')}: .*runs past end of file`),
      );
      expect(() => readCaffeModel(join(dir, 'missing.caffemodel'))).to.throw(
        FormatError,
        /missing\.caffemodel: no such file$/,
      );
      expect(() => readCaffeModel(dir)).to.throw(FormatError, /cannot read file \(EISDIR/);
    });
  });
});

describe('parseCaffeModel over a ByteSource (how files are read)', () => {
  // The net with blob data as plain arrays, so a view and an array of its own compare equal.
  const plain = (net: CaffeNet) => ({
    ...net,
    layers: net.layers.map((l) => ({
      ...l,
      blobs: l.blobs.map((b) => ({ shape: b.shape, data: Array.from(b.data) })),
    })),
  });

  for (const [form, bytes] of [
    ['V2', tinyCaffeV2(weights)],
    ['V1', tinyCaffeV1(weights)],
  ] as const) {
    it(`reads the ${form} net exactly as from bytes, through windows of 1 byte to 64 KiB`, () => {
      const want = plain(parseCaffeModel(bytes));
      for (const windowSize of [1, 2, 3, 7, 64, undefined]) {
        const net = parseCaffeModel(memorySource(bytes, windowSize));
        expect(plain(net), `window ${windowSize}`).to.deep.equal(want);
        for (const b of net.layers.flatMap((l) => l.blobs)) {
          // Each blob was read into an array of its own: nothing else keeps its memory alive.
          expect(b.data.byteOffset).to.equal(0);
          expect(b.data.buffer.byteLength).to.equal(b.data.byteLength);
        }
      }
    });

    it(`gives the same FormatError as from bytes wherever the ${form} file is cut`, () => {
      const wrong: string[] = [];
      for (let cut = 1; cut < bytes.length; cut += 5) {
        const part = bytes.subarray(0, cut);
        const file = { file: 'cut.caffemodel' };
        const fromBytes = outcome(() => parseCaffeModel(part, file));
        const fromSource = outcome(() => parseCaffeModel(memorySource(part, 6), file));
        if (fromSource !== fromBytes) wrong.push(`cut at ${cut}: ${fromSource} ≠ ${fromBytes}`);
      }
      expect(wrong).to.deep.equal([]);
    });
  }

  it('never reads the blobs of layers the keep filter leaves out (fc here)', () => {
    const bytes = tinyCaffeV2(weights);
    const fc = weights.fc[0];
    const at = indexOfBytes(bytes, new Uint8Array(fc.buffer, fc.byteOffset, fc.byteLength));
    expect(at).to.be.above(0);
    // Bytes of fc's weights that any read covered.
    const fcBytesRead = (reads: [number, number][]): number =>
      reads.reduce(
        (s, [a, b]) => s + Math.max(0, Math.min(b, at + fc.byteLength) - Math.max(a, at)),
        0,
      );
    const source = memorySource(bytes, 16);
    const net = parseCaffeModel(source, { keep: (name) => name === 'conv2' });
    expect(net.layers[0]?.blobs[0]?.data).to.deep.equal(weights.conv2[0]);
    // At most the tail of one 16-byte window that read the fields before fc's data.
    expect(fcBytesRead(source.reads)).to.be.below(16);
    // Negative control: when fc is kept, all 480 bytes of its weights are read.
    const all = memorySource(bytes, 16);
    parseCaffeModel(all);
    expect(fcBytesRead(all.reads)).to.be.at.least(fc.byteLength);
  });

  it('names the path and the byte when the file ends while it is being read', () => {
    withTempDir((dir) => {
      const path = join(dir, 'shrinking.caffemodel');
      writeFileSync(path, tinyCaffeV2(weights));
      expect(() =>
        withByteSource(path, (source) => {
          truncateSync(path, 50); // the file shrinks after it was opened
          return parseCaffeModel(source, { file: path });
        }),
      ).to.throw(
        FormatError,
        /shrinking\.caffemodel: file ended at byte 50 while reading bytes 0–/,
      );
    });
  });
});
