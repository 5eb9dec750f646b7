// Caffe import: a deploy.prototxt (the architecture) and a .caffemodel (the weights) become an
// nnzero Graph. Each Caffe layer becomes one node named after the layer (InnerProduct adds a
// flatten node in front, as Caffe flattens implicitly); in-place layers (ReLU, Dropout,
// BatchNorm and Scale whose top is their bottom) are chained, so a blob name always means the
// tensor after its last in-place layer, as in Caffe. Blobs are checked against the prototxt
// (every error names the layer) and become the layers' parameters: a blob read from a file into
// an array of its own is taken as it is, so a weight is copied once, from disk; a view on bytes
// the caller holds is copied, so the network never shares the caller's memory.
import {
  ShapeError,
  formatShape,
  sizeOf,
  tensor,
  zeros,
  type DType,
  type Layer,
  type Param,
  type Tensor,
} from '../core/index.js';
import { Linear, ReLU } from '../mlp/index.js';
// The format modules themselves, not their barrel, which also re-exports the Node-only readers.
import { parseCaffeModel, mergeCaffeWeights } from '../style/formats/caffe.js';
import type { CaffeBlob, CaffeLayer, CaffeNet } from '../style/formats/caffe.js';
import { parsePrototxt } from '../style/formats/prototxt.js';
import type { ByteSource } from '../style/formats/protobuf.js';
import { BatchNorm2d, ChannelScale, setCaffeBatchNormStats } from './batch-norm.js';
import { Concat } from './concat.js';
import { Dropout } from './dropout.js';
import { EltwiseSum } from './eltwise.js';
import { Graph, type GraphNode } from './graph.js';
import type { LayerKit } from './kit.js';
import { cnnKit } from './cnn-kit.js';
import { LRN } from './lrn.js';
import { FlattenFrom } from './reshape.js';
import { Softmax } from './softmax.js';

/** Options of the Caffe importer. */
export interface CaffeImportOptions {
  /** Builds convolution and pooling layers (default: chapter 4's Conv2d and pools, cnnKit). */
  kit?: LayerKit;
  /** Element type of the parameters (default float32, as stored in the file). */
  dtype?: DType;
  /** Name of the weights file for error messages. */
  file?: string;
  /**
   * Import only what this blob needs (e.g. `inception_4c/output` for DeepDream, `conv5_1` for
   * style): later layers are left out and their blobs never decoded (VGG's fc6 alone is 400 MB).
   */
  until?: string;
}

/**
 * The layers a blob depends on, in file order: walk the file backwards from `blob`, keeping every
 * layer that writes a needed blob (in-place layers included) and needing its bottoms in turn.
 */
export function layersUntil(layers: readonly CaffeLayer[], blob: string): CaffeLayer[] {
  const needed = new Set([blob]);
  const kept: CaffeLayer[] = [];
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    if (layer.tops.some((t) => needed.has(t))) {
      kept.push(layer);
      for (const b of layer.bottoms) needed.add(b);
    }
  }
  if (kept.length === 0) throw new Error(`no layer produces blob "${blob}"`);
  return kept.reverse();
}

/** An imported network: the graph, its input's declared shape, and blob → node names. */
export interface ImportedNet {
  readonly graph: Graph;
  /** The input shape the file declares ([N, C, H, W]), or null when it declares none. */
  readonly inputShape: number[] | null;
  /** The node that produces each named tensor of the file (Caffe blob or ONNX value). */
  readonly tensors: ReadonlyMap<string, string>;
}

/** An error in an imported network, naming the layer (or node) and its type. */
export class ImportError extends Error {
  override readonly name = 'ImportError';
  /** The offending layer's (or node's) name. */
  readonly layer: string;

  /** @param layer name, @param type its type, @param problem what is wrong, @param kind `layer` or `node` */
  constructor(layer: string, type: string, problem: string, kind: 'layer' | 'node' = 'layer') {
    super(`${kind} "${layer}" (${type}): ${problem}`);
    this.layer = layer;
  }
}

// Throw naming the layer unless the blob fits shape `want`. Legacy files store 4-D shapes with
// leading 1s ([1, 1, 1, 96] for a bias of [96]); those are accepted as Caffe's ShapeEquals does.
function checkBlob(
  blob: CaffeBlob,
  want: readonly number[],
  layer: CaffeLayer,
  what: string,
): void {
  const got = blob.shape;
  const pad = got.length - want.length;
  const fits =
    (got.length === want.length && got.every((d, i) => d === want[i])) ||
    (got.length === 4 &&
      pad > 0 &&
      got.slice(0, pad).every((d) => d === 1) &&
      want.every((d, i) => d === got[pad + i]));
  if (!fits) {
    throw new ShapeError(
      `layer "${layer.name}" (${layer.type}) ${what}: the caffemodel blob does not fit the prototxt`,
      got,
      want,
    );
  }
}

