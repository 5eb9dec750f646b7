import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImage } from '../../lib/core/index.js';
import { bundledImage, parseArgs, runCli } from '../../lib/style/index.js';
import { ProtoWriter, encodeSafetensors } from '../../lib/style/formats/index.js';

interface Run {
  code: number;
  out: string[];
  err: string[];
}

function cli(args: string[]): Run {
  const out: string[] = [];
  const err: string[] = [];
  const code = runCli(args, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    progress: 'silent',
  });
  return { code, out, err };
}

// Seeded small weights: sin is deterministic and needs no generator.
function values(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => 0.2 * Math.sin(1.7 * i + seed));
}

// The first three conv layers of VGG-19 with their real shapes (enough up to relu2_1).
const LAYERS = [
  { name: 'conv1_1', torch: 0, shape: [64, 3, 3, 3] },
  { name: 'conv1_2', torch: 2, shape: [64, 64, 3, 3] },
  { name: 'conv2_1', torch: 5, shape: [128, 64, 3, 3] },
];
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

function tinyCaffeModel(): Uint8Array {
  const net = new ProtoWriter().string(1, 'VGG_ILSVRC_19_layers (first layers)');
  const blob = (shape: number[], data: Float32Array) =>
    new ProtoWriter().message(7, new ProtoWriter().packedVarints(1, shape)).packedFloats(5, data);
  LAYERS.forEach(({ name, shape }, k) => {
    net.message(
      100,
      new ProtoWriter()
        .string(1, name)
        .string(2, 'Convolution')
        .message(7, blob(shape, values(size(shape), k)))
        .message(7, blob([shape[0]!], values(shape[0]!, 10 + k))),
    );
  });
  return net.finish();
}

function tinyStateDict(): Uint8Array {
  return encodeSafetensors(
    LAYERS.flatMap(({ torch, shape }, k) => [
      { name: `features.${torch}.weight`, shape, data: values(size(shape), k) },
      { name: `features.${torch}.bias`, shape: [shape[0]!], data: values(shape[0]!, 10 + k) },
    ]),
  );
}

