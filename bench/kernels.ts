// Kernel throughput: conv2d (forward, backward to the input, backward to the weights; 3×3, pad 1,
// stride 1, batch 1, float32) and square float32 GEMM, nnzero's plain TypeScript tier on one
// thread and its WebAssembly tier on each requested thread count, beside tfjs-cpu, tfjs-wasm and
// convnetjs on the same shapes. A conv layer C→F on an S×S image costs 2·F·S²·C·9 flops in each
// direction; an n×n GEMM 2n³.
import {
  Rng,
  gemmStrided,
  kernelZeros,
  residentAddress,
  zeros,
  type Tensor32,
} from '../lib/core/index.js';
import { channelPassStaged, gemmWasmStagedBatch, gemmWasmStrided } from '../lib/core/gemm-wasm.js';
import {
  conv2dBackwardInput,
  conv2dBackwardWeights,
  conv2dForward,
  convGeometry,
  setConvGemm,
} from '../lib/cnn/index.js';
import { convnetjsConv, tfjsConv, tfjsMatMul, type PeerConv, type TfjsWasmInfo } from './peers.js';
import { time, type BenchRecord, type TimeBudget } from './records.js';
import { timeOnThreads } from './threads.js';

/** A conv layer of the bench: [C, F, S] = input channels, output channels, image size. */
export type ConvShape = readonly [C: number, F: number, S: number];

/** The name of a conv shape in records, `C->F@S`. */
export const convShapeName = ([C, F, S]: ConvShape): string => `${C}->${F}@${S}`;

/** What the kernel part of the bench runs and where its records go. */
export interface KernelBenchOptions {
  /** Thread counts for nnzero's WebAssembly tier, e.g. [1, 2]. */
  threads: readonly number[];
  budget: TimeBudget;
  /** tfjs-backend-wasm as it came up, or null to leave it out. */
  tfjsWasm: TfjsWasmInfo | null;
  /**
   * Measure tfjs-backend-wasm only (the second phase of a run). Its memory is not shared, so it
   * grows by detaching ArrayBuffers, which turns off a process-wide V8 fast path for typed
   * arrays: every plain-JavaScript kernel measured afterwards (ours, tfjs-cpu's, convnetjs's)
   * ran 1.5–2× slower. So run.ts measures everything else first.
   */
  onlyTfjsWasm?: boolean;
  convnetjs: boolean;
  rng: Rng;
  emit: (r: BenchRecord) => void;
  /**
   * The host probes (hostProbes), timed right after each conv shape's WebAssembly kernels on
   * the same thread counts, so that every pooled conv record carries the host's ceilings of that
   * moment (BenchRecord.ceilings).
   */
  probes?: HostProbes;
}

const CONV_KERNELS = ['conv2d.forward', 'conv2d.backwardInput', 'conv2d.backwardWeights'] as const;

const gflops = (flops: number, ms: number): number => flops / ms / 1e6;

function tfjsWasmNote(info: TfjsWasmInfo): string {
  return `XNNPACK, ${info.simd ? 'SIMD' : 'no SIMD (!)'} binary, ${info.threads} thread(s) (getThreadsCount)`;
}

/**
 * tfjs-cpu's backward-to-weights runs near 0.015 GFLOP/s, a minute per large VGG layer. Time it
 * (and ours) on a small layer to learn its rate, so later shapes whose single run would exceed
 * the budget can be recorded as skipped. @returns tfjs-cpu's GFLOP/s on that layer
 */
