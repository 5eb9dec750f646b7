// `npm run bench`: nnzero's kernels and end-to-end work, measured in one process beside its
// peers. Kernels (kernels.ts): conv2d forward / backward-to-input / backward-to-weights on the
// VGG-like shapes and square GEMM, for nnzero's plain TypeScript tier (1 thread) and WebAssembly
// tier (1 and 2 threads through the GEMM pool) beside tfjs-cpu, tfjs-wasm and convnetjs.
// End-to-end (e2e.ts): one VGG-19 style-transfer iteration at 256 px (1 and 2 threads), the heap
// over 50 of them, and the chapter-4 CNN's MNIST epoch. Figures are medians after a warm-up.
// Progress goes to stderr; the summary tables to stdout; `--json FILE` writes the records.
import { Command, InvalidArgumentError, Option } from 'commander';
import { Rng, relaxedSimdSupported, writeFileAtomic } from '../lib/core/index.js';
import { setConvAlgorithm, setConvGemm, type ConvAlgorithm } from '../lib/cnn/index.js';
import { benchMnistEpoch, benchStyleHeap, benchStyleIteration, styleProblem } from './e2e.js';
import {
  benchConv,
  benchGemm,
  benchHostProbes,
  hostProbes,
  calibrateTfjsFilter,
  convShapeName,
  type ConvShape,
  type KernelBenchOptions,
} from './kernels.js';
import { initTfjsWasm } from './peers.js';
import { validateRecords, type BenchRecord, type TimeBudget } from './records.js';
import { e2eTable, hostTable, kernelTable } from './table.js';

/** Sizes and repetitions of one bench run (full, or --quick for a smoke run in seconds). */
interface Plan {
  convShapes: ConvShape[];
  gemmSizes: number[];
  /** Planes and size of the streaming copy that shows what two threads gain on memory traffic. */
  hostCopy: [C: number, S: number];
  // Independent products for the compute ceiling: count, n (square C), k.
  hostCompute: [count: number, n: number, k: number];
  budget: TimeBudget;
  /** A small layer where tfjs-cpu's backward-to-weights rate is measured (see kernels.ts). */
  filterCalibration: ConvShape;
  /** Longest single tfjs-cpu backward-to-weights run the bench waits for. */
  tfjsFilterBudgetMs: number;
  styleSize: number;
  styleWarmup: number;
  styleIterations: number;
  heapHistory: number;
  heapSamples: number;
  mnistWarmup: number;
  mnistBatches: number;
}

const FULL: Plan = {
  // Issue 4's VGG-like shapes: 3×3, pad 1, batch 1.
  convShapes: [
    [3, 64, 224],
    [64, 64, 112],
    [128, 128, 56],
    [256, 256, 28],
    [512, 512, 14],
  ],
  gemmSizes: [256, 512, 1024],
  // 12.8 MB in, 13.1 MB out: the size of the first VGG layer's output, past this core's L2.
  hostCopy: [64, 224],
  // 32 products of 128 × 128 × 128 (4.2 MFLOP each): A, B, their packs and C in 320 KiB of L2.
  hostCompute: [32, 128, 128],
  // Up to 21 runs within 2.5 s per kernel: on this shared machine single runs of one kernel
  // ranged ±30%, and a ×2/×1 ratio of two medians of 9 moved by ±0.3 from run to run.
  budget: { budgetMs: 2500, minRuns: 3, maxRuns: 21 },
  filterCalibration: [16, 16, 28],
  tfjsFilterBudgetMs: 15000,
  styleSize: 256,
  styleWarmup: 2,
  styleIterations: 5,
  heapHistory: 10,
  heapSamples: 50,
  mnistWarmup: 5,
  mnistBatches: 50,
};

// Tiny sizes: every code path runs, nothing is worth reading as a speed.
const QUICK: Plan = {
  convShapes: [
    [3, 8, 16],
    [8, 8, 8],
  ],
  gemmSizes: [32, 64],
  hostCopy: [64, 128],
  hostCompute: [8, 32, 64],
  budget: { budgetMs: 0, minRuns: 2, maxRuns: 2 },
  filterCalibration: [4, 4, 8],
  tfjsFilterBudgetMs: 15000,
  styleSize: 32,
  styleWarmup: 1,
  styleIterations: 2,
  heapHistory: 2,
  heapSamples: 3,
  mnistWarmup: 1,
  mnistBatches: 2,
};

