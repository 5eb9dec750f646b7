// The benchmark's records (chapter 4's format, which other tools read: kernel, shape, impl,
// threads, gflops, ms, extended by issue 6 with end-to-end and heap fields), the check that a
// file of records has that shape, and the timing helper every measurement goes through.

/** first/last/max of a series of byte counts and its least-squares slope, bytes per sample. */
export interface ByteSeries {
  first: number;
  last: number;
  max: number;
  slope: number;
}

/** What the heap did over a run of style-transfer iterations (see e2e.ts, `benchStyleHeap`). */
export interface HeapReport {
  /** Samples taken, one after each iteration. */
  samples: number;
  /** process.memoryUsage().heapUsed after a forced GC, per iteration. */
  heapUsed: ByteSeries;
  /** process.memoryUsage().arrayBuffers (typed-array storage) after a forced GC, per iteration. */
  arrayBuffers: ByteSeries;
  /**
   * Largest growth within one iteration, from the forced GC before it to its end: a lower bound
   * of what one iteration allocates (a collection V8 starts during it frees part of that).
   */
  growthPerIteration: { heapUsed: number; arrayBuffers: number };
  /**
   * Garbage collections V8 started by itself during the sampled iterations (the forced ones not
   * counted). None over many iterations means they allocate less than the young generation holds.
   */
  collections: number;
}

/** One measurement, or a skipped one (gflops and ms null, `skipped` says why). */
export interface BenchRecord {
  /** `gemm`, `conv2d.forward`, `conv2d.backwardInput`, `style.iteration@256`, … */
  kernel: string;
  /** `128->128@56` (C->F@size), `1024x1024x1024` (MxNxK), or what an end-to-end run covers. */
  shape: string;
  /** `nnzero` (plain TypeScript), `nnzero-wasm` (resident operands), `nnzero-wasm-staged`, `tfjs-cpu`, `tfjs-wasm`, `convnetjs`. */
  impl: string;
  /** Threads the implementation was allowed to use. */
  threads: number;
  /** Billions of floating-point operations per second (2 per multiply-add), or null. */
  gflops: number | null;
  /** Median milliseconds of one run (for end-to-end records: of one iteration or one epoch). */
  ms: number | null;
  /** Why there is no number. */
  skipped?: string;
  /** How the number was obtained when it is not a plain median of runs (extrapolated, …). */
  note?: string;
  /** End-to-end: timed iterations or batches. */
  iterations?: number;
  /** style.iteration: loss-and-gradient evaluations during the timed iterations. */
  evaluations?: number;
  /** style.iteration: median milliseconds of one evaluation. */
  msPerEvaluation?: number;
  /** style.heap: the heap over the sampled iterations. */
  heap?: HeapReport;
  /**
   * Runs on the thread pool: the fraction of the threads' time they spent inside the pool's
   * blocks (0 … 1; see ThreadTimes in threads.ts). With it, ×t/×1 splits into scheduling (how
   * much of the time the threads worked) and speed (how fast the same work ran side by side).
   */
  busy?: number;
  /**
   * Pooled conv runs: ×t/×1 of the host probes (bench/kernels.ts, hostProbes) timed right after
   * this shape's kernels: independent small products (compute) and a streaming copy (copy), what
   * the machine gave a second thread for arithmetic and for memory traffic at that moment.
   */
  ceilings?: { compute: number; copy: number };
}

/** The middle value (the upper middle for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Least-squares slope of ys against their index 0, 1, 2, … (0 for fewer than two values). */
export function slope(ys: readonly number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const meanX = (n - 1) / 2;
  const meanY = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  ys.forEach((y, i) => {
    sxy += (i - meanX) * (y - meanY);
    sxx += (i - meanX) ** 2;
  });
  return sxy / sxx;
}

/** first/last/max/slope of a series of byte counts. */
export function byteSeries(ys: readonly number[]): ByteSeries {
  if (ys.length === 0) throw new Error('byteSeries of no samples');
  return { first: ys[0]!, last: ys[ys.length - 1]!, max: Math.max(...ys), slope: slope(ys) };
}

/** How long `time` keeps running: at least minRuns runs, more (up to maxRuns) while within budgetMs. */
export interface TimeBudget {
  budgetMs: number;
  minRuns: number;
  maxRuns: number;
}

