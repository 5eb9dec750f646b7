// `npm run bench`: conv2d (forward, backward to the input, backward to the weights) and GEMM,
// nnzero beside @tensorflow/tfjs-backend-cpu and convnetjs, in one process, on the same shapes,
// single thread, float32. Prints GFLOP/s and the ratio to tfjs-cpu; `--json FILE` writes records.
// Each figure is the median of several runs after one warm-up run.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng, gemmStrided, zeros, type Tensor32 } from '../lib/core/index.js';
import { gemmWasmStrided } from '../lib/core/gemm-wasm.js';
import {
  conv2dBackwardInput,
  conv2dBackwardWeights,
  conv2dForward,
  convGeometry,
  setConvGemm,
} from '../lib/cnn/index.js';

/** One measurement (or a skipped one). */
interface BenchRecord {
  kernel: string;
  shape: string;
  impl: string;
  threads: number;
  gflops: number | null;
  ms: number | null;
  skipped?: string;
}

// convnetjs is a CommonJS bundle without types; these are the few members the bench touches.
interface ConvnetVol {
  w: Float64Array;
  dw: Float64Array;
}
interface ConvnetConvLayer {
  forward(v: ConvnetVol, training: boolean): ConvnetVol;
  backward(): void;
  out_act: ConvnetVol;
}
interface Convnet {
  Vol: new (sx: number, sy: number, depth: number, c?: number) => ConvnetVol;
  ConvLayer: new (opt: Record<string, number>) => ConvnetConvLayer;
}
const convnetjs = createRequire(import.meta.url)('convnetjs') as Convnet;

const vggShapes: [number, number, number][] = [
  [3, 64, 224],
  [64, 64, 112],
  [128, 128, 56],
  [256, 256, 28],
  [512, 512, 14],
];
const gemmSizes = [256, 512, 1024];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

// Median milliseconds of `run` after one warm-up call: at least minRuns runs, more (up to
// maxRuns) while within budget.
function time(run: () => void, budgetMs = 2500, maxRuns = 9, minRuns = 3): number {
  run();
  const times: number[] = [];
  const start = performance.now();
  while (
    times.length < minRuns ||
    (performance.now() - start < budgetMs && times.length < maxRuns)
  ) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  return median(times);
}

const records: BenchRecord[] = [];
let printed = 0; // rows of the table already printed
function record(kernel: string, shape: string, impl: string, flops: number, ms: number): void {
  records.push({ kernel, shape, impl, threads: 1, gflops: flops / ms / 1e6, ms });
}
function skip(kernel: string, shape: string, impl: string, reason: string): void {
  records.push({ kernel, shape, impl, threads: 1, gflops: null, ms: null, skipped: reason });
}

const argv = process.argv.slice(2);
const jsonAt = argv.indexOf('--json');
const jsonFile = jsonAt >= 0 ? argv[jsonAt + 1] : undefined;
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
const withConvnet = !argv.includes('--no-convnetjs');

await tf.setBackend('cpu');
const rng = new Rng(2024);

// --- conv2d: 3×3, pad 1, stride 1, batch 1 ----------------------------------------------------
// tfjs-cpu's backward-to-weights runs near 0.015 GFLOP/s (a minute per large layer): it is timed
// once, on shapes whose estimated single run stays under this budget, and skipped elsewhere.
const tfjsFilterBudgetMs = 15000;
let tfjsFilterGflops = calibrateTfjsFilter();