export async function calibrateTfjsFilter(
  shape: ConvShape,
  o: KernelBenchOptions,
): Promise<number> {
  const [C, F, S] = shape;
  const name = convShapeName(shape);
  const flops = 2 * F * S * S * C * 9;
  const x = o.rng.fillNormal(zeros([1, C, S, S], 'float32'));
  const dy = o.rng.fillNormal(zeros([1, F, S, S], 'float32'));
  const dw = zeros([F, C, 3, 3], 'float32');
  const geom = convGeometry(x.shape, dw.shape, { pad: 1 });
  setConvGemm('typescript');
  const ours = time(() => conv2dBackwardWeights(dw, null, dy, x, geom), o.budget);
  setConvGemm('wasm');
  o.emit({
    kernel: 'conv2d.backwardWeights',
    shape: name,
    impl: 'nnzero',
    threads: 1,
    gflops: gflops(flops, ours),
    ms: ours,
  });
  const peer = await tfjsConv('cpu', C, F, S, o.rng);
  const ms = time(peer.backwardWeights!, { ...o.budget, maxRuns: Math.min(3, o.budget.maxRuns) });
  peer.dispose();
  o.emit({
    kernel: 'conv2d.backwardWeights',
    shape: name,
    impl: 'tfjs-cpu',
    threads: 1,
    gflops: gflops(flops, ms),
    ms,
  });
  return gflops(flops, ms);
}

/**
 * Measure one VGG-like conv layer in every implementation. tfjs-cpu's backward-to-weights is run
 * once, and only when `tfjsFilterGflops` says it ends within `tfjsFilterBudgetMs`.
 * @returns the updated estimate of tfjs-cpu's backward-to-weights rate
 */