const GROUPS = ['conv', 'gemm', 'host', 'e2e', 'style', 'heap', 'mnist'] as const;

interface CliOptions {
  json?: string;
  only?: string;
  quick?: boolean;
  threads: number[];
  convnetjs: boolean;
  tfjsWasm: boolean;
  convAlgorithm: ConvAlgorithm;
  heapIterations?: number;
  styleSize?: number;
}

const positive = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`${what} must be a positive integer, got '${v}'`);
  return n;
};

const program = new Command()
  .name('npm run bench --')
  .description(
    'Benchmark nnzero kernels and end-to-end work beside tfjs-cpu, tfjs-wasm and convnetjs.',
  )
  .option(
    '--json <file>',
    'also write the records (an array of {kernel, shape, impl, threads, gflops, ms, …})',
  )
  .option(
    '--only <list>',
    `run only these parts, comma-separated: ${GROUPS.join(', ')} (e2e = style, heap, mnist), or conv shapes like 128->128@56`,
  )
  .option(
    '--quick',
    'tiny sizes and few repetitions: a smoke run in seconds (numbers mean nothing)',
  )
  .addOption(
    new Option(
      '--threads <list>',
      "thread counts for nnzero's WebAssembly tier (1 is always included)",
    )
      .default([1, 2], '1,2')
      .argParser((v) => v.split(',').map(positive('--threads'))),
  )
  .option('--no-convnetjs', 'leave convnetjs out (it is slow on the large layers)')
  .option('--no-tfjs-wasm', 'leave tfjs-backend-wasm out')
  .addOption(
    new Option(
      '--conv-algorithm <kind>',
      "nnzero's float32 conv on the WebAssembly tier: auto (Winograd F(2×2,3×3) for eligible 3×3 stride-1 forward and backward-input), im2col, or winograd",
    )
      .choices(['auto', 'im2col', 'winograd'])
      .default('auto'),
  )
  .addOption(
    new Option(
      '--heap-iterations <n>',
      'style iterations sampled for the heap (default 50)',
    ).argParser(positive('--heap-iterations')),
  )
  .addOption(
    new Option(
      '--style-size <px>',
      'image size of the style-transfer figures (default 256)',
    ).argParser(positive('--style-size')),
  );
program.parse();
const opts = program.opts<CliOptions>();

const plan: Plan = { ...(opts.quick ? QUICK : FULL) };
if (opts.heapIterations !== undefined) plan.heapSamples = opts.heapIterations;
if (opts.styleSize !== undefined) plan.styleSize = opts.styleSize;
// Ratios are taken against one thread, so 1 is always measured.
const threads = [...new Set([1, ...opts.threads])].sort((a, b) => a - b);

// --only: groups, or single conv shapes (which imply no other group unless named).
const wanted = new Set((opts.only ?? GROUPS.join(',')).split(',').map((s) => s.trim()));
const shapeNames = new Set(FULL.convShapes.concat(QUICK.convShapes).map(convShapeName));
for (const w of wanted) {
  if (!(GROUPS as readonly string[]).includes(w) && !shapeNames.has(w)) {
    program.error(
      `--only: unknown part '${w}'; parts are ${GROUPS.join(', ')} or a conv shape (${[...shapeNames].join(', ')})`,
    );
  }
}
const runs = (group: (typeof GROUPS)[number]): boolean =>
  wanted.has(group) || (['style', 'heap', 'mnist'].includes(group) && wanted.has('e2e'));
const convShapes = plan.convShapes.filter((s) => runs('conv') || wanted.has(convShapeName(s)));

const records: BenchRecord[] = [];
function emit(r: BenchRecord): void {
  records.push(r);
  const what = r.skipped
    ? `skipped: ${r.skipped}`
    : r.gflops !== null
      ? `${r.gflops.toFixed(3)} GFLOP/s, ${r.ms?.toFixed(2)} ms`
      : r.ms !== null
        ? r.ms < 1000
          ? `${r.ms.toFixed(2)} ms${r.note === undefined ? '' : ` (${r.note})`}`
          : `${(r.ms / 1000).toFixed(2)} s`
        : 'heap sampled';
  console.error(`${r.kernel} ${r.shape} ${r.impl} ×${r.threads}: ${what}`);
}

