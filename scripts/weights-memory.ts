// Measures what loading a large weights file costs: writes a synthetic VGG-19 (the real files'
// layer names and shapes, 575 MB as a .caffemodel, 548 MB as an .onnx) without holding it in
// memory, then loads it in one of several ways and prints one JSON line: load time and
// process.memoryUsage() right after the load. Run each mode in a fresh process under
// `/usr/bin/time -v` for the peak RSS. Not a test: nothing here is timed in `npm test`.
//
//   npx tsx scripts/weights-memory.ts generate DIR
//   /usr/bin/time -v node --expose-gc --import tsx scripts/weights-memory.ts caffe-conv DIR
//     (also none: the baseline; caffe-net, style-conv (nnzero-style's loadVgg19), onnx-conv,
//     onnx-net)
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ProtoWriter } from '../lib/style/formats/index.js';
import { loadCaffe, loadOnnx } from '../lib/pretrained/index.js';
import { loadVgg19 } from '../lib/style/index.js';

const BLOCKS = [
  [64, 64],
  [128, 128],
  [256, 256, 256, 256],
  [512, 512, 512, 512],
  [512, 512, 512, 512],
];

interface Weighted {
  readonly name: string;
  readonly kind: 'conv' | 'fc';
  readonly weight: number[];
  readonly bias: number[];
}

// VGG-19's weighted layers with the shapes of VGG_ILSVRC_19_layers.caffemodel.
function vgg19Layers(): Weighted[] {
  const out: Weighted[] = [];
  let C = 3;
  BLOCKS.forEach((block, b) =>
    block.forEach((F, i) => {
      out.push({ name: `conv${b + 1}_${i + 1}`, kind: 'conv', weight: [F, C, 3, 3], bias: [F] });
      C = F;
    }),
  );
  out.push({ name: 'fc6', kind: 'fc', weight: [4096, 512 * 7 * 7], bias: [4096] });
  out.push({ name: 'fc7', kind: 'fc', weight: [4096, 4096], bias: [4096] });
  out.push({ name: 'fc8', kind: 'fc', weight: [1000, 4096], bias: [1000] });
  return out;
}

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

// Tag and length of a LEN field whose payload follows.
function lenPrefix(field: number, length: number): Uint8Array {
  return Uint8Array.from([...varint(field * 8 + 2), ...varint(length)]);
}

// Small deterministic values (the numbers do not matter here, only that they are real bytes).
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (((i * 2654435761 + seed) >>> 0) % 1000) * 1e-6 - 5e-4;
  return out;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const bytesOf = (f: Float32Array): Uint8Array =>
  new Uint8Array(f.buffer, f.byteOffset, f.byteLength);