/** Copy a blob into a parameter after checking its shape (legacy 4-D shapes accepted). */
export function loadBlob(param: Param, blob: CaffeBlob, layer: CaffeLayer, what: string): void {
  checkBlob(blob, param.value.shape, layer, what);
  param.value.data.set(blob.data);
}

/**
 * Values for a layer to take as its own parameter, of shape `shape` and type `dtype`: the array
 * itself when it is float32 and owns its whole buffer (read from a file) and no other layer took
 * it, else a copy. Made once per import, so a shared buffer is adopted at most once.
 */
export function weightAdopter(
  dtype: DType,
): (data: Float32Array, shape: readonly number[]) => Tensor {
  const taken = new Set<ArrayBufferLike>();
  return (data, shape) => {
    if (dtype === 'float64') return tensor(Float64Array.from(data), shape);
    const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    if (!own || taken.has(data.buffer)) return tensor(data.slice(), shape);
    taken.add(data.buffer);
    return tensor(data, shape);
  };
}

/**
 * Make sure a built layer's parameter holds `value`: a kit that adopted it is left alone, one
 * that allocated its own parameter gets the values copied in.
 */
export function holdValue(
  layer: Layer,
  name: string,
  value: Tensor,
  fail: (m: string) => never,
): void {
  const p = layer.params().find((q) => q.name === name);
  if (p === undefined) return fail(`the built layer has no parameter "${name}"`);
  if (p.value !== value) p.value.data.set(value.data);
}

// The blob's shape without the leading 1s of the legacy 4-D form, down to `rank` dims.
function trimmedShape(blob: CaffeBlob, rank: number): number[] {
  const s = [...blob.shape];
  while (s.length > rank && s[0] === 1) s.shift();
  return s;
}

function requireBlobs(layer: CaffeLayer, min: number, max: number): void {
  const n = layer.blobs.length;
  if (n === 0) {
    throw new ImportError(layer.name, layer.type, 'has no weights in the caffemodel');
  }
  if (n < min || n > max) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    throw new ImportError(layer.name, layer.type, `has ${n} blobs, the prototxt needs ${want}`);
  }
}

