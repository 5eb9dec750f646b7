// Tests for the ONNX reader and writer: a Conv/Relu/MaxPool/Gemm graph with attributes of every
// type and float initializers (raw_data and float_data) round-trips exactly; hand-assembled bytes
// check the onnx.proto field numbers independently of the writer; damaged files raise FormatError.

import { expect } from 'chai';
import {
  FormatError,
  ProtoWriter,
  encodeOnnxModel,
  parseOnnxModel,
  readOnnxModel,
} from '../../../lib/style/formats/index.js';
import type {
  OnnxAttribute,
  OnnxGraph,
  OnnxModel,
  OnnxTensor,
} from '../../../lib/style/formats/index.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { indexOfBytes, memorySource, outcome, seededFloats, withTempDir } from './fixtures.js';

const rand = seededFloats(33);

function attrs(entries: [string, OnnxAttribute][]): Map<string, OnnxAttribute> {
  return new Map(entries);
}

function floatTensor(name: string, dims: number[]): OnnxTensor {
  return { name, dims, dataType: 'FLOAT', data: rand(dims.reduce((a, b) => a * b, 1)) };
}

const thenBranch: OnnxGraph = {
  name: 'then',
  nodes: [
    {
      name: 'id',
      opType: 'Identity',
      domain: '',
      inputs: ['p1'],
      outputs: ['t'],
      attributes: new Map(),
    },
  ],
  initializers: new Map(),
  inputs: [],
  outputs: [{ name: 't', elemType: 'FLOAT', shape: null }],
  valueInfo: [],
};

/** x [N, 3, 8, 8] → Conv 3×3 pad 1 → Relu → MaxPool 2×2 → Reshape [N, 64] → Gemm → y [N, 10]. */
function tinyModel(): OnnxModel {
  const initializers: OnnxTensor[] = [
    floatTensor('W', [4, 3, 3, 3]),
    floatTensor('B', [4]),
    floatTensor('Wfc', [10, 64]),
    floatTensor('Bfc', [10]),
    { name: 'shape', dims: [2], dataType: 'INT64', data: [-1, 64] },
    { name: 'ids', dims: [3], dataType: 'INT32', data: [7, -8, 9] },
    { name: 'half', dims: [3], dataType: 'FLOAT16', data: Float32Array.from([1.5, -2, 0.25]) },
  ];
  return {
    irVersion: 8,
    producerName: 'nnzero-test',
    producerVersion: '0.1',
    domain: 'org.nnzero',
    modelVersion: 3,
    docString: 'tiny test net',
    opsetImports: [
      { domain: '', version: 13 },
      { domain: 'org.nnzero', version: 1 },
    ],
    metadata: { author: 'test' },
    graph: {
      name: 'tiny',
      nodes: [
        {
          name: 'conv1',
          opType: 'Conv',
          domain: '',
          inputs: ['x', 'W', 'B'],
          outputs: ['c1'],
          attributes: attrs([
            ['auto_pad', { type: 'STRING', value: 'NOTSET' }],
            ['group', { type: 'INT', value: 1 }],
            ['kernel_shape', { type: 'INTS', value: [3, 3] }],
            ['pads', { type: 'INTS', value: [1, 1, 1, 1] }],
            ['strides', { type: 'INTS', value: [1, 1] }],
          ]),
        },
        {
          name: 'relu1',
          opType: 'Relu',
          domain: '',
          inputs: ['c1'],
          outputs: ['r1'],
          attributes: new Map(),
        },
        {
          name: 'pool1',
          opType: 'MaxPool',
          domain: '',
          inputs: ['r1'],
          outputs: ['p1'],
          attributes: attrs([
            ['kernel_shape', { type: 'INTS', value: [2, 2] }],
            ['strides', { type: 'INTS', value: [2, 2] }],
          ]),
        },
        {
          name: 'flat',
          opType: 'Reshape',
          domain: '',
          inputs: ['p1', 'shape'],
          outputs: ['f1'],
          attributes: new Map(),
        },
        {
          name: 'fc',
          opType: 'Gemm',
          domain: '',
          inputs: ['f1', 'Wfc', 'Bfc'],
          outputs: ['y'],
          attributes: attrs([
            ['alpha', { type: 'FLOAT', value: 1 }],
            ['beta', { type: 'FLOAT', value: 0.5 }],
            ['transB', { type: 'INT', value: 1 }],
          ]),
        },
        {
          name: 'const',
          opType: 'Constant',
          domain: '',
          inputs: [],
          outputs: ['k'],
          attributes: attrs([['value', { type: 'TENSOR', value: floatTensor('', [2, 2]) }]]),
        },
        {
          name: 'note',
          opType: 'Annotate',
          domain: 'org.nnzero',
          inputs: ['y'],
          outputs: ['z'],
          attributes: attrs([
            ['weights', { type: 'FLOATS', value: [0.5, -0.25, 3] }],
            ['labels', { type: 'STRINGS', value: ['cat', 'dog'] }],
            ['offset', { type: 'INT', value: -5 }],
            ['branch', { type: 'GRAPH', value: thenBranch }],
            ['branches', { type: 'GRAPHS', value: [thenBranch] }],
            [
              'tables',
              { type: 'TENSORS', value: [floatTensor('t0', [2]), floatTensor('t1', [1])] },
            ],
          ]),
        },
      ],
      initializers: new Map(initializers.map((t) => [t.name, t])),
      inputs: [{ name: 'x', elemType: 'FLOAT', shape: ['N', 3, 8, 8] }],
      outputs: [
        { name: 'y', elemType: 'FLOAT', shape: ['N', 10] },
        { name: 'z', elemType: null, shape: null },
      ],
      valueInfo: [{ name: 'c1', elemType: 'FLOAT', shape: ['N', 4, null, 8] }],
    },
  };
}