export async function benchConv(
  shape: ConvShape,
  o: KernelBenchOptions,
  tfjsFilterGflops: number,
  tfjsFilterBudgetMs: number,
): Promise<number> {
  const [C, F, S] = shape;
  const name = convShapeName(shape);
  const flops = 2 * F * S * S * C * 9;
  const x = o.rng.fillNormal(zeros([1, C, S, S], 'float32'));
  const w = o.rng.fillNormal(zeros([F, C, 3, 3], 'float32'), 0, 0.1);
  const b = zeros([F], 'float32');
  const geom = convGeometry(x.shape, w.shape, { pad: 1 });
  const out: Tensor32 = zeros([1, F, S, S], 'float32');
  const dy = o.rng.fillNormal(zeros([1, F, S, S], 'float32'));
  const dx = zeros([1, C, S, S], 'float32');
  const dw = zeros([F, C, 3, 3], 'float32');
  const ours: Record<(typeof CONV_KERNELS)[number], () => void> = {
    'conv2d.forward': () => conv2dForward(out, x, w, b, geom),
    'conv2d.backwardInput': () => conv2dBackwardInput(dx, dy, w, geom),
    'conv2d.backwardWeights': () => conv2dBackwardWeights(dw, null, dy, x, geom),
  };
  const others = o.onlyTfjsWasm !== true;
  if (others) {
    // Plain TypeScript (the "nnzero" figures; one thread, it never uses the pool).
    setConvGemm('typescript');
    for (const kernel of CONV_KERNELS) {
      const ms = time(ours[kernel], o.budget);
      o.emit({ kernel, shape: name, impl: 'nnzero', threads: 1, gflops: gflops(flops, ms), ms });
    }
    // The WebAssembly SIMD tier on each thread count, one thread interleaved with the pool: on
    // resident tensors (in kernel memory, as the style network keeps its activations; the
    // "nnzero-wasm" figures) and on the same ordinary arrays as above, staged in and out per call
    // ("nnzero-wasm-staged"), in the same rounds.
    setConvGemm('wasm');
    const place = (t: Tensor32): Tensor32 => {
      const r = kernelZeros(t.shape);
      r.data.set(t.data);
      return r;
    };
    const [xr, wr, outr, dyr, dxr, dwr] = [x, w, out, dy, dx, dw].map(place) as Tensor32[];
    const resident: (() => void)[] = [
      () => conv2dForward(outr!, xr!, wr!, b, geom),
      () => conv2dBackwardInput(dxr!, dyr!, wr!, geom),
      () => conv2dBackwardWeights(dwr!, null, dyr!, xr!, geom),
    ];
    const probes = o.probes === undefined ? [] : [o.probes.compute.run, o.probes.copy.run];
    const byThreads = await timeOnThreads(
      o.threads,
      [...resident, ...CONV_KERNELS.map((kernel) => ours[kernel]), ...probes],
      o.budget,
    );
    // The probes' ×t/×1, timed right after this shape's kernels.
    const kernels = 2 * CONV_KERNELS.length;
    const ceilings = (t: number): { ceilings?: { compute: number; copy: number } } => {
      const [one, many] = [byThreads.ms.get(1), byThreads.ms.get(t)];
      if (probes.length === 0 || t === 1 || one === undefined || many === undefined) return {};
      const ratio = (i: number): number => one[kernels + i]! / many[kernels + i]!;
      return { ceilings: { compute: ratio(0), copy: ratio(1) } };
    };
    for (const [impl, first] of [
      ['nnzero-wasm', 0],
      ['nnzero-wasm-staged', CONV_KERNELS.length],
    ] as const) {
      for (const t of o.threads) {
        const times = byThreads.ms.get(t);
        const busy = byThreads.busy.get(t);
        CONV_KERNELS.forEach((kernel, i) => {
          const ms = times?.[first + i];
          o.emit(
            ms === undefined
              ? {
                  kernel,
                  shape: name,
                  impl,
                  threads: t,
                  gflops: null,
                  ms: null,
                  skipped: `the GEMM pool could not start ${t} threads (no shared WebAssembly memory)`,
                }
              : {
                  kernel,
                  shape: name,
                  impl,
                  threads: t,
                  gflops: gflops(flops, ms),
                  ms,
                  ...(busy?.[first + i] === undefined ? {} : { busy: busy[first + i] }),
                  ...ceilings(t),
                },
          );
        });
      }
    }
  }

  const peer = async (impl: string, conv: PeerConv, threads: number, note?: string) => {
    const extra = note === undefined ? {} : { note };
    for (const [kernel, run] of [
      ['conv2d.forward', conv.forward],
      ['conv2d.backwardInput', conv.backwardInput],
    ] as const) {
      const ms = time(run, o.budget);
      o.emit({ kernel, shape: name, impl, threads, gflops: gflops(flops, ms), ms, ...extra });
    }
  };

  if (others) {
    // tfjs-cpu, its backward-to-weights budgeted (see calibrateTfjsFilter).
    const cpu = await tfjsConv('cpu', C, F, S, o.rng);
    await peer('tfjs-cpu', cpu, 1);
    const estimate = flops / tfjsFilterGflops / 1e6;
    if (estimate > tfjsFilterBudgetMs) {
      o.emit({
        kernel: 'conv2d.backwardWeights',
        shape: name,
        impl: 'tfjs-cpu',
        threads: 1,
        gflops: null,
        ms: null,
        skipped: `one run would take about ${(estimate / 1000).toFixed(0)} s at the ${tfjsFilterGflops.toFixed(3)} GFLOP/s measured on a smaller layer`,
      });
    } else {
      const t0 = performance.now();
      cpu.backwardWeights!();
      const ms = performance.now() - t0;
      o.emit({
        kernel: 'conv2d.backwardWeights',
        shape: name,
        impl: 'tfjs-cpu',
        threads: 1,
        gflops: gflops(flops, ms),
        ms,
        note: 'one run (it is that slow)',
      });
      tfjsFilterGflops = gflops(flops, ms);
    }
    cpu.dispose();
  }

  // tfjs-wasm: XNNPACK's forward; its backward-to-input is a plain C++ loop; no backward-to-weights.
  if (o.tfjsWasm !== null) {
    const note = tfjsWasmNote(o.tfjsWasm);
    const wasm = await tfjsConv('wasm', C, F, S, o.rng);
    await peer('tfjs-wasm', wasm, o.tfjsWasm.threads, note);
    if (wasm.backwardWeights === null) {
      o.emit({
        kernel: 'conv2d.backwardWeights',
        shape: name,
        impl: 'tfjs-wasm',
        threads: o.tfjsWasm.threads,
        gflops: null,
        ms: null,
        skipped: 'unsupported: tfjs-backend-wasm registers no Conv2DBackpropFilter kernel',
      });
    } else {
      const ms = time(wasm.backwardWeights, o.budget);
      o.emit({
        kernel: 'conv2d.backwardWeights',
        shape: name,
        impl: 'tfjs-wasm',
        threads: o.tfjsWasm.threads,
        gflops: gflops(flops, ms),
        ms,
        note,
      });
    }
    wasm.dispose();
  }

  // convnetjs: its backward computes input and weight gradients together (twice the flops).
  if (o.convnetjs && others) {
    const layer = convnetjsConv(C, F, S, o.rng);
    const few = { ...o.budget, minRuns: Math.min(2, o.budget.minRuns), maxRuns: 3 };
    const fwd = time(layer.forward, few);
    o.emit({
      kernel: 'conv2d.forward',
      shape: name,
      impl: 'convnetjs',
      threads: 1,
      gflops: gflops(flops, fwd),
      ms: fwd,
    });
    const bwd = time(layer.backward, few);
    o.emit({
      kernel: 'conv2d.backwardInput+Weights',
      shape: name,
      impl: 'convnetjs',
      threads: 1,
      gflops: gflops(2 * flops, bwd),
      ms: bwd,
    });
  }
  return tfjsFilterGflops;
}

