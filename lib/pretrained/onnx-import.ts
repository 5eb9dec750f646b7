// ONNX import: an .onnx model's graph becomes an nnzero Graph, one node per ONNX node, named
// after the value it produces (ONNX refers to tensors by value name). Weights come from the
// initializers (and Constant nodes); attributes follow the ONNX operator specification: Conv and
// pooling `pads` are [x1_begin, x2_begin, x1_end, x2_end], `auto_pad` SAME_UPPER/SAME_LOWER pad
// so that out = ⌈in / stride⌉, AveragePool's `count_include_pad` defaults to 0, Softmax's axis
// defaults to 1 before opset 13 and to −1 from 13 on. Unsupported operators are named, with
// their node. Conv and Gemm weights become the layers' parameters as the Caffe importer's do
// (taken as they are when read from a file, copied when they are views on the caller's bytes).
import {
  ShapeError,
  formatShape,
  tensor,
  zeros,
  type DType,
  type Layer,
  type Tensor,
} from '../core/index.js';
import { Linear, ReLU } from '../mlp/index.js';
// The format modules themselves, not their barrel, which also re-exports the Node-only readers.
import { parseOnnxModel } from '../style/formats/onnx.js';
import type { OnnxAttribute, OnnxModel, OnnxNode, OnnxTensor } from '../style/formats/onnx.js';
import type { ByteSource } from '../style/formats/protobuf.js';
import { AddConstant } from './add-constant.js';
import { BatchNorm2d } from './batch-norm.js';
import { ImportError, holdValue, weightAdopter, type ImportedNet } from './caffe-import.js';
import { Concat } from './concat.js';
import { Dropout } from './dropout.js';
import { EltwiseSum } from './eltwise.js';
import { Graph, type GraphNode } from './graph.js';
import type { LayerKit } from './kit.js';
import { cnnKit } from './cnn-kit.js';
import { LRN } from './lrn.js';
import { Pad2d, samePadding, type Pads } from './pad.js';
import { FlattenFrom, Reshape } from './reshape.js';
import { Softmax } from './softmax.js';

/** Options of the ONNX importer. */
export interface OnnxImportOptions {
  /** Builds convolution and pooling layers (default: chapter 4's Conv2d and pools, cnnKit). */
  kit?: LayerKit;
  /** Element type of the parameters (default float32). */
  dtype?: DType;
  /** Name of the file for error messages. */
  file?: string;
  /**
   * Import only what this value needs (e.g. the output of the last conv for style transfer):
   * later nodes are left out and their initializers never read.
   */
  until?: string;
}

/** The operators the importer understands (default domain). */
export const ONNX_OPERATORS: readonly string[] = [
  'Conv',
  'Relu',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'LRN',
  'Concat',
  'Gemm',
  'MatMul',
  'Flatten',
  'Reshape',
  'Softmax',
  'Dropout',
  'BatchNormalization',
  'Add',
  'Identity',
  'Constant',
];

// Attribute readers: the type is checked, absent attributes take the spec's default.
function attr(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attributes.get(name);
}
function attrInt(node: OnnxNode, name: string, fallback: number): number {
  const a = attr(node, name);
  return a?.type === 'INT' ? a.value : fallback;
}
function attrFloat(node: OnnxNode, name: string, fallback: number): number {
  const a = attr(node, name);
  return a?.type === 'FLOAT' ? a.value : fallback;
}
function attrInts(node: OnnxNode, name: string): number[] | undefined {
  const a = attr(node, name);
  return a?.type === 'INTS' ? a.value : undefined;
}
function attrString(node: OnnxNode, name: string, fallback: string): string {
  const a = attr(node, name);
  return a?.type === 'STRING' ? a.value : fallback;
}

/** Window settings shared by Conv and the pools, in the spec's terms. */
interface Window {
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly dilation: [number, number];
  /** Explicit pads [top, bottom, left, right], or the SAME rule to apply at run time. */
  readonly pads: Pads | 'SAME_UPPER' | 'SAME_LOWER';
}

