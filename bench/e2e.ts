// End-to-end figures: seconds per style-transfer iteration through VGG-19 (seeded random
// weights; timing does not depend on what the weights learned) at a given size, what the heap
// does over many such iterations, and the chapter-4 CNN's time per MNIST epoch.
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Progress, Rng, readImage, reshape, zeros } from '../lib/core/index.js';
import { Adam, loadMnist, trainEpoch } from '../lib/mlp/index.js';
import {
  CAFFE_VGG_PREPROCESSING,
  LBFGS,
  StyleTransferLoss,
  VGG19_BLOCKS,
  bundledImage,
  resizeImage,
  vgg19,
  type ConvWeights,
  type IterationInfo,
  type Objective,
  type SequentialFeatureNet,
  type StyleLossOptions,
} from '../lib/style/index.js';
import { lenet } from '../notebooks/04-cnn-mnist.js';
import { byteSeries, median, type BenchRecord } from './records.js';
import { withThreads } from './threads.js';

// nnzero-style's defaults for VGG-19 (lib/style/cli.ts): the paper's layers and weights.
const CONTENT_LAYER = 'relu4_2';
const STYLE_LAYERS = ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'];
const LOSS_OPTIONS: StyleLossOptions = {
  contentLayers: [{ layer: CONTENT_LAYER, weight: 1 }],
  styleLayers: STYLE_LAYERS.map((layer) => ({ layer, weight: 1 / STYLE_LAYERS.length })),
  contentWeight: 1,
  styleWeight: 1e3,
  tvWeight: 0,
  statistic: 'gram',
  normalize: 'paper',
};
/** nnzero-style's L-BFGS history size. */
const CLI_HISTORY = 50;

/**
 * VGG-19 up to relu5_1 (the deepest default tap), as `vgg19` builds it from a weights file but
 * with seeded random weights: Kaiming normal N(0, 2/(9·C)), zero biases, average pooling and the
 * Caffe model's preprocessing (so activations have the scale the real weights see).
 */
export function randomVgg19(seed: number): SequentialFeatureNet {
  const rng = new Rng(seed);
  const convs = new Map<string, ConvWeights>();
  let C = 3;
  VGG19_BLOCKS.forEach((block, b) => {
    block.forEach((F, i) => {
      // Layers past conv5_1 are never run, so they get no weights (vgg19 stops at upTo).
      if (b === 4 && i > 0) return;
      const weight = rng.fillNormal(zeros([F, C, 3, 3], 'float32'), 0, Math.sqrt(2 / (9 * C)));
      convs.set(`conv${b + 1}_${i + 1}`, {
        weight: { shape: weight.shape, data: weight.data },
        bias: { shape: [F], data: new Float32Array(F) },
      });
      C = F;
    });
  });
  return vgg19(convs, CAFFE_VGG_PREPROCESSING, { pooling: 'avg', upTo: 'relu5_1' });
}

/** The style-transfer problem the e2e figures time: objective, starting image, and its cost. */
export interface StyleProblem {
  loss: StyleTransferLoss;
  x0: Float64Array;
  /** Flops of one loss-and-gradient evaluation (conv forward + backward to the input, Gram products). */
  evalFlops: number;
  shape: string;
}

/**
 * The default VGG-19 style transfer at size×size px: the bundled photo (chelsea) and painting
 * (The Starry Night), both resized to size×size, nnzero-style's VGG-19 loss, starting from the photo.
 */
export function styleProblem(size: number, seed: number): StyleProblem {
  const net = randomVgg19(seed);
  const image = (file: string) =>
    resizeImage(readImage(bundledImage(file), { channels: 3 }), size, size);
  const content = image('chelsea.png');
  const loss = new StyleTransferLoss(
    net,
    content,
    [{ image: image('starry_night.png'), weight: 1 }],
    LOSS_OPTIONS,
  );
  // The same estimate nnzero-style prints: 2 × (forward + backward-to-input + Gram products).
  const taps = [CONTENT_LAYER, ...STYLE_LAYERS];
  const cost = net.cost(size, size, taps);
  let gramMacs = 0;
  for (const layer of STYLE_LAYERS) {
    const [Cl, M] = cost.tapSizes.get(layer)!;
    gramMacs += 2 * Cl * Cl * M;
  }
  return {
    loss,
    x0: Float64Array.from(content.data),
    evalFlops: 2 * (2 * cost.macs + gramMacs),
    shape: `${size}x${size} VGG-19 to relu5_1 (random weights), L-BFGS`,
  };
}