/** Measure an n×n×n float32 GEMM in every implementation. */
export async function benchGemm(n: number, o: KernelBenchOptions): Promise<void> {
  const shape = `${n}x${n}x${n}`;
  const flops = 2 * n * n * n;
  const a = o.rng.fillNormal(zeros([n, n], 'float32')).data;
  const bm = o.rng.fillNormal(zeros([n, n], 'float32')).data;
  const c = new Float32Array(n * n);
  const emit = (impl: string, threads: number, ms: number, note?: string, busy?: number): void =>
    o.emit({
      kernel: 'gemm',
      shape,
      impl,
      threads,
      gflops: gflops(flops, ms),
      ms,
      ...(note === undefined ? {} : { note }),
      ...(busy === undefined ? {} : { busy }),
    });
  if (o.onlyTfjsWasm !== true) {
    emit(
      'nnzero',
      1,
      time(() => gemmStrided(n, n, n, 1, a, 0, n, 1, bm, 0, n, 1, 0, c, 0, n, 1), o.budget),
    );
    // The WebAssembly SIMD tier as the conv rows measure it: on operands resident in kernel
    // memory ("nnzero-wasm"; read and written in place) and on the ordinary arrays above, staged
    // in and out per call ("nnzero-wasm-staged": three serial copies of n² floats), in the same
    // alternating rounds.
    const place = (data: Float32Array): Float32Array => {
      const r = kernelZeros([n, n]).data;
      r.set(data);
      return r;
    };
    const [ar, br, cr] = [a, bm, c].map(place) as [Float32Array, Float32Array, Float32Array];
    const byThreads = await timeOnThreads(
      o.threads,
      [
        () => gemmWasmStrided(n, n, n, 1, ar, 0, n, 1, br, 0, n, 1, 0, cr, 0, n, 1),
        () => gemmWasmStrided(n, n, n, 1, a, 0, n, 1, bm, 0, n, 1, 0, c, 0, n, 1),
      ],
      o.budget,
    );
    for (const [impl, i] of [
      ['nnzero-wasm', 0],
      ['nnzero-wasm-staged', 1],
    ] as const) {
      for (const t of o.threads) {
        const ms = byThreads.ms.get(t)?.[i];
        const busy = byThreads.busy.get(t)?.[i];
        if (ms !== undefined) {
          emit(impl, t, ms, undefined, busy);
        } else {
          o.emit({
            kernel: 'gemm',
            shape,
            impl,
            threads: t,
            gflops: null,
            ms: null,
            skipped: `the GEMM pool could not start ${t} threads (no shared WebAssembly memory)`,
          });
        }
      }
    }
    const cpu = await tfjsMatMul('cpu', n, o.rng);
    emit('tfjs-cpu', 1, time(cpu.run, o.budget));
    cpu.dispose();
  }
  if (o.tfjsWasm !== null) {
    const wasm = await tfjsMatMul('wasm', n, o.rng);
    emit('tfjs-wasm', o.tfjsWasm.threads, time(wasm.run, o.budget), tfjsWasmNote(o.tfjsWasm));
    wasm.dispose();
  }
}

/** The two host probes: their runs and what one run moves or computes. */
export interface HostProbes {
  /** The streaming copy (see benchHostProbes) and the bytes one run reads and writes. */
  copy: { run: () => void; bytes: number; shape: string };
  /** The independent products (see benchHostProbes), the flops of one run, what they are. */
  compute: { run: () => void; flops: number; shape: string; note: string };
}