function windowOf(node: OnnxNode, kernel: readonly number[], fail: (m: string) => never): Window {
  if (kernel.length !== 2)
    fail(`only 2-D windows are supported, kernel_shape is ${formatShape(kernel)}`);
  const pair = (name: string): [number, number] => {
    const v = attrInts(node, name) ?? [1, 1];
    if (v.length !== 2) fail(`${name} ${formatShape(v)} is not 2-D`);
    return [v[0]!, v[1]!];
  };
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  let pads: Window['pads'];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') pads = autoPad;
  else if (autoPad === 'VALID') pads = [0, 0, 0, 0];
  else if (autoPad === 'NOTSET') {
    // ONNX pads list all begins, then all ends: [x1_begin, x2_begin, x1_end, x2_end].
    const p = attrInts(node, 'pads') ?? [0, 0, 0, 0];
    if (p.length !== 4) fail(`pads ${formatShape(p)} does not have 4 values`);
    pads = [p[0]!, p[2]!, p[1]!, p[3]!];
  } else return fail(`unknown auto_pad "${autoPad}"`);
  return {
    kernel: [kernel[0]!, kernel[1]!],
    stride: pair('strides'),
    dilation: pair('dilations'),
    pads,
  };
}

// The SAME rule as a function of the input shape [N, C, H, W].
function sameRule(
  w: Window,
  mode: 'SAME_UPPER' | 'SAME_LOWER',
): (xShape: readonly number[]) => Pads {
  return (xShape) => {
    const [t, b] = samePadding(xShape[2]!, w.kernel[0], w.stride[0], w.dilation[0], mode);
    const [l, r] = samePadding(xShape[3]!, w.kernel[1], w.stride[1], w.dilation[1], mode);
    return [t, b, l, r];
  };
}

/** A layer rebuilt for each new input shape (pooling whose SAME padding depends on it). */
class PerShape implements Layer {
  readonly #build: (xShape: readonly number[]) => Layer;
  readonly #built = new Map<string, Layer>();
  #last: Layer | undefined;

