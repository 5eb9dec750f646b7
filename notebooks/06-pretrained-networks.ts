/*
 * Chapter 6 — pretrained networks: import, look inside, classify, dream.
 *
 * Chapters 4 and 5 built and trained networks of our own. The networks people actually use were
 * trained elsewhere and ship as files: Caffe's deploy.prototxt (the architecture, as text) plus a
 * .caffemodel (the weights, as protobuf), or one .onnx file. Importing one needs three new layer
 * kinds — LRN (divide by the energy of neighbouring channels), Concat (join an inception block's
 * branches) and the element-wise sum of residual blocks — and a container that is a graph rather
 * than a chain. Everything still runs on chapter 4's own kernels, backward included, which is
 * what DeepDream needs: gradient *ascent* on the pixels to make one layer's activations grow.
 *
 * Without weights files the chapter writes a tiny GoogLeNet-shaped model itself (seeded random
 * weights), so it runs anywhere. With the real files, pass their paths as `proto` and `model`:
 * `bvlc_googlenet` imports the same way, on the same kernels.
 *
 * Run: npm run chapter -- 6   (or npx tsx notebooks/06-pretrained-networks.ts)
 */
import { join } from 'node:path';
import {
  Rng,
  checkLayerGradients,
  copy,
  fromArray,
  readImage,
  reshape,
  toArray,
  writePng,
  zeros,
} from '../lib/core/index.js';
import {
  LRN,
  caffeClip,
  caffeDeprocess,
  caffePreprocess,
  dream,
  encodeCaffeModel,
  importCaffe,
  loadCaffe,
  parameterCount,
  type CaffeLayerWeights,
  type ImportedNet,
} from '../lib/pretrained/index.js';
import { bundledImage, resizeLongestSide } from '../lib/style/index.js';
import { isMain, optionsFromArgv, printResult, type ChapterOptions } from './chapter.js';

/** Options of this chapter: the usual ones, plus real weights files if you have them. */
export interface Chapter6Options extends ChapterOptions {
  /** A deploy.prototxt (with `model`), e.g. bvlc_googlenet's. */
  proto?: string;
  /** The matching .caffemodel. */
  model?: string;
}

/** Key results of the chapter. */
export interface Chapter6Result {
  chapter: 6;
  lrnExample: number[];
  nodes: number;
  parameters: number;
  gradientCheck: number;
  top: { index: number; probability: number }[];
  dreamGain: number;
  figures: string[];
}

// A tiny network with GoogLeNet's shape and names: conv1 → ReLU → ceil-mode max pool → LRN →
// one inception block ("inception_4c/output") → global average pool → 10-way classifier.
const TINY_GOOGLENET = `
name: "tiny_googlenet"
input: "data"
input_dim: 1 input_dim: 3 input_dim: 32 input_dim: 32
layer { name: "conv1/7x7_s2" type: "Convolution" bottom: "data" top: "conv1/7x7_s2"
  convolution_param { num_output: 8 kernel_size: 7 stride: 2 pad: 3 } }
layer { name: "conv1/relu_7x7" type: "ReLU" bottom: "conv1/7x7_s2" top: "conv1/7x7_s2" }
layer { name: "pool1/3x3_s2" type: "Pooling" bottom: "conv1/7x7_s2" top: "pool1/3x3_s2"
  pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "pool1/norm1" type: "LRN" bottom: "pool1/3x3_s2" top: "pool1/norm1"
  lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 } }
layer { name: "inception_4c/1x1" type: "Convolution" bottom: "pool1/norm1" top: "inception_4c/1x1"
  convolution_param { num_output: 4 kernel_size: 1 } }
layer { name: "inception_4c/relu_1x1" type: "ReLU" bottom: "inception_4c/1x1" top: "inception_4c/1x1" }
layer { name: "inception_4c/3x3" type: "Convolution" bottom: "pool1/norm1" top: "inception_4c/3x3"
  convolution_param { num_output: 6 kernel_size: 3 pad: 1 } }
layer { name: "inception_4c/relu_3x3" type: "ReLU" bottom: "inception_4c/3x3" top: "inception_4c/3x3" }
layer { name: "inception_4c/pool" type: "Pooling" bottom: "pool1/norm1" top: "inception_4c/pool"
  pooling_param { pool: MAX kernel_size: 3 stride: 1 pad: 1 } }
layer { name: "inception_4c/pool_proj" type: "Convolution" bottom: "inception_4c/pool" top: "inception_4c/pool_proj"
  convolution_param { num_output: 2 kernel_size: 1 } }
layer { name: "inception_4c/relu_pool_proj" type: "ReLU" bottom: "inception_4c/pool_proj" top: "inception_4c/pool_proj" }
layer { name: "inception_4c/output" type: "Concat"
  bottom: "inception_4c/1x1" bottom: "inception_4c/3x3" bottom: "inception_4c/pool_proj" top: "inception_4c/output" }
layer { name: "pool5/7x7_s1" type: "Pooling" bottom: "inception_4c/output" top: "pool5/7x7_s1"
  pooling_param { pool: AVE global_pooling: true } }
layer { name: "pool5/drop_7x7_s1" type: "Dropout" bottom: "pool5/7x7_s1" top: "pool5/7x7_s1"
  dropout_param { dropout_ratio: 0.4 } }
layer { name: "loss3/classifier" type: "InnerProduct" bottom: "pool5/7x7_s1" top: "loss3/classifier"
  inner_product_param { num_output: 10 } }
layer { name: "prob" type: "Softmax" bottom: "loss3/classifier" top: "prob" }
`;