/** Run L-BFGS on the problem as nnzero-style does (pixels in [0, 1]), calling back each iteration. */
function runLbfgs(
  p: StyleProblem,
  iterations: number,
  historySize: number,
  objective: Objective,
  onIteration: (info: IterationInfo) => void,
): number {
  const r = new LBFGS({
    lower: 0,
    upper: 1,
    historySize,
    maxIterations: iterations,
    // Only a runaway line search would reach this; the bench wants its iterations.
    maxEvaluations: 10 * iterations + 5,
    onIteration,
  }).minimize(objective, p.x0);
  return r.iterations;
}

/**
 * Time `iterations` L-BFGS iterations (after `warmup` ≥ 1) on `threads`, and emit
 * `style.iteration@size`: ms = median wall time of one iteration (its evaluations plus L-BFGS's
 * own vector work), msPerEvaluation = median time of one evaluation, gflops = evalFlops over it.
 */
export async function benchStyleIteration(
  p: StyleProblem,
  size: number,
  o: { warmup: number; iterations: number; threads: number; emit: (r: BenchRecord) => void },
): Promise<void> {
  const kernel = `style.iteration@${size}`;
  const ran = await withThreads(o.threads, () => {
    const objective = p.loss.objective();
    const evalMs: number[] = [];
    const timed: Objective = (x, g) => {
      const t0 = performance.now();
      const v = objective(x, g);
      evalMs.push(performance.now() - t0);
      return v;
    };
    const stamps: { t: number; evaluations: number }[] = [];
    const done = runLbfgs(p, o.warmup + o.iterations, CLI_HISTORY, timed, (info) => {
      stamps.push({ t: performance.now(), evaluations: info.evaluations });
    });
    if (done <= o.warmup) {
      throw new Error(`${kernel}: L-BFGS stopped after ${done} iterations, within the warm-up`);
    }
    const start = stamps[o.warmup - 1]!;
    const perIteration = stamps.slice(o.warmup).map((s, i) => s.t - stamps[o.warmup - 1 + i]!.t);
    const evaluations = stamps[stamps.length - 1]!.evaluations - start.evaluations;
    const msPerEvaluation = median(evalMs.slice(start.evaluations));
    o.emit({
      kernel,
      shape: p.shape,
      impl: 'nnzero-wasm',
      threads: o.threads,
      gflops: p.evalFlops / msPerEvaluation / 1e6,
      ms: median(perIteration),
      iterations: perIteration.length,
      evaluations,
      msPerEvaluation,
      note:
        `median of ${perIteration.length} L-BFGS iterations (history ${CLI_HISTORY}) after ${o.warmup} warm-up; ` +
        `${(p.evalFlops / 1e9).toFixed(1)} GFLOP per evaluation; gflops = that over the median evaluation`,
    });
  });
  if (!ran) {
    o.emit({
      kernel,
      shape: p.shape,
      impl: 'nnzero-wasm',
      threads: o.threads,
      gflops: null,
      ms: null,
      skipped: `the GEMM pool could not start ${o.threads} threads`,
    });
  }
}

// global.gc when node runs with --expose-gc; otherwise V8 is told to expose it now.
function gcFunction(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Sample the heap over `samples` style-transfer iterations on `threads`, after a warm-up that
 * fills L-BFGS's history (its curvature pairs are new arrays until the history is full; after
 * that each new pair replaces the oldest). After each iteration: memoryUsage() (what the
 * iteration added since the last GC), then forced GCs, then memoryUsage() again (what stays).
 * Collections V8 starts by itself during the iterations are counted: with no allocation in
 * steady state there would be none. Emits `style.heap@size`.
 */
