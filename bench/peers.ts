// The peers the benchmark measures nnzero beside, behind one small interface each:
// @tensorflow/tfjs-core on its 'cpu' backend (plain JavaScript) and its 'wasm' backend (XNNPACK,
// WebAssembly SIMD), and convnetjs (plain JavaScript, float64). Inputs are drawn from our seeded
// Rng, so every run of the bench times the same numbers.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { Rng } from '../lib/core/index.js';

/** A tfjs backend the bench measures. */
export type TfjsBackend = 'cpu' | 'wasm';

/** How tfjs-backend-wasm came up: whether it runs the SIMD binary, and on how many threads. */
export interface TfjsWasmInfo {
  simd: boolean;
  threads: number;
  /** False in Node: tfjs-backend-wasm 4.x loads its multi-threaded binary only in browsers. */
  multithreadSupported: boolean;
}

/**
 * Start tfjs-backend-wasm on `threads` XNNPACK threads (its .wasm is read from node_modules) and
 * report what it actually runs. The 'cpu' backend stays the current one afterwards.
 */
export async function initTfjsWasm(threads = 1): Promise<TfjsWasmInfo> {
  setThreadsCount(threads); // must precede the backend's initialization
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs-backend-wasm failed to initialize');
  const info: TfjsWasmInfo = {
    simd: (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true,
    multithreadSupported: (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true,
    threads: getThreadsCount(),
  };
  await tf.setBackend('cpu');
  return info;
}

function randomTensor(rng: Rng, shape: number[], std = 1): tf.Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = std * rng.normal();
  return tf.tensor(data, shape);
}

// Run a kernel, wait for its result (dataSync: tfjs may defer work), and free it.
function once(f: () => tf.Tensor): () => void {
  return () => {
    const r = f();
    r.dataSync();
    r.dispose();
  };
}

/** Callable conv kernels of one backend on one shape; null where the backend has no such kernel. */
export interface PeerConv {
  forward: () => void;
  backwardInput: () => void;
  backwardWeights: (() => void) | null;
  dispose: () => void;
}

/**
 * tfjs's conv2d kernels on `backend` for a 3×3, pad 1, stride 1 layer C→F on an S×S image,
 * batch 1, in tfjs's own layout (NHWC, filters [kH, kW, C, F]), called directly.
 */
export async function tfjsConv(
  backend: TfjsBackend,
  C: number,
  F: number,
  S: number,
  rng: Rng,
): Promise<PeerConv> {
  await tf.setBackend(backend);
  const x = randomTensor(rng, [1, S, S, C]) as tf.Tensor4D;
  const w = randomTensor(rng, [3, 3, C, F], 0.1) as tf.Tensor4D;
  const dy = randomTensor(rng, [1, S, S, F]) as tf.Tensor4D;
  const conv = { strides: 1, pad: 'same' as const, dataFormat: 'NHWC' as const };
  const hasFilter = tf.getKernel('Conv2DBackpropFilter', backend) !== undefined;
  return {
    forward: once(() => tf.conv2d(x, w, 1, 'same')),
    backwardInput: once(
      () =>
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropInput',
            { dy, filter: w },
            { ...conv, inputShape: [1, S, S, C] },
          ) as tf.Tensor,
    ),
    backwardWeights: hasFilter
      ? once(
          () =>
            tf
              .engine()
              .runKernel(
                'Conv2DBackpropFilter',
                { x, dy },
                { ...conv, filterShape: [3, 3, C, F] },
              ) as tf.Tensor,
        )
      : null,
    dispose: () => tf.dispose([x, w, dy]),
  };
}

/** tfjs's matMul on `backend` for two n×n float32 matrices; returns the run and its cleanup. */
export async function tfjsMatMul(
  backend: TfjsBackend,
  n: number,
  rng: Rng,
): Promise<{ run: () => void; dispose: () => void }> {
  await tf.setBackend(backend);
  const a = randomTensor(rng, [n, n]);
  const b = randomTensor(rng, [n, n]);
  return { run: once(() => tf.matMul(a, b)), dispose: () => tf.dispose([a, b]) };
}

// convnetjs is a CommonJS bundle without types; these are the few members the bench touches.
interface ConvnetVol {
  w: Float64Array;
  dw: Float64Array;
}
interface ConvnetConvLayer {
  forward(v: ConvnetVol, training: boolean): ConvnetVol;
  backward(): void;
  filters: ConvnetVol[];
}
interface Convnet {
  Vol: new (sx: number, sy: number, depth: number, c?: number) => ConvnetVol;
  ConvLayer: new (opt: Record<string, number>) => ConvnetConvLayer;
}
const convnetjs = createRequire(import.meta.url)('convnetjs') as Convnet;

/**
 * convnetjs's conv layer (3×3, pad 1, C→F on S×S). Its backward computes the input and weight
 * gradients together, so it is one run here. Its constructor draws weights with Math.random;
 * they are overwritten from `rng`.
 */
export function convnetjsConv(
  C: number,
  F: number,
  S: number,
  rng: Rng,
): { forward: () => void; backward: () => void } {
  const layer = new convnetjs.ConvLayer({
    in_sx: S,
    in_sy: S,
    in_depth: C,
    sx: 3,
    filters: F,
    stride: 1,
    pad: 1,
  });
  for (const f of layer.filters) for (let i = 0; i < f.w.length; i++) f.w[i] = 0.1 * rng.normal();
  const v = new convnetjs.Vol(S, S, C, 0.5);
  return { forward: () => layer.forward(v, true), backward: () => layer.backward() };
}
