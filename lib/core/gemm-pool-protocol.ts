// The words the GEMM pool (gemm-pool.ts) and its helper threads (gemm-worker.ts) exchange
// through each helper's shared Int32Array control block, and the size of its argument block.

/** Index of the job counter; the main thread bumps it (or sets STOP) to wake the helper. */
export const SEQ = 0;
/** Index where the helper writes the counter of the last job it finished. */
export const DONE = 1;
/** Index the helper sets to 1 once its kernel instance is ready. */
export const READY = 2;
/** Index the helper sets to 1 if a job threw (the calling thread then throws too). */
export const FAILED = 3;
/** Words in a control block. */
export const CONTROL_WORDS = 4;
/** The SEQ value that tells a helper to exit. */
export const STOP = -1;
/** Arguments of one kernel call (assembly/gemm.ts `gemm`), as float64 values. */
export const ARGS = 15;