describe('ONNX', () => {
  const model = tinyModel();

  for (const floatStorage of ['raw_data', 'float_data'] as const) {
    it(`reads back the whole model exactly with float tensors in ${floatStorage}`, () => {
      const read = parseOnnxModel(encodeOnnxModel(model, { floatStorage }));
      expect(read).to.deep.equal(model);
      const w = read.graph.initializers.get('W');
      expect(w?.data).to.be.instanceOf(Float32Array);
      expect(read.graph.initializers.get('half')?.data).to.be.instanceOf(Float32Array);
    });
  }

  it('reads hand-assembled bytes: ir_version 1, graph 7 (node 1: input 1, output 2, op_type 4), opset 8', () => {
    const bytes = Uint8Array.from([
      0x08,
      0x07, // ir_version = 7
      0x3a,
      0x11, // graph, 17 bytes
      0x0a,
      0x0c, // node, 12 bytes
      0x0a,
      0x01,
      0x78, // input "x"
      0x12,
      0x01,
      0x79, // output "y"
      0x22,
      0x04,
      0x52,
      0x65,
      0x6c,
      0x75, // op_type "Relu"
      0x12,
      0x01,
      0x67, // graph name "g"
      0x42,
      0x02,
      0x10,
      0x0d, // opset_import { version = 13 }
    ]);
    const read = parseOnnxModel(bytes);
    expect(read.irVersion).to.equal(7);
    expect(read.opsetImports).to.deep.equal([{ domain: '', version: 13 }]);
    expect(read.graph.name).to.equal('g');
    expect(read.graph.nodes).to.deep.equal([
      {
        name: '',
        opType: 'Relu',
        domain: '',
        inputs: ['x'],
        outputs: ['y'],
        attributes: new Map(),
      },
    ]);
  });

  it('infers attribute types in IR version 1 files, which have no type field', () => {
    const attribute = new ProtoWriter().string(1, 'kernel_shape').int(8, 3).int(8, 3);
    const node = new ProtoWriter().string(4, 'Conv').message(5, attribute);
    const bytes = new ProtoWriter()
      .int(1, 1)
      .message(7, new ProtoWriter().message(1, node))
      .finish();
    expect(parseOnnxModel(bytes).graph.nodes[0]?.attributes.get('kernel_shape')).to.deep.equal({
      type: 'INTS',
      value: [3, 3],
    });
  });

  it('returns FLOAT raw_data as a view on the file when it is 4-byte aligned, else a copy', () => {
    const encoded = encodeOnnxModel(model);
    const w = model.graph.initializers.get('W')?.data as Float32Array;
    const raw = new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
    const at = encoded.findIndex((_, i) => raw.every((b, j) => encoded[i + j] === b));
    const seen = new Set<boolean>();
    for (const shift of [0, 1, 2, 3]) {
      const bytes = new Uint8Array(new ArrayBuffer(encoded.length + 4), shift, encoded.length);
      bytes.set(encoded);
      const data = parseOnnxModel(bytes).graph.initializers.get('W')?.data as Float32Array;
      const aligned = (shift + at) % 4 === 0;
      expect(data.buffer === bytes.buffer, `shift ${shift}`).to.equal(aligned);
      expect(data).to.deep.equal(w);
      seen.add(aligned);
    }
    expect(seen.size).to.equal(2);
  });

  it('reads the model exactly as from bytes over a ByteSource, through windows of 1 byte to 64 KiB', () => {
    for (const floatStorage of ['raw_data', 'float_data'] as const) {
      const bytes = encodeOnnxModel(model, { floatStorage });
      for (const windowSize of [1, 3, 8, 64, undefined]) {
        const read = parseOnnxModel(memorySource(bytes, windowSize));
        expect(read, `${floatStorage}, window ${windowSize}`).to.deep.equal(model);
        const w = read.graph.initializers.get('Wfc')?.data as Float32Array;
        expect(w.buffer.byteLength).to.equal(w.byteLength); // an array of its own
      }
    }
  });

  it('leaves out the initializers `keep` rejects without reading their raw_data', () => {
    const bytes = encodeOnnxModel(model);
    const wfc = model.graph.initializers.get('Wfc')?.data as Float32Array;
    const at = indexOfBytes(bytes, new Uint8Array(wfc.buffer, wfc.byteOffset, wfc.byteLength));
    expect(at).to.be.above(0);
    const wfcBytesRead = (reads: [number, number][]): number =>
      reads.reduce(
        (s, [a, b]) => s + Math.max(0, Math.min(b, at + wfc.byteLength) - Math.max(a, at)),
        0,
      );
    const source = memorySource(bytes, 16);
    const read = parseOnnxModel(source, { keep: (name) => name !== 'Wfc' });
    expect([...read.graph.initializers.keys()]).to.deep.equal([
      'W',
      'B',
      'Bfc',
      'shape',
      'ids',
      'half',
    ]);
    expect(wfcBytesRead(source.reads)).to.be.below(16);
    // Negative control: kept, all 2560 bytes of Wfc are read.
    const all = memorySource(bytes, 16);
    parseOnnxModel(all);
    expect(wfcBytesRead(all.reads)).to.be.at.least(wfc.byteLength);
  });

  it('gives the same FormatError over a ByteSource as from bytes wherever the file is cut', () => {
    const bytes = encodeOnnxModel(model);
    const wrong: string[] = [];
    for (let cut = 1; cut < bytes.length; cut += 11) {
      const part = bytes.subarray(0, cut);
      const fromBytes = outcome(() => parseOnnxModel(part, { file: 'cut.onnx' }));
      const fromSource = outcome(() => parseOnnxModel(memorySource(part, 5), { file: 'cut.onnx' }));
      if (fromSource !== fromBytes) wrong.push(`cut at ${cut}: ${fromSource} ≠ ${fromBytes}`);
    }
    expect(wrong).to.deep.equal([]);
  });

  it('raises FormatError naming the file wherever the file is cut inside the graph', () => {
    const bytes = encodeOnnxModel(model);
    const wrong: string[] = [];
    for (let cut = 1; cut < bytes.length; cut += 11) {
      const result = outcome(() => parseOnnxModel(bytes.subarray(0, cut), { file: 'cut.onnx' }));
      if (!result.startsWith('cut.onnx: ')) wrong.push(`cut at ${cut}: ${result}`);
    }
    expect(wrong).to.deep.equal([]);
  });

  it('names the problem in garbage files, missing graphs and unsupported tensors', () => {
    const garbage = Uint8Array.from(seededFloats(8)(256), (v) => Math.floor((v + 1) * 128));
    expect(() => parseOnnxModel(garbage, { file: 'garbage.onnx' })).to.throw(
      FormatError,
      /^garbage\.onnx: /,
    );
    expect(() =>
      parseOnnxModel(new ProtoWriter().int(1, 7).finish(), { file: 'empty.onnx' }),
    ).to.throw(FormatError, /^empty\.onnx: no graph \(field 7\); is this an \.onnx model\?$/);
    const withTensor = (tensor: ProtoWriter) =>
      new ProtoWriter().message(7, new ProtoWriter().message(5, tensor)).finish();
    const external = new ProtoWriter().int(1, 2).int(2, 1).string(8, 'W').int(14, 1);
    expect(() => parseOnnxModel(withTensor(external), { file: 'big.onnx' })).to.throw(
      FormatError,
      /^big\.onnx: initializer 0 "W" keeps its data in an external file/,
    );
    const complex = new ProtoWriter().int(1, 1).int(2, 14).string(8, 'c').packedFloats(4, [1, 2]);
    expect(() => parseOnnxModel(withTensor(complex))).to.throw(
      FormatError,
      /"c" has data type COMPLEX64/,
    );
    const short = new ProtoWriter().int(1, 3).int(2, 1).string(8, 'W').packedFloats(4, [1, 2]);
    expect(() => parseOnnxModel(withTensor(short))).to.throw(
      FormatError,
      /initializer 0 "W": dims \[3\] need 3 values but the data holds 2/,
    );
    const huge = new ProtoWriter()
      .int(1, 1)
      .int(2, 7)
      .string(8, 'n')
      .bytes(9, new Uint8Array(8).fill(0x7f));
    expect(() => parseOnnxModel(withTensor(huge))).to.throw(
      FormatError,
      /does not fit in a double exactly/,
    );
    const sparse = new ProtoWriter()
      .message(7, new ProtoWriter().message(15, new ProtoWriter()))
      .finish();
    expect(() => parseOnnxModel(sparse)).to.throw(FormatError, /sparse initializers/);
  });

  it('readOnnxModel reads a path and names it in errors', () => {
    withTempDir((dir) => {
      const path = join(dir, 'tiny.onnx');
      writeFileSync(path, encodeOnnxModel(model));
      expect(readOnnxModel(path).graph.nodes.map((n) => n.opType)).to.deep.equal([
        'Conv',
        'Relu',
        'MaxPool',
        'Reshape',
        'Gemm',
        'Constant',
        'Annotate',
      ]);
      writeFileSync(path, new Uint8Array([0x3a, 0x40]));
      expect(() => readOnnxModel(path)).to.throw(
        FormatError,
        /tiny\.onnx: field 7 \(graph\) runs past end of file/,
      );
    });
  });
});