export async function benchStyleHeap(
  p: StyleProblem,
  size: number,
  o: { samples: number; historySize: number; threads: number; emit: (r: BenchRecord) => void },
): Promise<void> {
  const gc = gcFunction();
  const warmup = o.historySize + 2;
  const retainedHeap: number[] = [];
  const retainedBuffers: number[] = [];
  const addedHeap: number[] = [];
  const addedBuffers: number[] = [];
  const windows: [number, number][] = [];
  const gcs: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  let base = process.memoryUsage();
  let since = 0;
  const ran = await withThreads(o.threads, () => {
    runLbfgs(p, warmup + o.samples, o.historySize, p.loss.objective(), ({ iteration }) => {
      if (iteration > warmup) {
        const now = process.memoryUsage();
        windows.push([since, performance.now()]);
        addedHeap.push(now.heapUsed - base.heapUsed);
        addedBuffers.push(now.arrayBuffers - base.arrayBuffers);
      }
      if (iteration >= warmup) {
        // A second GC: the first leaves some array-buffer storage to be freed behind it (measured:
        // after one, arrayBuffers wandered by ±10 MB between iterations; after two, by < 0.1 MB).
        gc();
        gc();
        base = process.memoryUsage();
        since = performance.now();
        if (iteration > warmup) {
          retainedHeap.push(base.heapUsed);
          retainedBuffers.push(base.arrayBuffers);
        }
      }
    });
  });
  // GC entries reach the observer asynchronously, after the synchronous run above.
  await new Promise((resolve) => setTimeout(resolve, 100));
  observer.disconnect();
  const kernel = `style.heap@${size}`;
  if (!ran || retainedHeap.length === 0) {
    o.emit({
      kernel,
      shape: p.shape,
      impl: 'nnzero-wasm',
      threads: o.threads,
      gflops: null,
      ms: null,
      skipped: ran
        ? 'L-BFGS stopped within the warm-up'
        : `the GEMM pool could not start ${o.threads} threads`,
    });
    return;
  }
  const forced = constants.NODE_PERFORMANCE_GC_FLAGS_FORCED;
  const collections = gcs.filter((e) => {
    const flags = (e as PerformanceEntry & { detail?: { flags?: number } }).detail?.flags ?? 0;
    return (flags & forced) === 0 && windows.some(([a, b]) => e.startTime >= a && e.startTime <= b);
  }).length;
  o.emit({
    kernel,
    shape: p.shape,
    impl: 'nnzero-wasm',
    threads: o.threads,
    gflops: null,
    ms: null,
    iterations: retainedHeap.length,
    heap: {
      samples: retainedHeap.length,
      heapUsed: byteSeries(retainedHeap),
      arrayBuffers: byteSeries(retainedBuffers),
      growthPerIteration: {
        heapUsed: Math.max(...addedHeap),
        arrayBuffers: Math.max(...addedBuffers),
      },
      collections,
    },
    note:
      `bytes after a forced GC at the end of each of ${retainedHeap.length} L-BFGS iterations ` +
      `(history ${o.historySize}, after ${warmup} warm-up iterations that fill it); slope in bytes per iteration; ` +
      'growthPerIteration = largest growth within one iteration before its GC (a lower bound of what it allocates); ' +
      'collections = GCs V8 started by itself during those iterations (0 = allocates less than the young generation holds)',
  });
}

/**
 * The chapter-4 CNN (notebooks/04-cnn-mnist.ts: its `lenet`, Adam at 1e-3, batches of 64) timed
 * over `batches` training steps after `warmup`, on each thread count, extrapolated to one epoch
 * of 60,000 images. Emits `mnist.cnn.epoch` with ms per epoch (training only, like the chapter's
 * secondsPerEpoch). The net and its shuffles are seeded alike for every thread count.
 */
export async function benchMnistEpoch(o: {
  warmup: number;
  batches: number;
  threads: readonly number[];
  seed: number;
  emit: (r: BenchRecord) => void;
}): Promise<void> {
  const batchSize = 64;
  const epochImages = 60000;
  const set = loadMnist('train', { dtype: 'float32', limit: (o.warmup + o.batches) * batchSize });
  const images = reshape(set.images, [set.images.shape[0]!, 1, 28, 28]);
  const shape = `LeNet conv5 1->16, conv5 16->32, fc 512->128->10, batch ${batchSize}`;
  for (const threads of o.threads) {
    const stamps: number[] = [];
    // trainEpoch reports each finished step to its progress reporter: a silent one keeps time.
    class StepClock extends Progress {
      override tick(): void {
        stamps.push(performance.now());
      }
    }
    const ran = await withThreads(threads, () => {
      const rng = new Rng(o.seed);
      const net = lenet(rng);
      const optimizer = new Adam(net.params(), { lr: 1e-3 });
      stamps.push(performance.now());
      trainEpoch(net, optimizer, images, set.labels, {
        batchSize,
        rng,
        progress: new StepClock(o.warmup + o.batches, { mode: 'silent' }),
      });
    });
    if (!ran) {
      o.emit({
        kernel: 'mnist.cnn.epoch',
        shape,
        impl: 'nnzero-wasm',
        threads,
        gflops: null,
        ms: null,
        skipped: `the GEMM pool could not start ${threads} threads`,
      });
      continue;
    }
    const perBatch = stamps.slice(o.warmup + 1).map((t, i) => t - stamps[o.warmup + i]!);
    o.emit({
      kernel: 'mnist.cnn.epoch',
      shape,
      impl: 'nnzero-wasm',
      threads,
      gflops: null,
      ms: median(perBatch) * (epochImages / batchSize),
      iterations: perBatch.length,
      note:
        `extrapolated: median of ${perBatch.length} timed batches (after ${o.warmup} warm-up) × ` +
        `${epochImages}/${batchSize} batches per epoch; training steps only, no evaluation; ` +
        'threads = GEMM pool size (products under 128³ multiply-adds stay on one thread)',
    });
  }
}
