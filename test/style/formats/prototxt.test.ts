// Tests for the text-format reader: the generic tree (nesting, repeated keys, comments, strings,
// enums, numbers, lists), the typed view of deploy.prototxt files in V2, V1 and old-input forms,
// weights merged in from a caffemodel by layer name, and syntax errors naming line and column.

import { expect } from 'chai';
import {
  FormatError,
  TextFormatError,
  mergeCaffeWeights,
  parseCaffeModel,
  parsePrototxt,
  parseTextFormat,
  readPrototxt,
} from '../../../lib/style/formats/index.js';
import type { FieldValue, Fields } from '../../../lib/style/formats/index.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tinyCaffeV2, tinyWeights, withTempDir } from './fixtures.js';

/** A deploy.prototxt for the tiny net of fixtures.ts, in the V2 `layer { }` form. */
const TINY_DEPLOY = `# The tiny test net (see fixtures.ts), as Caffe would print it.
name: "tiny"
layer {
  name: "data"  type: "Input"  top: "data"
  input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } }
}
layer {
  name: "conv1"
  type: "Convolution"
  bottom: "data"
  top: "conv1"
  param { lr_mult: 1 decay_mult: 1 }
  convolution_param {
    num_output: 4
    pad: 1
    kernel_size: 3
    weight_filler { type: "gaussian" std: 0.01 }
  }
}
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer {
  name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 }
}
layer {
  name: "norm1" type: "LRN" bottom: "pool1" top: "norm1"
  lrn_param { local_size: 3 alpha: 1e-4 beta: 0.75 k: 2.0 }
}
layer {
  name: "conv2" type: "Convolution" bottom: "norm1" top: "conv2"
  convolution_param {
    num_output: 6 kernel_h: 3 kernel_w: 1 pad_h: 1 pad_w: 0 stride_h: 2 stride_w: 1
    group: 2 bias_term: false
  }
}
layer {
  name: "drop" type: "Dropout" bottom: "conv2" top: "conv2"
  dropout_param { dropout_ratio: 0.25 }
  include { phase: TRAIN }
}
layer { name: "fc" type: "InnerProduct" bottom: "conv2" top: "fc" inner_product_param { num_output: 5 } }
layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
`;

function only(f: Fields, key: string): FieldValue {
  const list = f.get(key);
  expect(list, key).to.have.length(1);
  return (list as FieldValue[])[0] as FieldValue;
}