// Time tfjs-cpu's backward-to-weights (and ours) on a small layer, 16->16@28, to estimate how
// long one run on each VGG-like shape would take. @returns tfjs-cpu's GFLOP/s there
function calibrateTfjsFilter(): number {
  setConvGemm('typescript');
  const [C, F, S] = [16, 16, 28];
  const shape = `${C}->${F}@${S}`;
  const flops = 2 * F * S * S * C * 9;
  const x = rng.fillNormal(zeros([1, C, S, S], 'float32'));
  const dy = rng.fillNormal(zeros([1, F, S, S], 'float32'));
  const dw = zeros([F, C, 3, 3], 'float32');
  const geom = convGeometry(x.shape, dw.shape, { pad: 1 });
  record(
    'conv2d.backwardWeights',
    shape,
    'nnzero',
    flops,
    time(() => conv2dBackwardWeights(dw, null, dy, x, geom)),
  );
  const tx = tf.randomNormal([1, S, S, C]) as tf.Tensor4D;
  const tdy = tf.randomNormal([1, S, S, F]) as tf.Tensor4D;
  const ms = time(
    () => {
      const r = tf.engine().runKernel(
        'Conv2DBackpropFilter',
        { x: tx, dy: tdy },
        {
          strides: 1,
          pad: 'same',
          dataFormat: 'NHWC',
          filterShape: [3, 3, C, F],
        },
      ) as tf.Tensor;
      r.dataSync();
      r.dispose();
    },
    1000,
    3,
  );
  record('conv2d.backwardWeights', shape, 'tfjs-cpu', flops, ms);
  tx.dispose();
  tdy.dispose();
  return flops / ms / 1e6;
}

for (const [C, F, S] of vggShapes) {
  const shape = `${C}->${F}@${S}`;
  if (only !== undefined && only !== shape && only !== 'conv') continue;
  const flops = 2 * F * S * S * C * 9;
  const x = rng.fillNormal(zeros([1, C, S, S], 'float32'));
  const w = rng.fillNormal(zeros([F, C, 3, 3], 'float32'), 0, 0.1);
  const b = zeros([F], 'float32');
  const geom = convGeometry(x.shape, w.shape, { pad: 1 });
  const out: Tensor32 = zeros([1, F, S, S], 'float32');
  const dy = rng.fillNormal(zeros([1, F, S, S], 'float32'));
  const dx = zeros([1, C, S, S], 'float32');
  const dw = zeros([F, C, 3, 3], 'float32');
  // Plain TypeScript (the "nnzero" figures), then the WebAssembly SIMD tier, both one thread.
  for (const [impl, tier] of [
    ['nnzero', 'typescript'],
    ['nnzero-wasm', 'wasm'],
  ] as const) {
    setConvGemm(tier);
    record(
      'conv2d.forward',
      shape,
      impl,
      flops,
      time(() => conv2dForward(out, x, w, b, geom)),
    );
    record(
      'conv2d.backwardInput',
      shape,
      impl,
      flops,
      time(() => conv2dBackwardInput(dx, dy, w, geom)),
    );
    record(
      'conv2d.backwardWeights',
      shape,
      impl,
      flops,
      time(() => conv2dBackwardWeights(dw, null, dy, x, geom)),
    );
  }
  setConvGemm('wasm');

  // tfjs-cpu in its native NHWC layout, filters [kH, kW, C, F]; kernels called directly.
  const tx = tf.randomNormal([1, S, S, C]) as tf.Tensor4D;
  const tw = tf.randomNormal([3, 3, C, F], 0, 0.1) as tf.Tensor4D;
  const tdy = tf.randomNormal([1, S, S, F]) as tf.Tensor4D;
  const conv = { strides: 1, pad: 'same' as const, dataFormat: 'NHWC' as const };
  const once = (f: () => tf.Tensor) => () => {
    const r = f();
    r.dataSync();
    r.dispose();
  };
  record(
    'conv2d.forward',
    shape,
    'tfjs-cpu',
    flops,
    time(once(() => tf.conv2d(tx, tw, 1, 'same'))),
  );
  record(
    'conv2d.backwardInput',
    shape,
    'tfjs-cpu',
    flops,
    time(
      once(() =>
        tf.engine().runKernel(
          'Conv2DBackpropInput',
          { dy: tdy, filter: tw },
          {
            ...conv,
            inputShape: [1, S, S, C],
          },
        ),
      ),
    ),
  );
  const filterRun = once(() =>
    tf.engine().runKernel(
      'Conv2DBackpropFilter',
      { x: tx, dy: tdy },
      {
        ...conv,
        filterShape: [3, 3, C, F],
      },
    ),
  );
  const estimate = flops / tfjsFilterGflops / 1e6;
  if (estimate > tfjsFilterBudgetMs) {
    skip(
      'conv2d.backwardWeights',
      shape,
      'tfjs-cpu',
      `one run would take about ${(estimate / 1000).toFixed(0)} s at the ${tfjsFilterGflops.toFixed(3)} GFLOP/s measured on 16->16@28`,
    );
  } else {
    const t0 = performance.now();
    filterRun();
    const ms = performance.now() - t0;
    record('conv2d.backwardWeights', shape, 'tfjs-cpu', flops, ms);
    tfjsFilterGflops = flops / ms / 1e6;
  }
  tx.dispose();
  tw.dispose();
  tdy.dispose();

  // convnetjs: one layer object; its backward computes input and weight gradients together.
  if (withConvnet) {
    const layer = new convnetjs.ConvLayer({
      in_sx: S,
      in_sy: S,
      in_depth: C,
      sx: 3,
      filters: F,
      stride: 1,
      pad: 1,
    });
    const v = new convnetjs.Vol(S, S, C, 0.5);
    record(
      'conv2d.forward',
      shape,
      'convnetjs',
      flops,
      time(() => layer.forward(v, true), 2500, 3, 2),
    );
    record(
      'conv2d.backwardInput+Weights',
      shape,
      'convnetjs',
      2 * flops,
      time(() => layer.backward(), 2500, 3, 2),
    );
  }
  print();
}

