// Runs part of the benchmark on a given number of threads: the GEMM pool (lib/core/gemm-pool.ts)
// is started for that part and stopped after it, so one process measures 1 and 2 threads side by
// side. Only nnzero's WebAssembly GEMM (and the conv kernels on it) use the pool; the plain
// TypeScript tier and the peers always run on one thread.
import {
  poolBusyMs,
  startGemmPool,
  stopGemmPool,
  wakePool,
  withoutPool,
} from '../lib/core/gemm-pool.js';
import { time, timeInterleaved, type TimeBudget } from './records.js';

/**
 * Run `body` with nnzero's GEMM on `threads` threads (no pool for 1). Returns false, without
 * running `body`, when the pool cannot get that many (no shared WebAssembly memory).
 */
export async function withThreads(
  threads: number,
  body: () => void | Promise<void>,
): Promise<boolean> {
  if (threads <= 1) {
    await body();
    return true;
  }
  const got = await startGemmPool(threads);
  try {
    if (got !== threads) return false;
    await body();
    return true;
  } finally {
    await stopGemmPool();
  }
}

/** What timeOnThreads measured: per thread count, one entry per run. */
export interface ThreadTimes {
  /** Median milliseconds. */
  ms: Map<number, number[]>;
  /**
   * For pool sizes above 1: the fraction of the threads' time (threads × wall time, over all
   * pooled calls of the run) spent inside blocks of the pool's jobs (poolBusyMs). 1 would be every
   * thread working from the start of each call to its end; what is missing was spent waiting for
   * a job, for the last blocks of one, or on the calling thread's serial work.
   */
  busy: Map<number, number[]>;
}

/**
 * Median milliseconds of each of `runs` on one thread and on each pool size in `threads`, and how
 * busy the pool's threads were (ThreadTimes). While a
 * pool runs, its runs alternate with one-thread runs of the same kernel (the pool set aside, see
 * withoutPool), so a ×t/×1 ratio compares the same seconds of a shared machine; the one-thread
 * figures come from the first pool's rounds. A thread count the pool could not start is absent.
 * Each pooled run is timed with the helpers awake (wakePool, untimed, just before): after a
 * one-thread run they had slept, and waking them cost 0.3–0.9 ms per call (the first layer's
 * backward-to-input: 5.87 against 5.37 ms, alternating), a cost a network's back-to-back convs
 * do not pay. The one-thread runs are not touched.
 */
export async function timeOnThreads(
  threads: readonly number[],
  runs: readonly (() => void)[],
  budget: TimeBudget,
): Promise<ThreadTimes> {
  const result: ThreadTimes = { ms: new Map(), busy: new Map() };
  const busyNow = (): number => (poolBusyMs() ?? []).reduce((sum, ms) => sum + ms, 0);
  for (const t of threads.filter((t) => t > 1)) {
    await withThreads(t, () => {
      const busy = runs.map(() => ({ inBlocks: 0, wall: 0 }));
      const pooledRuns = runs.map((run, i) => () => {
        const [b0, t0] = [busyNow(), performance.now()];
        run();
        busy[i]!.wall += performance.now() - t0;
        busy[i]!.inBlocks += busyNow() - b0;
      });
      const pairs = pooledRuns.map((pooled, i) =>
        timeInterleaved([() => withoutPool(runs[i]!), pooled], budget, [undefined, wakePool]),
      );
      const alone = pairs.map(([one]) => one!);
      const pooled = pairs.map(([, many]) => many!);
      if (!result.ms.has(1)) result.ms.set(1, alone);
      result.ms.set(t, pooled);
      result.busy.set(
        t,
        busy.map(({ inBlocks, wall }) => inBlocks / (t * wall)),
      );
    });
  }
  // No pool could start (or only 1 was asked for): one thread on its own.
  if (!result.ms.has(1)) {
    const alone = runs.map((run) => time(run, budget));
    result.ms.set(1, alone);
  }
  return result;
}