  constructor(
    readonly name: string,
    build: (xShape: readonly number[]) => Layer,
  ) {
    this.#build = build;
  }
  forward(x: Tensor): Tensor {
    const key = x.shape.join();
    let layer = this.#built.get(key);
    if (layer === undefined) {
      layer = this.#build(x.shape);
      this.#built.set(key, layer);
    }
    this.#last = layer;
    return layer.forward(x);
  }
  backward(dy: Tensor): Tensor {
    if (this.#last === undefined) throw new Error(`${this.name}.backward called before forward`);
    return this.#last.backward(dy);
  }
  params(): [] {
    return [];
  }
}

/**
 * The nodes a value depends on, in file order: walk the graph backwards from `value`, keeping
 * every node that writes a needed value and needing its inputs in turn (ONNX lists nodes in
 * topological order).
 */
export function nodesUntil(nodes: readonly OnnxNode[], value: string): OnnxNode[] {
  const needed = new Set([value]);
  const kept: OnnxNode[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    if (node.outputs.some((o) => needed.has(o))) {
      kept.push(node);
      for (const input of node.inputs) if (input !== '') needed.add(input);
    }
  }
  if (kept.length === 0) throw new Error(`no node produces value "${value}"`);
  return kept.reverse();
}

/**
 * Turn a parsed ONNX model into a Graph. Nodes are named after their first output value.
 * @returns the graph, the input shape the model declares (unknown dims as −1), value → node names
 */
export function onnxToGraph(model: OnnxModel, options: OnnxImportOptions = {}): ImportedNet {
  const { kit = cnnKit, dtype = 'float32', until } = options;
  const g = model.graph;
  const opset =
    model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 1;
  const graphNodes = until === undefined ? g.nodes : nodesUntil(g.nodes, until);
  const read = new Set(graphNodes.flatMap((n) => n.inputs));
  const constants = new Map<string, OnnxTensor>(g.initializers);
  const graphInputs = g.inputs.filter(
    (v) => !constants.has(v.name) && (until === undefined || read.has(v.name)),
  );
  const own = weightAdopter(dtype);
  if (graphInputs.length !== 1) {
    throw new Error(
      `the model has ${graphInputs.length} inputs besides its initializers; nnzero imports one`,
    );
  }
  const input = graphInputs[0]!;
  const inputShape = input.shape ? input.shape.map((d) => (typeof d === 'number' ? d : -1)) : null;
  const producer = new Map<string, string>([[input.name, input.name]]); // value → graph node
  const nodes: GraphNode[] = [];

  for (const node of graphNodes) {
    const label = node.name || node.outputs[0] || node.opType;
    const fail = (problem: string): never => {
      throw new ImportError(label, node.opType, problem, 'node');
    };
    if (node.domain !== '' && node.domain !== 'ai.onnx')
      fail(`operators of domain "${node.domain}" are not supported`);
    const out = node.outputs[0];
    if (out === undefined) return fail('has no output');
    const activation = (value: string): string => {
      const from = producer.get(value);
      if (from === undefined) {
        return fail(
          constants.has(value)
            ? `input "${value}" is a constant where an activation is expected`
            : `reads "${value}", which no earlier node produces`,
        );
      }
      return from;
    };
    const constant = (index: number, what: string): OnnxTensor => {
      const name = node.inputs[index];
      const t = name ? constants.get(name) : undefined;
      if (t === undefined)
        return fail(`${what} (input ${index}) must be an initializer or Constant`);
      return t;
    };
    const floats = (t: OnnxTensor, what: string): Float32Array => {
      if (!(t.data instanceof Float32Array))
        return fail(`${what} "${t.name}" is ${t.dataType}, not a float tensor`);
      return t.data;
    };
    const expectShape = (t: OnnxTensor, shape: readonly number[], what: string): void => {
      const ok =
        t.dims.length === shape.length && shape.every((d, i) => d === -1 || d === t.dims[i]);
      if (!ok)
        throw new ShapeError(`node "${label}" (${node.opType}) ${what} "${t.name}"`, t.dims, shape);
    };
    const add = (layer: Layer, from: string, name = out): void => {
      nodes.push({ name, input: from, layer });
    };
    const unused = node.outputs.slice(1).filter((o) => o !== '');
    if (unused.length > 0 && node.opType !== 'Dropout')
      fail(`extra outputs (${unused.join(', ')}) are not supported`);

    switch (node.opType) {
      case 'Constant': {
        const value = attr(node, 'value');
        if (value?.type !== 'TENSOR') fail('only a TENSOR `value` is supported');
        constants.set(out, { ...(value as { value: OnnxTensor }).value, name: out });
        continue;
      }
      case 'Identity':
        producer.set(out, activation(node.inputs[0]!));
        continue;
      case 'Conv': {
        const from = activation(node.inputs[0]!);
        const W = constant(1, 'weights W');
        if (W.dims.length !== 4)
          fail(`weights W have shape ${formatShape(W.dims)}, not [F, C/group, kH, kW]`);
        const [F, Cg, kH, kW] = W.dims as [number, number, number, number];
        const kernel = attrInts(node, 'kernel_shape') ?? [kH, kW];
        expectShape(W, [F, Cg, kernel[0]!, kernel[1]!], 'weights W (kernel_shape)');
        const win = windowOf(node, kernel, fail);
        const group = attrInt(node, 'group', 1);
        const B = node.inputs[2] ? constant(2, 'bias B') : undefined;
        if (B) expectShape(B, [F], 'bias B');
        let convInput = from;
        let pad: Pads = [0, 0, 0, 0];
        if (typeof win.pads === 'string') {
          convInput = `${out}/pad`;
          add(new Pad2d(sameRule(win, win.pads), { name: convInput }), from, convInput);
        } else pad = win.pads;
        const weight = own(floats(W, 'weights W'), W.dims);
        const bias = B === undefined ? undefined : own(floats(B, 'bias B'), [F]);
        const conv = kit.conv2d({
          name: out,
          inChannels: Cg * group,
          outChannels: F,
          kernel: win.kernel,
          stride: win.stride,
          pad,
          dilation: win.dilation,
          group,
          bias: B !== undefined,
          dtype,
          weights: bias === undefined ? { weight } : { weight, bias },
        });
        holdValue(conv, `${out}.weight`, weight, fail);
        if (bias !== undefined) holdValue(conv, `${out}.bias`, bias, fail);
        add(conv, convInput);
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        const from = activation(node.inputs[0]!);
        const kernel = attrInts(node, 'kernel_shape') ?? fail('kernel_shape is required');
        const win = windowOf(node, kernel, fail);
        if (win.dilation[0] !== 1 || win.dilation[1] !== 1)
          fail('dilated pooling is not supported');
        if (attrInt(node, 'storage_order', 0) !== 0) fail('storage_order 1 is not supported');
        const kind = node.opType === 'MaxPool' ? 'max' : 'avg';
        const spec = {
          name: out,
          kind,
          kernel: win.kernel,
          stride: win.stride,
          ceilMode: attrInt(node, 'ceil_mode', 0) === 1,
          // The spec's default is 0: padding is not counted in the average.
          countPadding: attrInt(node, 'count_include_pad', 0) === 1,
        } as const;
        const k = kit;
        const pads = win.pads;
        add(
          typeof pads === 'string'
            ? new PerShape(out, (xShape) => k.pool2d({ ...spec, pad: sameRule(win, pads)(xShape) }))
            : k.pool2d({ ...spec, pad: pads }),
          from,
        );
        break;
      }
      case 'GlobalAveragePool':
      case 'GlobalMaxPool':
        add(
          kit.globalPool2d({
            name: out,
            kind: node.opType === 'GlobalMaxPool' ? 'max' : 'avg',
          }),
          activation(node.inputs[0]!),
        );
        break;
      case 'Relu':
        add(new ReLU({ name: out }), activation(node.inputs[0]!));
        break;
      case 'LRN': {
        const size = attrInt(node, 'size', 0);
        if (size < 1) fail('the `size` attribute is required');
        const lrn = new LRN(size, {
          name: out,
          alpha: attrFloat(node, 'alpha', 1e-4),
          beta: attrFloat(node, 'beta', 0.75),
          k: attrFloat(node, 'bias', 1),
        });
        add(lrn, activation(node.inputs[0]!));
        break;
      }
      case 'Concat': {
        const axis =
          attr(node, 'axis')?.type === 'INT'
            ? attrInt(node, 'axis', 1)
            : fail('the `axis` attribute is required');
        if (axis < 0)
          fail(`a negative axis (${axis}) needs the input rank, which is not known here`);
        nodes.push({
          name: out,
          inputs: node.inputs.map(activation),
          merge: new Concat({ name: out, axis }),
        });
        break;
      }
      case 'Add': {
        const [a, b] = node.inputs as [string, string];
        if (producer.has(a) && producer.has(b)) {
          nodes.push({
            name: out,
            inputs: [activation(a), activation(b)],
            merge: new EltwiseSum({ name: out }),
          });
        } else {
          const [x, c] = producer.has(a) ? [a, 1] : [b, 0];
          const t = constant(c as number, 'constant operand');
          const value = tensor(floats(t, 'constant operand'), t.dims.length > 0 ? t.dims : [1]);
          add(
            new AddConstant(dtype === 'float64' ? copyTo64(value) : value, { name: out }),
            activation(x as string),
          );
        }
        break;
      }
      case 'Gemm':
      case 'MatMul': {
        const from = activation(node.inputs[0]!);
        const B = constant(1, 'weights B');
        if (B.dims.length !== 2) fail(`weights B have shape ${formatShape(B.dims)}, not 2-D`);
        const gemm = node.opType === 'Gemm';
        if (gemm && attrInt(node, 'transA', 0) !== 0) fail('transA = 1 is not supported');
        // Linear keeps weight [out, in]: Gemm's B is that with transB = 1, [in, out] otherwise.
        const transB = gemm && attrInt(node, 'transB', 0) === 1;
        const [outF, inF] = (transB ? B.dims : [B.dims[1], B.dims[0]]) as [number, number];
        const alpha = gemm ? attrFloat(node, 'alpha', 1) : 1;
        const beta = gemm ? attrFloat(node, 'beta', 1) : 1;
        const b = floats(B, 'weights B');
        let weight: Tensor;
        if (transB && alpha === 1) weight = own(b, [outF, inF]);
        else {
          weight = zeros([outF, inF], dtype);
          for (let o = 0; o < outF; o++) {
            for (let i = 0; i < inF; i++)
              weight.set(o, i, alpha * b[transB ? o * inF + i : i * outF + o]!);
          }
        }
        let bias = zeros([outF], dtype);
        if (gemm && node.inputs[2]) {
          const C = constant(2, 'bias C');
          const c = floats(C, 'bias C');
          const size = C.dims.reduce((s, d) => s * d, 1);
          if (size !== outF && size !== 1) {
            throw new ShapeError(`node "${label}" (Gemm) bias C "${C.name}"`, C.dims, [outF]);
          }
          if (size === outF && beta === 1) bias = own(c, [outF]);
          else for (let o = 0; o < outF; o++) bias.set(o, beta * c[size === 1 ? 0 : o]!);
        }
        const fc = new Linear(inF, outF, { weights: { weight, bias }, name: out, dtype });
        add(fc, from);
        break;
      }
      case 'Flatten':
        add(
          new FlattenFrom({ axis: attrInt(node, 'axis', 1), name: out }),
          activation(node.inputs[0]!),
        );
        break;
      case 'Reshape': {
        const shape = constant(1, 'shape');
        add(
          new Reshape(shape.data as number[], {
            name: out,
            allowZero: attrInt(node, 'allowzero', 0) === 1,
          }),
          activation(node.inputs[0]!),
        );
        break;
      }
      case 'Softmax': {
        const axis = attrInt(node, 'axis', opset < 13 ? 1 : -1);
        // Before opset 13, Softmax flattened the input to 2-D at `axis`; for the [N, C] scores
        // of a classifier that is the same as a softmax over axis 1.
        if (opset < 13 && axis !== 1 && axis !== -1)
          fail(`opset ${opset} Softmax over axis ${axis} is not supported`);
        add(new Softmax({ name: out, axis }), activation(node.inputs[0]!));
        break;
      }
      case 'Dropout':
        // Inference: Dropout is the identity (ONNX's ratio and training_mode inputs are ignored).
        if (node.outputs.slice(1).some((o) => o !== '')) fail('the mask output is not supported');
        add(
          new Dropout(attrFloat(node, 'ratio', 0.5), { mode: 'eval', name: out }),
          activation(node.inputs[0]!),
        );
        break;
      case 'BatchNormalization': {
        if (attrInt(node, 'training_mode', 0) !== 0) fail('training_mode = 1 is not supported');
        const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) =>
          constant(i, ['scale', 'B', 'mean', 'var'][i - 1]!),
        );
        const C = scale!.dims[0] ?? fail('scale has no dims');
        for (const [t, what] of [
          [scale!, 'scale'],
          [bias!, 'B'],
          [mean!, 'input_mean'],
          [variance!, 'input_var'],
        ] as const) {
          expectShape(t, [C], what);
        }
        const bn = new BatchNorm2d(C, { name: out, eps: attrFloat(node, 'epsilon', 1e-5), dtype });
        bn.weight!.value.data.set(floats(scale!, 'scale'));
        bn.bias!.value.data.set(floats(bias!, 'B'));
        bn.runningMean.data.set(floats(mean!, 'input_mean'));
        bn.runningVar.data.set(floats(variance!, 'input_var'));
        add(bn, activation(node.inputs[0]!));
        break;
      }
      default:
        fail(`unsupported operator; nnzero imports ${ONNX_OPERATORS.join(', ')}`);
    }
    producer.set(out, out);
  }
  const output = until ?? g.outputs[0]?.name;
  if (output === undefined) throw new Error('the model declares no output');
  const outNode = producer.get(output);
  if (outNode === undefined)
    throw new Error(`the model's output "${output}" is produced by no node`);
  return {
    graph: new Graph(nodes, { input: input.name, output: outNode }),
    inputShape,
    tensors: producer,
  };
}

function copyTo64(t: Tensor): Tensor {
  return tensor(Float64Array.from(t.data), t.shape);
}

/**
 * Import an .onnx model from its bytes, or from a ByteSource reading the file on demand (see
 * loadOnnx). With `until`, a first pass reads the graph without any initializer data, and the
 * second reads only the initializers the kept nodes use.
 */
export function importOnnx(
  source: Uint8Array | ByteSource,
  options: OnnxImportOptions = {},
): ImportedNet {
  const file = options.file === undefined ? {} : { file: options.file };
  const { until } = options;
  let keep: ((name: string) => boolean) | undefined;
  if (until !== undefined) {
    const structure = parseOnnxModel(source, { ...file, keep: () => false });
    const used = new Set(nodesUntil(structure.graph.nodes, until).flatMap((n) => n.inputs));
    keep = (name) => used.has(name);
  }
  const model = parseOnnxModel(source, keep === undefined ? file : { ...file, keep });
  return onnxToGraph(model, options);
}
