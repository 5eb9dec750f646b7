// loadVgg19 reads only the conv weights the network it builds uses: up to `upTo` from a
// caffemodel (the later ones, and the fully connected layers, are never read).
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadVgg19 } from '../../lib/style/index.js';
import { FormatError, ProtoWriter } from '../../lib/style/formats/index.js';
import { withTempDir } from './formats/fixtures.js';

const values = (n: number, seed: number): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => 0.2 * Math.sin(1.7 * i + seed));

// VGG-19's first three conv layers with their real shapes, then a broken conv5_4 whose blob
// claims 512·512·3·3 values but holds 2: reading it throws.
function caffemodel(): Uint8Array {
  const net = new ProtoWriter().string(1, 'VGG_ILSVRC_19_layers (first layers)');
  const blob = (shape: number[], data: Float32Array) =>
    new ProtoWriter().message(7, new ProtoWriter().packedVarints(1, shape)).packedFloats(5, data);
  const layer = (name: string, ...blobs: ProtoWriter[]) => {
    const w = new ProtoWriter().string(1, name).string(2, 'Convolution');
    for (const b of blobs) w.message(7, b);
    net.message(100, w);
  };
  (
    [
      ['conv1_1', [64, 3, 3, 3]],
      ['conv1_2', [64, 64, 3, 3]],
      ['conv2_1', [128, 64, 3, 3]],
    ] as const
  ).forEach(([name, shape], k) => {
    const n = shape.reduce((a, b) => a * b, 1);
    layer(name, blob([...shape], values(n, k)), blob([shape[0]], values(shape[0], 10 + k)));
  });
  layer('conv5_4', blob([512, 512, 3, 3], Float32Array.from([1, 2])));
  return net.finish();
}

describe('loadVgg19', () => {
  it('reads only the conv weights up to upTo', () => {
    withTempDir((dir) => {
      const path = join(dir, 'vgg.caffemodel');
      writeFileSync(path, caffemodel());
      for (const upTo of ['relu2_1', 'conv1_2']) {
        const net = loadVgg19(path, { upTo });
        expect(net.layerNames[0]).to.equal('conv1_1');
        expect(net.layerNames).to.include(upTo);
      }
      // Negative control: without upTo every conv is read, and the broken conv5_4 throws.
      expect(() => loadVgg19(path)).to.throw(
        FormatError,
        /vgg\.caffemodel: layer 3 \("conv5_4"\) blob 0: shape \[512, 512, 3, 3\] needs 2359296 values but data holds 2/,
      );
    });
  });
});
