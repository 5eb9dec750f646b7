import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, checkGradients, readImage, toArray, zeros } from '../../lib/core/index.js';
import {
  GOOGLENET_CONTENT_LAYERS,
  GOOGLENET_PREPROCESSING,
  GOOGLENET_STYLE_LAYERS,
  GOOGLENET_STYLE_WEIGHT,
  googlenetFeatureNet,
  googlenetNetwork,
  hasGooglenetLayers,
  importCaffe,
  importOnnx,
  importUntil,
  loadCaffeForTaps,
  type GraphFeatureNet,
} from '../../lib/pretrained/index.js';
import type { CaffeLayer } from '../../lib/style/formats/index.js';
import {
  StyleTransferLoss,
  bundledImage,
  parseArgs,
  preprocess,
  runCli,
  type FeatureNet,
  type StyleLossOptions,
} from '../../lib/style/index.js';
import {
  tinyGooglenetCaffemodel,
  tinyGooglenetOnnx,
  tinyGooglenetPrototxt,
} from './tiny-googlenet.js';
import { relativeDifference } from './helpers.js';

const TOOL_LAYERS: StyleLossOptions = {
  contentLayers: GOOGLENET_CONTENT_LAYERS,
  styleLayers: GOOGLENET_STYLE_LAYERS,
  styleWeight: GOOGLENET_STYLE_WEIGHT,
  statistic: 'gram',
  normalize: 'paper',
};

function caffeNet(seed: number, dtype: 'float32' | 'float64' = 'float32'): GraphFeatureNet {
  return googlenetFeatureNet(
    importCaffe(tinyGooglenetPrototxt(), tinyGooglenetCaffemodel(seed), { dtype }),
  );
}

// Content, style and start images: side ≥ 48 so every pool of the tiny GoogLeNet has pixels.
function images(seed: number, dtype: 'float32' | 'float64' = 'float64') {
  const rng = new Rng(seed);
  return {
    content: rng.fillUniform(zeros([3, 48, 52], dtype), 0.05, 0.95),
    style: rng.fillUniform(zeros([3, 56, 48], dtype), 0.05, 0.95),
    image: rng.fillUniform(zeros([3, 48, 52], dtype), 0.05, 0.95),
  };
}