const rng = new Rng(2024);
setConvGemm('wasm');
setConvAlgorithm(opts.convAlgorithm);
console.error(
  `nnzero conv algorithm: ${opts.convAlgorithm} (GFLOP/s count a direct convolution's 2·F·C·kH·kW·outH·outW flops, whatever runs)`,
);
console.error(
  `nnzero WebAssembly kernel: ${relaxedSimdSupported() ? 'relaxed SIMD (fused multiply-add)' : 'plain SIMD (mul + add)'}` +
    (process.env.NNZERO_FMA === '0' ? ' (NNZERO_FMA=0)' : ''),
);
// tfjs-backend-wasm comes up last: its unshared memory grows by detaching ArrayBuffers, after
// which V8 checks every typed-array access for detachment, process-wide (plain-JavaScript
// kernels measured 1.5–2× slower). Everything else is measured before it (see onlyTfjsWasm).
// The host probes, on buffers of their own in kernel memory (see hostProbes).
const probes = hostProbes(plan.hostCopy, plan.hostCompute);
const k: KernelBenchOptions = {
  threads,
  budget: plan.budget,
  tfjsWasm: null,
  convnetjs: opts.convnetjs,
  rng,
  emit,
  ...(probes === undefined ? {} : { probes }),
};

if (convShapes.length > 0) {
  let tfjsFilterGflops = await calibrateTfjsFilter(plan.filterCalibration, k);
  for (const shape of convShapes) {
    tfjsFilterGflops = await benchConv(shape, k, tfjsFilterGflops, plan.tfjsFilterBudgetMs);
  }
}
if (runs('gemm')) for (const n of plan.gemmSizes) await benchGemm(n, k);
if (runs('host')) {
  if (probes === undefined) {
    console.error('bench: host probes skipped (kernel memory holds no resident arrays here)');
  } else {
    await benchHostProbes(probes, k);
  }
}

if (runs('style') || runs('heap')) {
  const problem = styleProblem(plan.styleSize, 0);
  if (runs('style')) {
    for (const t of threads) {
      await benchStyleIteration(problem, plan.styleSize, {
        warmup: plan.styleWarmup,
        iterations: plan.styleIterations,
        threads: t,
        emit,
      });
    }
  }
  if (runs('heap')) {
    await benchStyleHeap(problem, plan.styleSize, {
      samples: plan.heapSamples,
      historySize: plan.heapHistory,
      threads: Math.max(...threads),
      emit,
    });
  }
}
if (runs('mnist')) {
  await benchMnistEpoch({
    warmup: plan.mnistWarmup,
    batches: plan.mnistBatches,
    threads,
    seed: 1337,
    emit,
  });
}

if (opts.tfjsWasm && (convShapes.length > 0 || runs('gemm'))) {
  const tfjsWasm = await initTfjsWasm(1);
  console.error(
    `tfjs-backend-wasm: ${tfjsWasm.simd ? 'SIMD' : 'NO SIMD'}, ${tfjsWasm.threads} thread(s)` +
      (tfjsWasm.multithreadSupported ? '' : ' (its multi-threaded build is browser-only)'),
  );
  const last: KernelBenchOptions = { ...k, tfjsWasm, onlyTfjsWasm: true };
  let tfjsFilterGflops = 0;
  for (const shape of convShapes) {
    tfjsFilterGflops = await benchConv(shape, last, tfjsFilterGflops, plan.tfjsFilterBudgetMs);
  }
  if (runs('gemm')) for (const n of plan.gemmSizes) await benchGemm(n, last);
}

const summary = [
  ...kernelTable(records, threads),
  ...hostTable(records, threads),
  '',
  ...e2eTable(records),
];
console.log(summary.join('\n').trim());
if (opts.json !== undefined) {
  // The file is for other tools: write only what passes the schema check, and never half of it.
  writeFileAtomic(opts.json, JSON.stringify(validateRecords(records), null, 2) + '\n');
  console.error(`records written to ${opts.json}`);
}