/**
 * The host probes on buffers of their own in kernel memory (resident, so no kernel call between
 * two probe runs overwrites them): a copy of C planes of S × S floats, and [count, n, k]
 * independent products; undefined where kernel memory holds no resident arrays (unshared).
 */
export function hostProbes(
  [C, S]: readonly [number, number],
  [count, n, k]: readonly [number, number, number],
): HostProbes | undefined {
  if (residentAddress(kernelZeros([1]).data, 0) === null) return undefined;
  const Sp = S + 2;
  // Byte address of a new resident array of `floats` floats, filled by `value`.
  const resident = (floats: number, value: (i: number) => number = () => 0): number => {
    const { data } = kernelZeros([floats]);
    const at = residentAddress(data, 0);
    if (at === null) throw new Error('bench: the host probes need resident kernel memory');
    for (let i = 0; i < floats; i++) data[i] = value(i);
    return at;
  };
  const [x, p] = [resident(C * S * S, (i) => i % 7), resident(C * Sp * Sp)];
  const [a, b] = [resident(n * k, (i) => (i % 13) / 13), resident(k * n, (i) => (i % 11) / 11)];
  const c = resident(count * n * n);
  return {
    copy: {
      run: () =>
        channelPassStaged(
          'winogradPad',
          [x, C, S, S, p, Sp, Sp, 1, 1],
          [S * S * 4, 0, 0, 0, Sp * Sp * 4, 0, 0, 0, 0],
          C * Sp * Sp,
        ),
      bytes: 4 * C * (S * S + Sp * Sp),
      shape: `${C}x${S}x${S}`,
    },
    compute: {
      run: () =>
        gemmWasmStagedBatch(count, 0, 0, 4 * n * n, n, n, k, 1, a, k, 1, b, n, 1, 0, c, n, 1),
      flops: 2 * count * n * n * k,
      shape: `${count}x${n}x${n}x${k}`,
      note: `${count} independent ${n}x${n}x${k} products (operands and packs in L2), whole ones per thread`,
    },
  };
}

/**
 * What two threads can gain on this machine at the moment, timed on one thread and on each pool
 * size, alternating (the probes of hostProbes):
 * - `host.copy`, when the work is memory traffic: a streaming copy of C planes of S × S floats
 *   into zero-padded planes (the Winograd pad pass, split over the pool by planes like every
 *   channel pass). Its ×2/×1 is the ceiling of the memory-bound phases of a conv (staging,
 *   transforms, the first layer's wide products).
 * - `host.compute`, when the work is arithmetic: `count` independent n × n × k products (one A
 *   and B read by all, each its own C), so small that a product's operands and packs sit in one
 *   core's L2, handed out whole by the pool's batch runner. Nothing a thread writes is shared,
 *   so its ×2/×1 is the ceiling of the compute-bound phases (the GEMMs): below 2 by what the
 *   host takes from the second core (its other tenants, a lower clock with both cores busy).
 */
export async function benchHostProbes(probes: HostProbes, o: KernelBenchOptions): Promise<void> {
  const { copy, compute } = probes;
  const byThreads = await timeOnThreads(o.threads, [copy.run, compute.run], o.budget);
  for (const t of o.threads) {
    const [copyMs, computeMs] = byThreads.ms.get(t) ?? [];
    const at = { impl: 'nnzero-wasm', threads: t };
    if (copyMs !== undefined) {
      const { bytes, shape } = copy;
      const rate = `${(bytes / copyMs / 1e6).toFixed(1)} GB/s`;
      const note = `${rate} read + written (${(bytes / 2 ** 20).toFixed(1)} MiB)`;
      o.emit({ kernel: 'host.copy', shape, ...at, gflops: null, ms: copyMs, note });
    }
    if (computeMs !== undefined) {
      const { flops, shape, note } = compute;
      const gflops = flops / computeMs / 1e6;
      o.emit({ kernel: 'host.compute', shape, ...at, gflops, ms: computeMs, note });
    }
  }
}