describe('nnzero-style CLI', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nnzero-style-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints its options with --help', () => {
    const r = cli(['--help']);
    expect(r.code).to.equal(0);
    for (const flag of [
      '--content',
      '--style',
      '--weights',
      '--original-colors',
      '--init',
      '--save-every',
    ]) {
      expect(r.out.join('\n')).to.include(flag);
    }
  });

  it('fills in the random network’s defaults: centred statistic, max pooling, relu3 content', () => {
    const o = parseArgs([]);
    expect([o.statistic, o.normalize, o.pooling, o.styleWeight, o.tvWeight]).to.deep.equal([
      'centred',
      'target',
      'max',
      30,
      10,
    ]);
    expect(o.contentLayers).to.deep.equal([{ layer: 'relu3', weight: 1 }]);
    expect(o.styleLayers.map((l) => l.weight)).to.deep.equal([0.2, 0.2, 0.2, 0.2, 0.2]);
  });

  it('takes the content and style images as arguments too, but not twice', () => {
    expect(parseArgs(['a.png', 'b.png', 'c.png'])).to.deep.equal(
      parseArgs(['-c', 'a.png', '-s', 'b.png', 'c.png']),
    );
    expect(() => parseArgs(['a.png', '--content', 'b.png'])).to.throw(/content image given twice/);
    expect(() => parseArgs(['a.png', 'b.png', '-s', 'c.png'])).to.throw(/style image given twice/);
  });

  it('refuses --proto without a network that reads it', () => {
    expect(() => parseArgs(['--proto', 'deploy.prototxt'])).to.throw(/needs --weights/);
    expect(() => parseArgs(['--weights', 'w.caffemodel', '--proto', 'deploy.prototxt'])).to.throw(
      /no network here reads --weights w\.caffemodel with --proto deploy\.prototxt/,
    );
  });

  it('stylizes a small image end to end and ends with one JSON line', () => {
    const output = join(dir, 'out.png');
    const r = cli(['--size', '32', '--iterations', '3', '--output', output, '--save-every', '2']);
    expect(r.code, r.err.join('\n')).to.equal(0);
    const result = JSON.parse(r.out[r.out.length - 1]!) as Record<string, number | string>;
    expect(Object.keys(result)).to.deep.equal([
      'output',
      'seconds',
      'iterations',
      'initialLoss',
      'finalLoss',
    ]);
    expect(result['finalLoss']).to.be.below(result['initialLoss'] as number);
    expect(readImage(output).shape).to.deep.equal([3, 21, 32]);
    expect(existsSync(join(dir, 'out_2.png'))).to.equal(true);
    expect(r.err.join('\n')).to.match(/GFLOP per evaluation.*memory/);
  });

  it('writes byte-identical output for the same seed and options', () => {
    const a = join(dir, 'a.png');
    const b = join(dir, 'b.png');
    const args = ['--size', '32', '--iterations', '2', '--init', 'noise', '--seed', '3'];
    expect(cli([...args, '--output', a]).code).to.equal(0);
    expect(cli([...args, '--output', b]).code).to.equal(0);
    expect(Buffer.compare(readFileSync(a), readFileSync(b))).to.equal(0);
  });

  it('refuses an output path equal to an input and leaves the input untouched', () => {
    const input = join(dir, 'content.png');
    writeFileSync(input, readFileSync(bundledImage('chelsea.png')));
    const before = readFileSync(input);
    const r = cli(['--content', input, '--output', input]);
    expect(r.code).to.equal(1);
    expect(r.err[0]).to.match(/is an input file/);
    expect(Buffer.compare(readFileSync(input), before)).to.equal(0);
  });

  it('refuses an intermediate save that would land on an input', () => {
    const input = join(dir, 'out_2.png');
    writeFileSync(input, readFileSync(bundledImage('chelsea.png')));
    const r = cli([
      '--content',
      input,
      '--output',
      join(dir, 'out.png'),
      '--save-every',
      '2',
      '--iterations',
      '4',
    ]);
    expect(r.code).to.equal(1);
    expect(r.err[0]).to.match(/out_2\.png is an input file/);
  });

  it('runs coarse to fine with --octaves, ending at the requested size', () => {
    const output = join(dir, 'oct.png');
    const r = cli(['--size', '64', '--octaves', '2', '--iterations', '2', '--output', output]);
    expect(r.code, r.err.join('\n')).to.equal(0);
    expect(readImage(output).shape).to.deep.equal([3, 43, 64]);
  });

  it('names a missing image file', () => {
    const r = cli(['--content', join(dir, 'nope.png'), '--output', join(dir, 'o.png')]);
    expect(r.code).to.equal(1);
    expect(r.err[0]).to.match(/nope\.png: no such file/);
  });

  it('names a corrupt image file', () => {
    const bad = join(dir, 'bad.png');
    writeFileSync(bad, 'not an image at all');
    const r = cli(['--style', bad, '--output', join(dir, 'o.png')]);
    expect(r.code).to.equal(1);
    expect(r.err[0]).to.include('bad.png');
  });

  it('refuses an absurd size unless forced', () => {
    const r = cli(['--size', '4000', '--output', join(dir, 'o.png')]);
    expect(r.code).to.equal(1);
    expect(r.err[0]).to.match(/--force/);
  });

  it('names a corrupt weights file', () => {
    const bad = join(dir, 'vgg.caffemodel');
    writeFileSync(bad, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
    const r = cli(['--weights', bad, '--output', join(dir, 'o.png')]);
    expect(r.code).to.equal(1);
    expect(r.err[0]).to.include('vgg.caffemodel');
  });

  for (const [format, file, bytes] of [
    ['Caffe', 'vgg.caffemodel', tinyCaffeModel],
    ['safetensors', 'vgg.safetensors', tinyStateDict],
  ] as const) {
    it(`runs end to end on a tiny generated ${format} VGG-19 file`, () => {
      const weights = join(dir, file);
      writeFileSync(weights, bytes());
      const output = join(dir, 'vgg.png');
      const r = cli([
        ...['--weights', weights, '--size', '20', '--iterations', '2', '--output', output],
        ...['--content-layers', 'relu2_1', '--style-layers', 'relu1_1,relu2_1'],
      ]);
      expect(r.code, r.err.join('\n')).to.equal(0);
      expect(r.err[0]).to.include(`VGG-19 from ${weights}`);
      expect(readImage(output).shape).to.deep.equal([3, 13, 20]);
    });
  }
});
