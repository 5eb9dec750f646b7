import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, readImage, writePng, zeros } from '../../lib/core/index.js';
import { runDreamCli, runNsfwCli } from '../../lib/pretrained/cli.js';
import { encodeCaffeModel } from '../../lib/pretrained/index.js';

// A tiny Caffe net in a temporary folder: conv → ReLU → an "inception_4c/output" concat of two
// 1×1 branches → global average pool → 2-way InnerProduct → softmax.
const PROTOTXT = `
input: "data"
input_dim: 1 input_dim: 3 input_dim: 224 input_dim: 224
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "a" type: "Convolution" bottom: "conv1" top: "a" convolution_param { num_output: 2 kernel_size: 1 } }
layer { name: "b" type: "Convolution" bottom: "conv1" top: "b" convolution_param { num_output: 2 kernel_size: 1 } }
layer { name: "inception_4c/output" type: "Concat" bottom: "a" bottom: "b" top: "inception_4c/output" }
layer { name: "pool" type: "Pooling" bottom: "inception_4c/output" top: "pool" pooling_param { pool: AVE global_pooling: true } }
layer { name: "fc" type: "InnerProduct" bottom: "pool" top: "fc" inner_product_param { num_output: 2 } }
layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
`;

function withModel(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'nnzero-pretrained-'));
  try {
    const rng = new Rng(1);
    const f = (n: number) => Float32Array.from({ length: n }, () => rng.normal(0, 0.01));
    const blobs = (...shapes: number[][]) =>
      shapes.map((shape) => ({ shape, data: f(shape.reduce((a, b) => a * b, 1)) }));
    const model = encodeCaffeModel(
      [
        { name: 'conv1', type: 'Convolution', blobs: blobs([4, 3, 3, 3], [4]) },
        { name: 'a', type: 'Convolution', blobs: blobs([2, 4, 1, 1], [2]) },
        { name: 'b', type: 'Convolution', blobs: blobs([2, 4, 1, 1], [2]) },
        { name: 'fc', type: 'InnerProduct', blobs: blobs([2, 4], [2]) },
      ],
      'V2',
    );
    writeFileSync(join(dir, 'deploy.prototxt'), PROTOTXT);
    writeFileSync(join(dir, 'tiny.caffemodel'), model);
    const image = new Rng(2).fillUniform(zeros([3, 12, 16], 'float32'));
    writePng(join(dir, 'in.png'), image);
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function capture(): {
  io: { out: (l: string) => void; err: (l: string) => void };
  out: string[];
  err: string[];
} {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l) => out.push(l), err: (l) => err.push(l) }, out, err };
}

describe('nnzero-nsfw and nnzero-dream', () => {
  it('nnzero-nsfw prints a score in [0, 1] for an image', () => {
    withModel((dir) => {
      const { io, out, err } = capture();
      const code = runNsfwCli(
        [
          join(dir, 'in.png'),
          '--model',
          join(dir, 'tiny.caffemodel'),
          '--proto',
          join(dir, 'deploy.prototxt'),
        ],
        io,
      );
      expect(err).to.deep.equal([]);
      expect(code).to.equal(0);
      const result = JSON.parse(out[0]!) as { score: number };
      expect(result.score).to.be.within(0, 1);
    });
  });

  it('nnzero-dream writes an image of the input size', () => {
    withModel((dir) => {
      const { io, out, err } = capture();
      const output = join(dir, 'dream.png');
      const args = [
        join(dir, 'in.png'),
        '--model',
        join(dir, 'tiny.caffemodel'),
        '--proto',
        join(dir, 'deploy.prototxt'),
      ];
      const code = runDreamCli(
        [...args, '-o', output, '--octaves', '2', '--iterations', '2', '--jitter', '2'],
        io,
      );
      expect(err).to.deep.equal([]);
      expect(code).to.equal(0);
      expect(JSON.parse(out[0]!)).to.include({ output, layer: 'inception_4c/output' });
      expect(existsSync(output)).to.equal(true);
      expect(readImage(output, { channels: 3 }).shape).to.deep.equal([3, 12, 16]);
    });
  });

  it('fails with exit code 1 naming an unknown blob or a missing file', () => {
    withModel((dir) => {
      const args = [
        join(dir, 'in.png'),
        '--model',
        join(dir, 'tiny.caffemodel'),
        '--proto',
        join(dir, 'deploy.prototxt'),
      ];
      const a = capture();
      expect(runDreamCli([...args, '--layer', 'inception_9z/output'], a.io)).to.equal(1);
      expect(a.err.join('\n')).to.match(/no layer produces blob "inception_9z\/output"/);
      const b = capture();
      expect(
        runNsfwCli(
          [
            join(dir, 'in.png'),
            '--model',
            join(dir, 'none.caffemodel'),
            '--proto',
            join(dir, 'deploy.prototxt'),
          ],
          b.io,
        ),
      ).to.equal(1);
      expect(b.err.join('\n')).to.match(/none\.caffemodel: no such file/);
    });
  });
});