// Seeded He-style weights for the tiny net, as a .caffemodel's bytes.
function tinyWeights(rng: Rng): Uint8Array {
  const blob = (shape: number[], fanIn: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const std = Math.sqrt(2 / fanIn);
    return { shape, data: Float32Array.from({ length: n }, () => rng.normal(0, std)) };
  };
  const conv = (name: string, F: number, C: number, k: number): CaffeLayerWeights => ({
    name,
    type: 'Convolution',
    blobs: [blob([F, C, k, k], C * k * k), { shape: [F], data: new Float32Array(F).fill(0.05) }],
  });
  return encodeCaffeModel([
    conv('conv1/7x7_s2', 8, 3, 7),
    conv('inception_4c/1x1', 4, 8, 1),
    conv('inception_4c/3x3', 6, 8, 3),
    conv('inception_4c/pool_proj', 2, 8, 1),
    {
      name: 'loss3/classifier',
      type: 'InnerProduct',
      blobs: [blob([10, 12], 12), blob([10], 1e6)],
    },
  ]);
}

/** Run the chapter; `quick` uses a smaller image and fewer dream steps (seconds, for CI). */
export async function main(options: Chapter6Options = {}): Promise<Chapter6Result> {
  const { quick = false, outDir = 'out', seed = 0, log = console.log } = options;
  const rng = new Rng(1337 + seed);
  const figures: string[] = [];

  /*
   * 1. LRN on a worked example. One pixel with three channels x = [1, 2, 2], window n = 3,
   *    α = 3 (so α/n = 1), β = 0.5, k = 1: the sums of squares over each channel's window are
   *    [1+4, 1+4+4, 4+4] = [5, 9, 8], so y = x / √(1 + that) = [1/√6, 2/√10, 2/3].
   *    Caffe and ONNX agree on this formula: both divide α by the window size.
   */
  const lrnExample = toArray(
    new LRN(3, { alpha: 3, beta: 0.5 }).forward(fromArray([1, 2, 2], [1, 3, 1, 1])),
  );
  log(`LRN([1, 2, 2]) = [${lrnExample.map((v) => v.toFixed(4)).join(', ')}]`);

  /*
   * 2. Import. The prototxt names layers and blobs; the caffemodel holds the blobs by layer name.
   *    In-place layers (conv1/relu_7x7 writes its result back into conv1/7x7_s2) become nodes of
   *    their own, and a blob name then means the tensor after its last in-place layer.
   */
  const net: ImportedNet =
    options.proto !== undefined && options.model !== undefined
      ? loadCaffe(options.proto, options.model)
      : importCaffe(TINY_GOOGLENET, tinyWeights(rng));
  const { graph, tensors } = net;

  /* 3. Look inside: the layer table, with each node's inputs and parameter count. */
  for (const row of graph.summary().slice(0, quick ? 6 : undefined)) {
    log(
      `${row.name.padEnd(30)} ${row.kind.padEnd(14)} ${String(row.params).padStart(8)}  ← ${row.inputs.join(', ')}`,
    );
  }
  const parameters = parameterCount(graph);
  log(`${graph.nodes.length} nodes, ${parameters} parameters`);

  /*
   * 4. The whole imported network, backward included, against finite differences: re-import in
   *    float64 and check the gradient at the pixels and a sample of every parameter.
   */
  const gradNet =
    options.proto === undefined
      ? importCaffe(TINY_GOOGLENET, tinyWeights(new Rng(1337 + seed)), { dtype: 'float64' }).graph
      : undefined;
  const check = gradNet
    ? checkLayerGradients(gradNet, new Rng(7).fillNormal(zeros([1, 3, 32, 32])), { sample: 8 })
    : undefined;
  const gradientCheck = check?.maxError ?? 0;
  log(`gradient check of the whole network: max relative error ${gradientCheck.toExponential(1)}`);

  /* 5. Classify a photo: Caffe's input is BGR · 255 minus the ImageNet mean. */
  const photo = resizeLongestSide(
    readImage(bundledImage('chelsea.png'), { channels: 3 }),
    quick ? 48 : 224,
  );
  const input = caffePreprocess(photo);
  const [C, H, W] = input.shape as [number, number, number];
  const probs = toArray(graph.forward(reshape(copy(input), [1, C, H, W])));
  const top = probs
    .map((probability, index) => ({ index, probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, 3);
  log(
    `top classes: ${top.map((t) => `${t.index} (${(100 * t.probability).toFixed(1)}%)`).join(', ')}`,
  );

  /*
   * 6. Dream. Gradient ascent on ½ Σ a² at inception_4c/output, each step normalized by the mean
   *    |gradient|, with random jitter, at several octaves (Google's notebook: 4 octaves of 1.4,
   *    10 steps of 1.5, jitter 32). The objective rises as the image fills with what the layer sees.
   */
  const layer = tensors.get('inception_4c/output') ?? graph.output;
  const objectives: number[] = [];
  const dreamed = dream(graph, input, {
    layer,
    octaves: quick ? 2 : 4,
    iterations: quick ? 3 : 10,
    jitter: quick ? 4 : 32,
    clip: caffeClip(),
    rng,
    onStep: (_octave, _step, objective) => objectives.push(objective),
  });
  const dreamGain = objectives[objectives.length - 1]! / objectives[0]!;
  const output = join(outDir, '06-dream.png');
  writePng(output, caffeDeprocess(dreamed));
  figures.push(output);
  log(`dream objective grew ×${dreamGain.toFixed(2)}; wrote ${output}`);

  const result: Chapter6Result = {
    chapter: 6,
    lrnExample,
    nodes: graph.nodes.length,
    parameters,
    gradientCheck,
    top,
    dreamGain,
    figures,
  };
  printResult({ nodes: result.nodes, parameters, gradientCheck, dreamGain, output }, log);
  return result;
}

if (isMain(import.meta.url)) await main(optionsFromArgv());