describe('GraphFeatureNet (an imported GoogLeNet as a style-transfer feature net)', () => {
  it('taps the Caffe file by blob name and the ONNX zoo file by the same names, with equal features', () => {
    const caffe = caffeNet(1);
    const onnx = googlenetFeatureNet(importOnnx(tinyGooglenetOnnx(1)));
    expect(hasGooglenetLayers(caffe)).to.equal(true);
    expect(hasGooglenetLayers(onnx)).to.equal(true);
    // In Caffe a blob after its in-place ReLU keeps its name; the zoo names the ReLU's output.
    expect(onnx.nodeOf('conv2/3x3')).to.equal(onnx.nodeOf('conv2/relu_3x3_1'));
    expect(caffe.layerNames).to.not.include('data');
    const x = preprocess(images(2, 'float32').content, GOOGLENET_PREPROCESSING);
    const taps = GOOGLENET_STYLE_LAYERS.map((l) => l.layer);
    const a = caffe.forward(x, taps);
    const b = onnx.forward(x, taps);
    for (const t of taps) expect(relativeDifference(a.get(t)!, b.get(t)!), t).to.be.below(1e-6);
    expect(a.get('inception_5a/output')!.shape).to.deep.equal([1, 9, 1, 1]);
  });

  it('reads the tool’s input: BGR, 0–255, minus the ILSVRC 2012 mean pixel', () => {
    const rgb = zeros([3, 1, 1]);
    rgb.data.set([1, 0.5, 0]);
    const x = toArray(preprocess(rgb, GOOGLENET_PREPROCESSING, 'float64'));
    expect(x[0]).to.be.closeTo(0 - 104.00698793, 1e-9); // B
    expect(x[1]).to.be.closeTo(127.5 - 116.66876762, 1e-9); // G
    expect(x[2]).to.be.closeTo(255 - 122.67891434, 1e-9); // R
  });

  it('refuses a layer the network does not have, naming it and listing the ones it has', () => {
    const { content, style } = images(3, 'float32');
    expect(
      () =>
        new StyleTransferLoss(caffeNet(1), content, [{ image: style, weight: 1 }], {
          ...TOOL_LAYERS,
          styleLayers: [{ layer: 'inception_9z/output', weight: 1 }],
        }),
    ).to.throw(/unknown layer 'inception_9z\/output'.*conv1\/7x7_s2.*inception_5a\/output/);
  });

  it('says which input size does not reach the taps', () => {
    const x = preprocess(new Rng(1).fillUniform(zeros([3, 40, 40])), GOOGLENET_PREPROCESSING);
    expect(() => caffeNet(1).forward(x, ['inception_5a/output'])).to.throw(
      /an input of 40×40 px does not reach inception_5a\/output/,
    );
  });

  // A wrong backward must fail the check below: here the gradient of the first tap is lost, the
  // mistake a graph makes when it overwrites instead of adding at fan-out.
  function dropFirstTap(net: FeatureNet): FeatureNet {
    return {
      preprocessing: net.preprocessing,
      layerNames: net.layerNames,
      forward: (x, taps) => net.forward(x, taps),
      backward: (g) => net.backward(new Map([...g].filter(([name]) => name !== 'conv1/7x7_s2'))),
    };
  }

  for (const [label, wrap, pass] of [
    ['matches', (n: FeatureNet) => n, true],
    ['(negative control: a tap gradient dropped) does not match', dropFirstTap, false],
  ] as const) {
    it(`the style-transfer gradient down to the pixels through the Graph ${label} the numerical gradient (float64, the tool's five layers)`, () => {
      const { content, style, image } = images(4);
      const net = wrap(caffeNet(5, 'float64'));
      const loss = new StyleTransferLoss(net, content, [{ image: style, weight: 1 }], {
        ...TOOL_LAYERS,
        tvWeight: 0.5,
        dtype: 'float64',
      });
      const dImage = zeros(image.shape);
      loss.evaluate(image, dImage);
      const r = checkGradients(
        () => loss.evaluate(image).total,
        [{ name: 'image', value: image, grad: dImage }],
        { sample: 40 },
      );
      if (pass) expect(r.maxError).to.be.below(1e-5, r.describe());
      else expect(r.maxError).to.be.above(1e-2, r.describe());
    });
  }

  it('leaves the weights’ gradients untouched (the graph is frozen)', () => {
    const { content, style, image } = images(6);
    const net = caffeNet(7, 'float64');
    const loss = new StyleTransferLoss(net, content, [{ image: style, weight: 1 }], {
      ...TOOL_LAYERS,
      dtype: 'float64',
    });
    loss.evaluate(image, zeros(image.shape));
    const params = net.graph.params();
    expect(params.length).to.be.above(0);
    for (const p of params)
      expect(
        toArray(p.grad).every((v) => v === 0),
        p.name,
      ).to.equal(true);
  });
});

