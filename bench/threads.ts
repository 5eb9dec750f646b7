// Runs part of the benchmark on a given number of threads: the GEMM pool (lib/core/gemm-pool.ts)
// is started for that part and stopped after it, so one process measures 1 and 2 threads side by
// side. Only nnzero's WebAssembly GEMM (and the conv kernels on it) use the pool; the plain
// TypeScript tier and the peers always run on one thread.
import { startGemmPool, stopGemmPool } from '../lib/core/gemm-pool.js';

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