/** Median milliseconds of `run` after one warm-up call (see `TimeBudget`). */
export function time(run: () => void, budget: TimeBudget): number {
  run();
  const times: number[] = [];
  const start = performance.now();
  while (
    times.length < budget.minRuns ||
    (performance.now() - start < budget.budgetMs && times.length < budget.maxRuns)
  ) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/**
 * Median milliseconds of each of `runs`, timed in alternating rounds (each run once per round, the
 * order reversed every other round) after one warm-up call each, so that a ratio between them is
 * taken on the same machine conditions even when a shared machine speeds up or slows down
 * between seconds. The budget is per run. `prepare[i]`, if given, runs untimed right before each
 * timed call of run i.
 */
export function timeInterleaved(
  runs: readonly (() => void)[],
  budget: TimeBudget,
  prepare: readonly ((() => void) | undefined)[] = [],
): number[] {
  for (const run of runs) run();
  const times: number[][] = runs.map(() => []);
  const start = performance.now();
  for (
    let round = 0;
    round < budget.minRuns ||
    (performance.now() - start < budget.budgetMs * runs.length && round < budget.maxRuns);
    round++
  ) {
    const order = runs.map((_, i) => (round % 2 === 0 ? i : runs.length - 1 - i));
    for (const i of order) {
      prepare[i]?.();
      const t0 = performance.now();
      runs[i]!();
      times[i]!.push(performance.now() - t0);
    }
  }
  return times.map(median);
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x >= 0;

function checkSeries(x: unknown, where: string): void {
  if (!isObject(x))
    throw new Error(`${where}: expected {first, last, max, slope}, got ${String(x)}`);
  for (const k of ['first', 'last', 'max']) {
    if (!isCount(x[k])) throw new Error(`${where}.${k}: expected bytes ≥ 0, got ${String(x[k])}`);
  }
  if (typeof x['slope'] !== 'number' || !Number.isFinite(x['slope']))
    throw new Error(`${where}.slope: expected a finite number, got ${String(x['slope'])}`);
}

/**
 * Check that `data` (a parsed --json file) is an array of well-formed records and return it
 * typed; throws naming the first bad record and field.
 */
export function validateRecords(data: unknown): BenchRecord[] {
  if (!Array.isArray(data)) throw new Error('bench records: expected a JSON array');
  data.forEach((r: unknown, i) => {
    const at = `record ${i}`;
    if (!isObject(r)) throw new Error(`${at}: expected an object`);
    const name = `${at} (${String(r['kernel'])} ${String(r['shape'])} ${String(r['impl'])})`;
    for (const k of ['kernel', 'shape', 'impl']) {
      if (typeof r[k] !== 'string' || r[k] === '')
        throw new Error(`${name}: '${k}' must be a non-empty string`);
    }
    if (!Number.isInteger(r['threads']) || (r['threads'] as number) < 1)
      throw new Error(`${name}: 'threads' must be an integer ≥ 1, got ${String(r['threads'])}`);
    for (const k of ['gflops', 'ms']) {
      const v = r[k];
      if (v !== null && !(typeof v === 'number' && Number.isFinite(v) && v > 0))
        throw new Error(`${name}: '${k}' must be a positive number or null, got ${String(v)}`);
    }
    if ('skipped' in r && (typeof r['skipped'] !== 'string' || r['skipped'] === ''))
      throw new Error(`${name}: 'skipped' must be a non-empty string`);
    if ('note' in r && typeof r['note'] !== 'string')
      throw new Error(`${name}: 'note' must be a string`);
    for (const k of ['iterations', 'evaluations', 'msPerEvaluation']) {
      if (k in r && !(isCount(r[k]) && (r[k] as number) > 0))
        throw new Error(`${name}: '${k}' must be a positive number, got ${String(r[k])}`);
    }
    if ('busy' in r && !(typeof r['busy'] === 'number' && r['busy'] >= 0 && r['busy'] <= 1.05))
      throw new Error(
        `${name}: 'busy' must be a fraction of the threads' time, got ${String(r['busy'])}`,
      );
    const ceilings = r['ceilings'];
    if (ceilings !== undefined) {
      if (!isObject(ceilings)) throw new Error(`${name}: 'ceilings' must be an object`);
      for (const k of ['compute', 'copy']) {
        const v = ceilings[k];
        if (!(typeof v === 'number' && Number.isFinite(v) && v > 0))
          throw new Error(`${name}: 'ceilings.${k}' must be a positive ratio, got ${String(v)}`);
      }
    }
    const heap = r['heap'];
    if (heap !== undefined) {
      if (!isObject(heap)) throw new Error(`${name}: 'heap' must be an object`);
      if (!Number.isInteger(heap['samples']) || (heap['samples'] as number) < 1)
        throw new Error(`${name}: heap.samples must be an integer ≥ 1`);
      checkSeries(heap['heapUsed'], `${name}: heap.heapUsed`);
      checkSeries(heap['arrayBuffers'], `${name}: heap.arrayBuffers`);
      const a = heap['growthPerIteration'];
      if (
        !isObject(a) ||
        typeof a['heapUsed'] !== 'number' ||
        typeof a['arrayBuffers'] !== 'number'
      )
        throw new Error(`${name}: heap.growthPerIteration must be {heapUsed, arrayBuffers}`);
      if (!isCount(heap['collections']))
        throw new Error(`${name}: heap.collections must be a count`);
    }
    // Every record says what it measured or why it did not.
    const measured = r['gflops'] !== null || r['ms'] !== null || heap !== undefined;
    if (!measured && !('skipped' in r))
      throw new Error(`${name}: no gflops, ms or heap, and no 'skipped' reason`);
    if (measured && 'skipped' in r) throw new Error(`${name}: has numbers and a 'skipped' reason`);
  });
  return data as BenchRecord[];
}
