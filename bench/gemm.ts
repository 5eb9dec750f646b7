// GEMM throughput on square problems, next to ndarray-gemm as a naive peer. Prints the median
// GFLOP/s (2·M·N·K flops per call) of several timed runs after warm-up, by wall clock and per
// second of this process's CPU time (steadier when other jobs share the cores; for the pool it
// is the rate per busy core). Run `npx tsx bench/gemm.ts [sizes...]`; GEMM_BENCH=gemmWasm,gemm
// picks rows, NNZERO_THREADS sets the pool size.
import { createRequire } from 'node:module';
import ndarray from 'ndarray';
import type { NdArray } from 'ndarray';
import { gemm } from '../lib/core/gemm.js';
import type { GemmMatrix } from '../lib/core/gemm.js';
import { gemmWasm } from '../lib/core/gemm-wasm.js';
import { defaultThreads, startGemmPool, stopGemmPool } from '../lib/core/gemm-pool.js';

type Float = Float32Array | Float64Array;
type Gemm = (c: GemmMatrix, a: GemmMatrix, b: GemmMatrix) => unknown;

// ndarray-gemm ships no types; its call shape is gemm(out, a, b, alpha?, beta?).
const require = createRequire(import.meta.url);
const ndarrayGemm = require('ndarray-gemm') as (
  c: NdArray<Float>,
  a: NdArray<Float>,
  b: NdArray<Float>,
) => void;

function fill(x: Float, seed: number): Float {
  let s = seed >>> 0;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    x[i] = s / 4294967296 - 0.5;
  }
  return x;
}

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  return s[Math.floor(s.length / 2)]!;
}

function measure(
  n: number,
  dtype: 'float32' | 'float64',
  run: Gemm,
  budgetMs: number,
): [wall: number, cpu: number] {
  const make = (seed: number): NdArray<Float> => {
    const data = dtype === 'float32' ? new Float32Array(n * n) : new Float64Array(n * n);
    return ndarray<Float>(fill(data, seed), [n, n]);
  };
  const a = make(1);
  const b = make(2);
  const c = make(3);
  const flops = 2 * n * n * n;
  run(c, a, b);
  run(c, a, b);
  const wall: number[] = [];
  const cpu: number[] = [];
  const start = performance.now();
  while (wall.length < 5 || (performance.now() - start < budgetMs && wall.length < 21)) {
    const u0 = process.cpuUsage();
    const t0 = performance.now();
    run(c, a, b);
    wall.push(performance.now() - t0);
    const u = process.cpuUsage(u0);
    cpu.push((u.user + u.system) / 1000);
  }
  return [flops / (median(wall) * 1e6), flops / (median(cpu) * 1e6)];
}

const sizes = process.argv.slice(2).map(Number);
const peer: Gemm = (c, a, b) =>
  ndarrayGemm(c as NdArray<Float>, a as NdArray<Float>, b as NdArray<Float>);
// name, function, time budget per size (ms), float32 only, threads (the pool runs only then).
const impls: [string, Gemm, number, boolean, number][] = [
  ['gemmWasm', gemmWasm, 2000, true, 1],
  ['gemmWasm-pool', gemmWasm, 2000, true, defaultThreads()],
  ['gemm', gemm, 3000, false, 1],
  ['ndarray-gemm', peer, 1500, false, 1],
];
const only = process.env['GEMM_BENCH'];
console.log('impl           threads dtype    size   GFLOP/s (wall)   GFLOP/s (per CPU-second)');
for (const [name, run, budget, float32Only, threads] of impls) {
  if (only !== undefined && !only.split(',').includes(name)) continue;
  if (threads > 1) await startGemmPool(threads);
  for (const dtype of ['float32', 'float64'] as const) {
    if (float32Only && dtype === 'float64') continue;
    for (const n of sizes.length > 0 ? sizes : [256, 512, 1024]) {
      const [wall, cpu] = measure(n, dtype, run, budget);
      const cols = [name.padEnd(14), String(threads).padStart(7), dtype.padEnd(8)];
      const rates = [wall.toFixed(2).padStart(15), cpu.toFixed(2).padStart(15)];
      console.log(`${cols.join(' ')} ${String(n).padStart(5)} ${rates.join(' ')}`);
    }
  }
  if (threads > 1) await stopGemmPool();
}