// --- GEMM: square, float32 -------------------------------------------------------------------
for (const n of gemmSizes) {
  if (only !== undefined && only !== 'gemm') continue;
  const shape = `${n}x${n}x${n}`;
  const flops = 2 * n * n * n;
  const a = rng.fillNormal(zeros([n, n], 'float32')).data;
  const bm = rng.fillNormal(zeros([n, n], 'float32')).data;
  const c = new Float32Array(n * n);
  const ms = time(() => gemmStrided(n, n, n, 1, a, 0, n, 1, bm, 0, n, 1, 0, c, 0, n, 1));
  record('gemm', shape, 'nnzero', flops, ms);
  const wasmMs = time(() => gemmWasmStrided(n, n, n, 1, a, 0, n, 1, bm, 0, n, 1, 0, c, 0, n, 1));
  record('gemm', shape, 'nnzero-wasm', flops, wasmMs);
  const ta = tf.tensor2d(a, [n, n]);
  const tb = tf.tensor2d(bm, [n, n]);
  record(
    'gemm',
    shape,
    'tfjs-cpu',
    flops,
    time(() => {
      const r = tf.matMul(ta, tb);
      r.dataSync();
      r.dispose();
    }),
  );
  ta.dispose();
  tb.dispose();
}
print();
if (jsonFile !== undefined) writeFileSync(jsonFile, JSON.stringify(records, null, 2) + '\n');

// The table so far: one row per kernel and shape, nnzero beside its peers.
function print(): void {
  const rows = new Map<string, Map<string, BenchRecord>>();
  for (const r of records) {
    const key = `${r.kernel}|${r.shape}`;
    if (!rows.has(key)) rows.set(key, new Map());
    rows.get(key)!.set(r.impl, r);
  }
  const fmt = (r: BenchRecord | undefined): string =>
    r === undefined ? '—' : r.gflops === null ? 'skipped' : r.gflops.toFixed(3);
  const entries = [...rows.entries()];
  if (printed === 0) {
    console.log(
      'kernel                        shape          nnzero  tfjs-cpu  convnetjs  nnzero/tfjs    wasm  (GFLOP/s, 1 thread; nnzero = plain TypeScript)',
    );
  }
  for (const [key, impls] of entries.slice(printed)) {
    const [kernel, shape] = key.split('|') as [string, string];
    const ours = impls.get('nnzero');
    const theirs = impls.get('tfjs-cpu');
    const a = ours?.gflops ?? null;
    const b = theirs?.gflops ?? null;
    const ratio = a !== null && b !== null ? `${(a / b).toFixed(1)}×` : '—';
    console.log(
      `${kernel.padEnd(29)} ${shape.padEnd(13)} ${fmt(ours).padStart(7)} ${fmt(theirs).padStart(9)} ${fmt(impls.get('convnetjs')).padStart(10)} ${ratio.padStart(12)} ${fmt(impls.get('nnzero-wasm')).padStart(7)}`,
    );
  }
  printed = entries.length;
}