describe('parseTextFormat', () => {
  it('builds a tree of nested messages with repeated keys kept in order', () => {
    const tree = parseTextFormat('a: 1 b { c: 2 c: 3 d { e: "x" } } a: 4 b { }');
    expect(tree.get('a')).to.deep.equal([1, 4]);
    const b = tree.get('b') as Fields[];
    expect(b).to.have.length(2);
    expect((b[0] as Fields).get('c')).to.deep.equal([2, 3]);
    expect(only(only(b[0] as Fields, 'd') as Fields, 'e')).to.equal('x');
    expect((b[1] as Fields).size).to.equal(0);
  });

  it('reads numbers, strings with escapes, enums, booleans, lists and comments', () => {
    const tree = parseTextFormat(
      [
        'i: -12  # a comment',
        'f: 1.5e-3 g: .5 h: 2.f x: 0x1F',
        's: \'it\\\'s\' t: "tab\\there" u: "a" \'b\'  o: "\\101\\x42"',
        'e: MAX yes: true no: false',
        'n: -inf m: nan',
        'list: [1, 2, 3] empty: []',
        'angle < k: 1 >; semi: 2,',
      ].join('\n'),
    );
    expect(tree.get('i')).to.deep.equal([-12]);
    expect(tree.get('f')).to.deep.equal([1.5e-3]);
    expect(tree.get('g')).to.deep.equal([0.5]);
    expect(tree.get('h')).to.deep.equal([2]);
    expect(tree.get('x')).to.deep.equal([31]);
    expect(tree.get('s')).to.deep.equal(["it's"]);
    expect(tree.get('t')).to.deep.equal(['tab\there']);
    expect(tree.get('u')).to.deep.equal(['ab']);
    expect(tree.get('o')).to.deep.equal(['AB']);
    expect(tree.get('e')).to.deep.equal(['MAX']);
    expect(tree.get('yes')).to.deep.equal([true]);
    expect(tree.get('no')).to.deep.equal([false]);
    expect(tree.get('n')).to.deep.equal([-Infinity]);
    expect(Number.isNaN(only(tree, 'm'))).to.equal(true);
    expect(tree.get('list')).to.deep.equal([1, 2, 3]);
    expect(tree.get('empty')).to.deep.equal([]);
    expect(only(only(tree, 'angle') as Fields, 'k')).to.equal(1);
    expect(tree.get('semi')).to.deep.equal([2]);
  });

  it('ignores a byte-order mark and Windows line endings', () => {
    const tree = parseTextFormat('\uFEFFname: "x"\r\nlayer {\r\n  top: "y"\r\n}\r\n');
    expect(tree.get('name')).to.deep.equal(['x']);
    expect(only(only(tree, 'layer') as Fields, 'top')).to.equal('y');
  });

  for (const [source, line, column, what] of [
    [
      'layer {\n  name "conv1"\n}',
      2,
      8,
      /expected ":" or "\{" after field name "name", found string "conv1"/,
    ],
    ['layer {\n  name: "conv1\n}', 2, 9, /unterminated string/],
    ['layer {\n  name: "conv1"\n', 3, 1, /missing "\}" before end of file/],
    ['a: 1\nb: @', 2, 4, /unexpected character "@"/],
    ['a: 1\n}', 2, 1, /expected a field name, found "\}"/],
    ['a: [1, 2', 1, 9, /expected "," or "\]" in the list of "a"/],
  ] as const) {
    it(`names line ${line}, column ${column} for ${JSON.stringify(source)}`, () => {
      let error: unknown;
      try {
        parseTextFormat(source, 'deploy.prototxt');
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(TextFormatError);
      expect(error).to.be.instanceOf(FormatError);
      const e = error as TextFormatError;
      expect(e.message).to.match(
        new RegExp(`^deploy\\.prototxt: line ${line}, column ${column}: `),
      );
      expect(e.message).to.match(what);
      expect([e.line, e.column, e.file]).to.deep.equal([line, column, 'deploy.prototxt']);
    });
  }
});

describe('parsePrototxt', () => {
  it('maps a V2 deploy file to the same layer records as the caffemodel', () => {
    const weights = tinyWeights(11);
    const fromText = parsePrototxt(TINY_DEPLOY, 'tiny.prototxt');
    const fromBinary = parseCaffeModel(tinyCaffeV2(weights));
    expect(fromText.name).to.equal('tiny');
    expect(fromText.layers[0]?.params.input).to.deep.equal({ shapes: [[1, 3, 8, 8]] });
    const textLayers = fromText.layers.slice(1);
    expect(
      textLayers.map((l) => [l.name, l.type, l.bottoms, l.tops, l.params, l.phase]),
    ).to.deep.equal(
      fromBinary.layers.map((l) => [l.name, l.type, l.bottoms, l.tops, l.params, l.phase]),
    );
    expect(textLayers.every((l) => l.blobs.length === 0)).to.equal(true);
  });

  it('fills the definition with caffemodel weights matched by layer name', () => {
    const weights = tinyWeights(11);
    const net = mergeCaffeWeights(
      parsePrototxt(TINY_DEPLOY),
      parseCaffeModel(tinyCaffeV2(weights)),
    );
    const conv1 = net.layers.find((l) => l.name === 'conv1');
    expect(conv1?.blobs.map((b) => b.shape)).to.deep.equal([[4, 3, 3, 3], [4]]);
    expect(conv1?.blobs[0]?.data).to.deep.equal(weights.conv1[0]);
    expect(net.layers.find((l) => l.name === 'data')?.blobs).to.deep.equal([]);
  });

  it('reads the old input + input_dim ×4 form and V1 layers with enum types', () => {
    const net = parsePrototxt(`
      name: "VGG_ILSVRC_19_layers"
      input: "data"
      input_dim: 10 input_dim: 3 input_dim: 224 input_dim: 224
      layers { bottom: "data" top: "conv1_1" name: "conv1_1" type: CONVOLUTION
        convolution_param { num_output: 64 pad: 1 kernel_size: 3 } }
      layers { bottom: "conv1_1" top: "conv1_1" name: "relu1_1" type: RELU }
      layers { bottom: "conv1_1" top: "pool1" name: "pool1" type: POOLING
        pooling_param { pool: AVE kernel_size: 2 stride: 2 } }
      layers { bottom: "pool1" top: "fc6" name: "fc6" type: INNER_PRODUCT inner_product_param { num_output: 4096 } }
      layers { bottom: "fc6" top: "prob" name: "prob" type: SOFTMAX }
    `);
    expect(net.inputs).to.deep.equal([{ name: 'data', shape: [10, 3, 224, 224] }]);
    expect(net.layers.map((l) => l.type)).to.deep.equal([
      'Convolution',
      'ReLU',
      'Pooling',
      'InnerProduct',
      'Softmax',
    ]);
    expect(net.layers[0]?.params.convolution?.numOutput).to.equal(64);
    expect(net.layers[2]?.params.pooling?.pool).to.equal('AVE');
  });

  it('reads input_shape { dim } inputs and global pooling, concat, eltwise, batchnorm and scale', () => {
    const net = parsePrototxt(`
      input: "data" input_shape { dim: 1 dim: 3 dim: 32 dim: 32 }
      layer { name: "gap" type: "Pooling" bottom: "data" top: "gap" pooling_param { pool: AVE global_pooling: true } }
      layer { name: "cat" type: "Concat" bottom: "a" bottom: "b" top: "cat" }
      layer { name: "sum" type: "Eltwise" bottom: "a" bottom: "b" top: "sum" eltwise_param { operation: SUM coeff: 1 coeff: -1 } }
      layer { name: "bn" type: "BatchNorm" bottom: "a" top: "a" batch_norm_param { use_global_stats: true } }
      layer { name: "sc" type: "Scale" bottom: "a" top: "a" scale_param { bias_term: true } }
    `);
    expect(net.inputs).to.deep.equal([{ name: 'data', shape: [1, 3, 32, 32] }]);
    const [gap, cat, sum, bn, sc] = net.layers;
    expect(gap?.params.pooling).to.include({
      pool: 'AVE',
      globalPooling: true,
      kernelH: 0,
      kernelW: 0,
    });
    expect(cat?.params.concat).to.deep.equal({ axis: 1 });
    expect(cat?.bottoms).to.deep.equal(['a', 'b']);
    expect(sum?.params.eltwise).to.deep.equal({ operation: 'SUM', coeff: [1, -1] });
    expect(bn?.params.batchNorm).to.deep.equal({
      useGlobalStats: true,
      movingAverageFraction: Math.fround(0.999),
      eps: Math.fround(1e-5),
    });
    expect(sc?.params.scale).to.deep.equal({ axis: 1, numAxes: 1, biasTerm: true });
  });

  it('readPrototxt reads a file and names its path in syntax errors', () => {
    withTempDir((dir) => {
      const path = join(dir, 'deploy.prototxt');
      writeFileSync(path, TINY_DEPLOY);
      expect(readPrototxt(path).layers.map((l) => l.name)).to.include('conv2');
      writeFileSync(path, 'name: "x"\nlayer {\n  name: }\n');
      expect(() => readPrototxt(path)).to.throw(
        TextFormatError,
        /deploy\.prototxt: line 3, column 9: expected a value for "name", found "\}"/,
      );
    });
  });

  it('rejects input_dim counts that are not four per input, naming the file', () => {
    expect(() => parsePrototxt('input: "data" input_dim: 1 input_dim: 3', 'old.prototxt')).to.throw(
      FormatError,
      /^old\.prototxt: 1 input\(s\) need 4 input_dim values, found 2$/,
    );
  });

  it('rejects a parameter of the wrong kind, naming the layer', () => {
    expect(() =>
      parsePrototxt(
        'layer { name: "c" type: "Convolution" convolution_param { num_output: "many" } }',
        'bad.prototxt',
      ),
    ).to.throw(
      FormatError,
      /^bad\.prototxt: layer "c": num_output should be a number, got "many"$/,
    );
    expect(() =>
      parsePrototxt(
        'layer { name: "p" type: "Pooling" pooling_param { pool: MEDIAN } }',
        'bad.prototxt',
      ),
    ).to.throw(FormatError, /pool should be one of MAX, AVE, STOCHASTIC, got "MEDIAN"/);
  });
});