// Build the layer for one Caffe layer record, its parameters taken from the blobs (`own`).
function buildLayer(
  layer: CaffeLayer,
  options: CaffeImportOptions,
  own: (data: Float32Array, shape: readonly number[]) => Tensor,
): Layer {
  const { dtype = 'float32', kit = cnnKit } = options;
  const { name, type, params } = layer;
  const fail = (problem: string): never => {
    throw new ImportError(name, type, problem);
  };
  switch (type) {
    case 'Convolution': {
      const p = params.convolution!;
      requireBlobs(layer, p.biasTerm ? 2 : 1, p.biasTerm ? 2 : 1);
      const w = layer.blobs[0]!;
      if (w.shape.length !== 4) fail(`weights have shape ${formatShape(w.shape)}, not 4-D`);
      const [F, Cg] = w.shape as [number, number];
      if (F !== p.numOutput) {
        throw new ShapeError(
          `layer "${name}" (Convolution) weights: the caffemodel blob does not fit num_output ${p.numOutput}`,
          w.shape,
          [p.numOutput, Cg, p.kernelH, p.kernelW],
        );
      }
      const wShape = [F, Cg, p.kernelH, p.kernelW];
      checkBlob(w, wShape, layer, 'blob 0 (weights)');
      const weight = own(w.data, wShape);
      let bias: Tensor | undefined;
      if (p.biasTerm) {
        checkBlob(layer.blobs[1]!, [F], layer, 'blob 1 (bias)');
        bias = own(layer.blobs[1]!.data, [F]);
      }
      // Caffe's `group` splits the channels as Conv2d's groups do: weights [F, C/group, kH, kW].
      const conv = kit.conv2d({
        name,
        inChannels: Cg * p.group,
        outChannels: p.numOutput,
        kernel: [p.kernelH, p.kernelW],
        stride: [p.strideH, p.strideW],
        pad: [p.padH, p.padH, p.padW, p.padW],
        dilation: [p.dilationH, p.dilationW],
        group: p.group,
        bias: p.biasTerm,
        dtype,
        weights: bias === undefined ? { weight } : { weight, bias },
      });
      holdValue(conv, `${name}.weight`, weight, fail);
      if (bias !== undefined) holdValue(conv, `${name}.bias`, bias, fail);
      return conv;
    }
    case 'InnerProduct': {
      const p = params.innerProduct!;
      requireBlobs(layer, p.biasTerm ? 2 : 1, p.biasTerm ? 2 : 1);
      const w = layer.blobs[0]!;
      const shape = trimmedShape(w, 2);
      if (shape.length !== 2) fail(`weights have shape ${formatShape(w.shape)}, not 2-D`);
      // Caffe stores [out, in], or [in, out] with `transpose: true`.
      const [out, inF] = (p.transpose ? [shape[1], shape[0]] : shape) as [number, number];
      if (out !== p.numOutput) {
        throw new ShapeError(
          `layer "${name}" (InnerProduct) weights: the caffemodel blob does not fit num_output ${p.numOutput}`,
          w.shape,
          p.transpose ? [inF, p.numOutput] : [p.numOutput, inF],
        );
      }
      let weight: Tensor;
      if (p.transpose) {
        weight = zeros([out, inF], dtype);
        for (let i = 0; i < inF; i++) {
          for (let o = 0; o < out; o++) weight.set(o, i, w.data[i * out + o]!);
        }
      } else {
        weight = own(w.data, [out, inF]);
      }
      let bias: Tensor;
      if (p.biasTerm) {
        checkBlob(layer.blobs[1]!, [out], layer, 'blob 1 (bias)');
        bias = own(layer.blobs[1]!.data, [out]);
      } else bias = zeros([out], dtype);
      return new Linear(inF, out, { weights: { weight, bias }, name, dtype });
    }
    case 'Pooling': {
      const p = params.pooling!;
      if (p.pool === 'STOCHASTIC') fail('stochastic pooling is not supported');
      const kind = p.pool === 'MAX' ? 'max' : 'avg';
      if (p.globalPooling) return kit.globalPool2d({ name, kind });
      return kit.pool2d({
        name,
        kind,
        kernel: [p.kernelH, p.kernelW],
        stride: [p.strideH, p.strideW],
        pad: [p.padH, p.padH, p.padW, p.padW],
        ceilMode: p.roundMode === 'CEIL',
        countPadding: true,
      });
    }
    case 'ReLU': {
      const slope = params.relu?.negativeSlope ?? 0;
      if (slope !== 0) fail(`leaky ReLU (negative_slope ${slope}) is not supported`);
      return new ReLU({ name });
    }
    case 'LRN': {
      const p = params.lrn!;
      if (p.normRegion !== 'ACROSS_CHANNELS')
        fail('only ACROSS_CHANNELS normalization is supported');
      return new LRN(p.localSize, { name, alpha: p.alpha, beta: p.beta, k: p.k });
    }
    case 'Dropout':
      return new Dropout(params.dropout!.ratio, { mode: 'eval', name });
    case 'BatchNorm': {
      requireBlobs(layer, 3, 3);
      const [mean, variance, factor] = layer.blobs as [CaffeBlob, CaffeBlob, CaffeBlob];
      const C = mean.data.length;
      const bn = new BatchNorm2d(C, { name, affine: false, eps: params.batchNorm!.eps, dtype });
      if (variance.data.length !== C || factor.data.length !== 1) {
        throw new ShapeError(
          `layer "${name}" (BatchNorm) blobs [mean, variance, scale_factor] lengths`,
          [C, variance.data.length, factor.data.length],
          [C, C, 1],
        );
      }
      setCaffeBatchNormStats(bn, mean.data, variance.data, factor.data);
      return bn;
    }
    case 'Scale': {
      const p = params.scale!;
      if (layer.bottoms.length !== 1)
        fail('a Scale with a second bottom (learned scale input) is not supported');
      if (p.axis !== 1 || p.numAxes !== 1)
        fail(`only per-channel scaling (axis 1, num_axes 1) is supported`);
      requireBlobs(layer, p.biasTerm ? 2 : 1, p.biasTerm ? 2 : 1);
      const C = layer.blobs[0]!.data.length;
      const scale = new ChannelScale(C, { name, bias: p.biasTerm, dtype });
      loadBlob(scale.weight, { shape: [C], data: layer.blobs[0]!.data }, layer, 'blob 0 (scale)');
      if (scale.bias) loadBlob(scale.bias, layer.blobs[1]!, layer, 'blob 1 (bias)');
      return scale;
    }
    case 'Softmax': {
      const axis = params.softmax?.axis ?? 1;
      if (axis !== 1) fail(`softmax over axis ${axis} is not supported (only the channel axis 1)`);
      return new Softmax({ name });
    }
    default:
      return fail(
        'unknown layer type: nnzero imports Convolution, InnerProduct, Pooling, ReLU, LRN, ' +
          'Dropout, BatchNorm, Scale, Concat, Eltwise, Softmax and Input (use the deploy.prototxt)',
      );
  }
}