/** A file written piece by piece, so no piece needs the others in memory. */
class Out {
  readonly #fd: number;
  constructor(path: string) {
    this.#fd = openSync(path, 'w');
  }
  write(b: Uint8Array): void {
    let at = 0;
    while (at < b.length) at += writeSync(this.#fd, b, at, b.length - at);
  }
  close(): void {
    closeSync(this.#fd);
  }
}

// V2 NetParameter: layer = 100 → LayerParameter { name 1, type 2, bottom 3, top 4, blobs 7 }
// → BlobProto { shape 7 → BlobShape { dim 1 (packed) }, data 5 (packed float) }.
function writeCaffe(path: string, layers: readonly Weighted[]): void {
  const out = new Out(path);
  out.write(new ProtoWriter().string(1, 'VGG_ILSVRC_19_layers').finish());
  let previous = 'data';
  layers.forEach((l, k) => {
    const head = new ProtoWriter()
      .string(1, l.name)
      .string(2, l.kind === 'conv' ? 'Convolution' : 'InnerProduct')
      .string(3, previous)
      .string(4, l.name)
      .finish();
    previous = l.name;
    const blobs = [l.weight, l.bias].map((shape, j) => {
      const shapeField = new ProtoWriter()
        .message(7, new ProtoWriter().packedVarints(1, shape))
        .finish();
      const data = values(size(shape), 2 * k + j);
      const dataPrefix = lenPrefix(5, data.byteLength);
      const length = shapeField.length + dataPrefix.length + data.byteLength;
      return { prefix: lenPrefix(7, length), shapeField, dataPrefix, data, length };
    });
    const layerLength = head.length + blobs.reduce((s, b) => s + b.prefix.length + b.length, 0);
    out.write(lenPrefix(100, layerLength));
    out.write(head);
    for (const b of blobs) {
      out.write(b.prefix);
      out.write(b.shapeField);
      out.write(b.dataPrefix);
      out.write(bytesOf(b.data));
    }
  });
  out.close();
}

// The deploy.prototxt of VGG_ILSVRC_19_layers (V2 syntax), in-place ReLUs as in the original.
function vgg19Prototxt(): string {
  const lines = ['name: "VGG_ILSVRC_19_layers"', 'input: "data"'];
  lines.push('input_shape { dim: 1 dim: 3 dim: 224 dim: 224 }');
  let bottom = 'data';
  const layer = (body: string): void => void lines.push(`layer { ${body} }`);
  BLOCKS.forEach((block, b) => {
    block.forEach((F, i) => {
      const name = `conv${b + 1}_${i + 1}`;
      layer(
        `name: "${name}" type: "Convolution" bottom: "${bottom}" top: "${name}" ` +
          `convolution_param { num_output: ${F} pad: 1 kernel_size: 3 }`,
      );
      layer(`name: "relu${b + 1}_${i + 1}" type: "ReLU" bottom: "${name}" top: "${name}"`);
      bottom = name;
    });
    layer(
      `name: "pool${b + 1}" type: "Pooling" bottom: "${bottom}" top: "pool${b + 1}" ` +
        'pooling_param { pool: MAX kernel_size: 2 stride: 2 }',
    );
    bottom = `pool${b + 1}`;
  });
  for (const [name, F] of [
    ['fc6', 4096],
    ['fc7', 4096],
    ['fc8', 1000],
  ] as const) {
    layer(
      `name: "${name}" type: "InnerProduct" bottom: "${bottom}" top: "${name}" ` +
        `inner_product_param { num_output: ${F} }`,
    );
    bottom = name;
    if (name !== 'fc8') {
      layer(`name: "relu${name.slice(2)}" type: "ReLU" bottom: "${name}" top: "${name}"`);
      layer(
        `name: "drop${name.slice(2)}" type: "Dropout" bottom: "${name}" top: "${name}" ` +
          'dropout_param { dropout_ratio: 0.5 }',
      );
    }
  }
  layer('name: "prob" type: "Softmax" bottom: "fc8" top: "prob"');
  return lines.join('\n') + '\n';
}

// ONNX ModelProto { ir_version 1, producer_name 2, graph 7, opset_import 8 } with a GraphProto
// { node 1, name 2, initializer 5, input 11, output 12 }, as torch.onnx.export writes VGG-19:
// Conv/Relu/MaxPool, Flatten, Gemm (transB = 1) with Relu and Dropout between.
function writeOnnx(path: string, layers: readonly Weighted[]): void {
  const attrInts = (name: string, v: number[]): ProtoWriter => {
    const a = new ProtoWriter().string(1, name).int(20, 7);
    for (const x of v) a.int(8, x);
    return a;
  };
  const attrInt = (name: string, v: number): ProtoWriter =>
    new ProtoWriter().string(1, name).int(20, 2).int(3, v);
  const node = (op: string, inputs: string[], output: string, attrs: ProtoWriter[] = []) => {
    const n = new ProtoWriter();
    for (const i of inputs) n.string(1, i);
    n.string(2, output).string(3, output).string(4, op);
    for (const a of attrs) n.message(5, a);
    return n.finish();
  };
  const nodes: Uint8Array[] = [];
  let x = 'data';
  let k = 0;
  BLOCKS.forEach((block, b) => {
    block.forEach((_, i) => {
      const name = layers[k++]!.name;
      nodes.push(
        node('Conv', [x, `${name}.weight`, `${name}.bias`], name, [
          attrInts('kernel_shape', [3, 3]),
          attrInts('pads', [1, 1, 1, 1]),
          attrInts('strides', [1, 1]),
        ]),
      );
      nodes.push(node('Relu', [name], `relu${b + 1}_${i + 1}`));
      x = `relu${b + 1}_${i + 1}`;
    });
    nodes.push(
      node('MaxPool', [x], `pool${b + 1}`, [
        attrInts('kernel_shape', [2, 2]),
        attrInts('strides', [2, 2]),
      ]),
    );
    x = `pool${b + 1}`;
  });
  nodes.push(node('Flatten', [x], 'flatten', [attrInt('axis', 1)]));
  x = 'flatten';
  for (const name of ['fc6', 'fc7', 'fc8']) {
    nodes.push(node('Gemm', [x, `${name}.weight`, `${name}.bias`], name, [attrInt('transB', 1)]));
    x = name;
    if (name !== 'fc8') {
      nodes.push(node('Relu', [x], `relu${name.slice(2)}`));
      nodes.push(node('Dropout', [`relu${name.slice(2)}`], `drop${name.slice(2)}`));
      x = `drop${name.slice(2)}`;
    }
  }
  const valueInfo = (name: string, dims: number[]): Uint8Array => {
    const shape = new ProtoWriter();
    for (const d of dims) shape.message(1, new ProtoWriter().int(1, d));
    const tensorType = new ProtoWriter().int(1, 1).message(2, shape);
    return new ProtoWriter()
      .string(1, name)
      .message(2, new ProtoWriter().message(1, tensorType))
      .finish();
  };
  const tail = [
    lenPrefix(11, 0),
    valueInfo('data', [1, 3, 224, 224]),
    lenPrefix(12, 0),
    valueInfo(x, [1, 1000]),
  ];
  // The two LEN prefixes above are placeholders: rebuild them with the real lengths.
  tail[0] = lenPrefix(11, tail[1]!.length);
  tail[2] = lenPrefix(12, tail[3]!.length);
  const initializers = layers.flatMap((l, j) =>
    (['weight', 'bias'] as const).map((part, p) => {
      const shape = part === 'weight' ? l.weight : l.bias;
      const head = new ProtoWriter();
      for (const d of shape) head.int(1, d);
      head.int(2, 1).string(8, `${l.name}.${part}`);
      const headBytes = head.finish();
      const data = values(size(shape), 2 * j + p);
      const rawPrefix = lenPrefix(9, data.byteLength);
      const length = headBytes.length + rawPrefix.length + data.byteLength;
      return { prefix: lenPrefix(5, length), headBytes, rawPrefix, data, length };
    }),
  );
  const nodeBytes = nodes.map((n) => [lenPrefix(1, n.length), n]).flat();
  const nameField = new ProtoWriter().string(2, 'vgg19').finish();
  const graphLength =
    nodeBytes.reduce((s, b) => s + b.length, 0) +
    nameField.length +
    initializers.reduce((s, t) => s + t.prefix.length + t.length, 0) +
    tail.reduce((s, b) => s + b.length, 0);
  const out = new Out(path);
  out.write(new ProtoWriter().int(1, 7).string(2, 'nnzero synthetic').finish());
  out.write(lenPrefix(7, graphLength));
  for (const b of nodeBytes) out.write(b);
  out.write(nameField);
  for (const t of initializers) {
    out.write(t.prefix);
    out.write(t.headBytes);
    out.write(t.rawPrefix);
    out.write(bytesOf(t.data));
  }
  for (const b of tail) out.write(b);
  out.write(new ProtoWriter().message(8, new ProtoWriter().int(2, 11)).finish());
  out.close();
}

function mb(n: number): number {
  return Math.round(n / 1e5) / 10;
}

function main(): void {
  const [mode, dir] = process.argv.slice(2);
  if (mode === undefined || dir === undefined) {
    throw new Error(
      'usage: weights-memory.ts generate|none|caffe-conv|caffe-net|style-conv|onnx-conv|onnx-net DIR',
    );
  }
  const caffemodel = join(dir, 'vgg19.caffemodel');
  const prototxt = join(dir, 'vgg19_deploy.prototxt');
  const onnx = join(dir, 'vgg19.onnx');
  if (mode === 'generate') {
    const layers = vgg19Layers();
    writeCaffe(caffemodel, layers);
    writeFileSync(prototxt, vgg19Prototxt());
    writeOnnx(onnx, layers);
    return;
  }
  const before = process.memoryUsage();
  const start = performance.now();
  let kept: unknown;
  if (mode === 'none') kept = null;
  else if (mode === 'caffe-conv') kept = loadCaffe(prototxt, caffemodel, { until: 'conv5_4' });
  else if (mode === 'caffe-net') kept = loadCaffe(prototxt, caffemodel);
  else if (mode === 'style-conv') kept = loadVgg19(caffemodel);
  else if (mode === 'onnx-conv') kept = loadOnnx(onnx, { until: 'conv5_4' });
  else if (mode === 'onnx-net') kept = loadOnnx(onnx);
  else throw new Error(`unknown mode ${mode}`);
  const ms = performance.now() - start;
  const after = process.memoryUsage();
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const settled = process.memoryUsage();
  console.log(
    JSON.stringify({
      mode,
      loadMs: Math.round(ms),
      rssMB: mb(after.rss),
      heapUsedMB: mb(after.heapUsed),
      arrayBuffersMB: mb(after.arrayBuffers),
      arrayBuffersGrowthMB: mb(after.arrayBuffers - before.arrayBuffers),
      afterGc: gc ? { rssMB: mb(settled.rss), arrayBuffersMB: mb(settled.arrayBuffers) } : null,
      kept: kept !== undefined,
    }),
  );
}

main();