describe('importUntil', () => {
  const layer = (name: string, bottoms: string[]): CaffeLayer => ({
    name,
    type: 'ReLU',
    bottoms,
    tops: [name],
    blobs: [],
    params: {},
    phase: null,
  });

  it('stops at the last tap when the layers it needs write every tap (a chain)', () => {
    const layers = [layer('a', ['data']), layer('b', ['a']), layer('c', ['b'])];
    expect(importUntil(layers, ['b', 'a'])).to.equal('b');
  });

  it('imports everything when the last tap does not need the others (two branches)', () => {
    const layers = [layer('a', ['data']), layer('b', ['data']), layer('c', ['b'])];
    expect(importUntil(layers, ['a', 'b'])).to.equal(undefined);
  });

  it('leaves GoogLeNet’s classifier out for the tool’s layers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nnzero-gnet-'));
    try {
      writeFileSync(join(dir, 'deploy.prototxt'), tinyGooglenetPrototxt());
      writeFileSync(join(dir, 'g.caffemodel'), tinyGooglenetCaffemodel(1));
      const taps = GOOGLENET_STYLE_LAYERS.map((l) => l.layer);
      const { graph } = loadCaffeForTaps(
        join(dir, 'deploy.prototxt'),
        join(dir, 'g.caffemodel'),
        taps,
      );
      const names = graph.nodes.map((n) => n.name);
      expect(names).to.include('inception_5a/output');
      expect(names).to.not.include('loss3/classifier');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('nnzero-style with GoogLeNet', () => {
  const networks = [googlenetNetwork];
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nnzero-gnet-style-'));
    writeFileSync(join(dir, 'deploy.prototxt'), tinyGooglenetPrototxt());
    writeFileSync(join(dir, 'bvlc_googlenet.caffemodel'), tinyGooglenetCaffemodel(1));
    writeFileSync(join(dir, 'googlenet.onnx'), tinyGooglenetOnnx(1));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function cli(args: string[]): { code: number; out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const code = runCli(args, { ...io, progress: 'silent' }, { networks });
    return { code, out, err };
  }

  it('picks the network by the weight files; with none, or VGG’s, nothing changes', () => {
    const caffe = ['--weights', 'g.caffemodel', '--proto', 'deploy.prototxt'];
    expect(parseArgs([], networks)).to.deep.equal(parseArgs([]));
    expect(parseArgs(['--weights', 'vgg.caffemodel'], networks)).to.deep.equal(
      parseArgs(['--weights', 'vgg.caffemodel']),
    );
    expect(parseArgs(['--weights', 'vgg.caffemodel'], networks).network).to.equal('VGG-19');
    for (const args of [caffe, ['--weights', 'g.onnx']]) {
      const o = parseArgs(args, networks);
      expect(o.network).to.equal('GoogLeNet');
      expect(o.contentLayers).to.deep.equal(GOOGLENET_CONTENT_LAYERS);
      expect(o.styleLayers).to.deep.equal(GOOGLENET_STYLE_LAYERS);
      expect([o.styleWeight, o.tvWeight, o.statistic, o.normalize, o.pooling]).to.deep.equal([
        1e4,
        0,
        'gram',
        'paper',
        undefined,
      ]);
    }
    expect(() => parseArgs([...caffe, '--pooling', 'avg'], networks)).to.throw(
      /GoogLeNet keeps the pooling of its file/,
    );
    expect(() => parseArgs(['--proto', 'deploy.prototxt'], networks)).to.throw(/needs --weights/);
    expect(() => parseArgs(caffe)).to.throw(/no network here reads/);
  });

  for (const [format, weights] of [
    ['Caffe', ['--weights', 'bvlc_googlenet.caffemodel', '--proto', 'deploy.prototxt']],
    ['ONNX', ['--weights', 'googlenet.onnx']],
  ] as const) {
    it(`stylizes end to end on a tiny generated ${format} GoogLeNet, lowering the loss and writing the PNG atomically`, () => {
      const output = join(dir, 'out.png');
      const r = cli([
        bundledImage('chelsea.png'),
        bundledImage('starry_night.png'),
        ...['-o', output, '--size', '80', '--iterations', '4'],
        ...weights.map((w) => (w.startsWith('--') ? w : join(dir, w))),
      ]);
      expect(r.code, r.err.join('\n')).to.equal(0);
      expect(r.err[0]).to.include(`GoogLeNet (${format}) from ${join(dir, weights[1])}`);
      const result = JSON.parse(r.out[r.out.length - 1]!) as Record<string, number>;
      // Random weights at Caffe's 0–255 scale give a steep, box-bound start: 4 iterations lower
      // the loss by about 8%.
      expect(result['finalLoss']).to.be.below(0.95 * result['initialLoss']!);
      expect(readImage(output).shape).to.deep.equal([3, 53, 80]);
      // Written through a temporary file and a rename: nothing else is left in the folder.
      expect(readdirSync(dir).sort()).to.deep.equal(
        ['bvlc_googlenet.caffemodel', 'deploy.prototxt', 'googlenet.onnx', 'out.png'].sort(),
      );
    });
  }

  it('refuses an unknown layer naming it and listing the blobs, before reading the weights', () => {
    const r = cli([
      ...['--weights', join(dir, 'missing.caffemodel'), '--proto', join(dir, 'deploy.prototxt')],
      ...['--style-layers', 'inception_9z/output', '-o', join(dir, 'o.png')],
    ]);
    expect(r.code).to.equal(1);
    expect(r.err.join('\n')).to.match(
      /unknown layer 'inception_9z\/output'; .*deploy\.prototxt has the blobs: conv1\/7x7_s2, .*inception_5a\/output/,
    );
  });

  it('refuses an unknown layer of an ONNX file, listing its values and the tool’s names', () => {
    const r = cli([
      ...['--weights', join(dir, 'googlenet.onnx'), '--content-layers', 'conv9'],
      ...['-o', join(dir, 'o.png')],
    ]);
    expect(r.code).to.equal(1);
    expect(r.err.join('\n')).to.match(/unknown layer 'conv9'; .*conv2\/relu_3x3_1, conv2\/3x3,/);
  });

  it('never overwrites the prototxt', () => {
    const proto = join(dir, 'deploy.prototxt');
    const r = cli([
      '--weights',
      join(dir, 'bvlc_googlenet.caffemodel'),
      '--proto',
      proto,
      '-o',
      proto,
    ]);
    expect(r.code).to.equal(1);
    expect(r.err[0]).to.match(/deploy\.prototxt is an input file/);
  });
});