/**
 * Turn Caffe layer records (a prototxt merged with caffemodel weights) into a Graph.
 * @param net layers in file order, each with its blobs
 */
export function caffeToGraph(net: CaffeNet, options: CaffeImportOptions = {}): ImportedNet {
  const inPhase = net.layers.filter((l) => l.phase !== 'TRAIN');
  const layers = options.until === undefined ? inPhase : layersUntil(inPhase, options.until);
  let input: string | undefined = net.inputs[0]?.name;
  let inputShape: number[] | null = net.inputs[0]?.shape ?? null;
  if (net.inputs.length > 1) {
    throw new Error(`the net declares ${net.inputs.length} inputs; nnzero imports one`);
  }
  const own = weightAdopter(options.dtype ?? 'float32');
  const current = new Map<string, string>(); // blob name → node producing its current value
  if (input !== undefined) current.set(input, input);
  const nodes: GraphNode[] = [];
  const inputOf = (layer: CaffeLayer, blob: string): string => {
    const node = current.get(blob);
    if (node === undefined) {
      throw new ImportError(
        layer.name,
        layer.type,
        `reads blob "${blob}", which no earlier layer produces`,
      );
    }
    return node;
  };
  for (const layer of layers) {
    if (layer.type === 'Input') {
      if (input !== undefined)
        throw new ImportError(layer.name, layer.type, 'a second input is not supported');
      input = layer.tops[0]!;
      inputShape = layer.params.input?.shapes[0] ?? null;
      current.set(input, input);
      continue;
    }
    if (layer.tops.length !== 1) {
      throw new ImportError(
        layer.name,
        layer.type,
        `has ${layer.tops.length} tops; nnzero imports layers with one`,
      );
    }
    const bottoms = layer.bottoms.map((b) => inputOf(layer, b));
    if (layer.type === 'Concat' || layer.type === 'Eltwise') {
      let merge;
      if (layer.type === 'Concat')
        merge = new Concat({ name: layer.name, axis: layer.params.concat!.axis });
      else {
        const p = layer.params.eltwise!;
        if (p.operation !== 'SUM') {
          throw new ImportError(
            layer.name,
            layer.type,
            `operation ${p.operation} is not supported (only SUM)`,
          );
        }
        merge = new EltwiseSum({
          name: layer.name,
          ...(p.coeff.length > 0 ? { coefficients: p.coeff } : {}),
        });
      }
      nodes.push({ name: layer.name, inputs: bottoms, merge });
    } else {
      if (bottoms.length !== 1) {
        throw new ImportError(layer.name, layer.type, `has ${bottoms.length} bottoms, expected 1`);
      }
      let from = bottoms[0]!;
      if (layer.type === 'InnerProduct') {
        // Caffe flattens everything from `axis` on before the product; here that is a node.
        const flat = `${layer.name}/flatten`;
        const axis = layer.params.innerProduct!.axis;
        nodes.push({ name: flat, input: from, layer: new FlattenFrom({ axis, name: flat }) });
        from = flat;
      }
      nodes.push({ name: layer.name, input: from, layer: buildLayer(layer, options, own) });
    }
    current.set(layer.tops[0]!, layer.name);
  }
  if (input === undefined)
    throw new Error('the net declares no input (no `input:` field or Input layer)');
  return { graph: new Graph(nodes, { input }), inputShape, tensors: current };
}

/**
 * Import a Caffe network from the text of its deploy.prototxt and its .caffemodel (weights matched
 * to layers by name, as Caffe's CopyTrainedLayersFrom does).
 * @param caffemodel the file's bytes, or a ByteSource reading it on demand (see loadCaffe)
 */
export function importCaffe(
  prototxt: string,
  caffemodel: Uint8Array | ByteSource,
  options: CaffeImportOptions = {},
): ImportedNet {
  const file = options.file ?? '<caffemodel>';
  const definition = parsePrototxt(prototxt);
  const used =
    options.until === undefined ? definition.layers : layersUntil(definition.layers, options.until);
  const wanted = new Set(used.map((l) => l.name));
  // Decode only the blobs of layers the deploy net uses (a train-time file holds more).
  const weights = parseCaffeModel(caffemodel, { file, keep: (name) => wanted.has(name) });
  return caffeToGraph(mergeCaffeWeights(definition, weights), options);
}

/** Number of values in all parameters of a network (for the layer table). */
export function parameterCount(net: Layer): number {
  return net.params().reduce((s, p) => s + sizeOf(p.value.shape), 0);
}
