// What the GEMM pool (gemm-pool.ts) and its helper threads (gemm-worker.ts) share: one Int32Array
// control block, one Float64Array holding the current job, and the rule for claiming a block of
// C. Blocks are handed out dynamically, so a helper the OS has not scheduled yet simply gets
// fewer of them; nobody waits for an idle thread.
import type { KernelArgs } from './gemm-wasm.js';

/** Control word: the current job's tag; helpers sleep on it, STOP tells them to exit. */
export const SEQ = 0;
/** Control word: (tag << 16) | index of the next unclaimed block. */
export const NEXT = 1;
/** Control word: blocks of the current job that are finished. */
export const FINISHED = 2;
/** Control word: set to 1 if any block of the current job threw. */
export const FAILED = 3;
/** Control word: number of blocks in the current job. */
export const BLOCKS = 4;
/** Words in the control block. */
export const CONTROL_WORDS = 5;
/** The SEQ value that tells helpers to exit. */
export const STOP = -1;

/** Job slots: the 14 kernel arguments before `scratch`, then how the job is cut into blocks. */
export const JOB = {
  split: 14, // 1: blocks of rows; 0: blocks of columns
  size: 15, // rows or columns per block
  scratch: 16, // byte address of scratch region 0 (the calling thread's)
  scratchBytes: 17, // bytes per scratch region
  length: 18,
} as const;

/**
 * Claim the next block of job `tag`, or return -1 when the job is over or has been replaced.
 * A successful claim also guarantees the job (and so its slots) stays put until that block is
 * counted in FINISHED, because the caller waits for every block before it posts another job.
 */
export function claimBlock(ctl: Int32Array, tag: number): number {
  for (;;) {
    const next = Atomics.load(ctl, NEXT);
    if (next >>> 16 !== tag) return -1;
    const index = next & 0xffff;
    if (index >= Atomics.load(ctl, BLOCKS)) return -1;
    if (Atomics.compareExchange(ctl, NEXT, next, next + 1) === next) return index;
  }
}

/** Kernel arguments for block `index` of the job in `job`, using scratch region `region`. */
export function blockArgs(job: Float64Array, index: number, region: number): KernelArgs {
  const args = Array.from(job.subarray(0, 14));
  const [M, N] = [args[0], args[1]];
  const byRows = job[JOB.split] === 1;
  const size = job[JOB.size];
  const start = index * size;
  const len = Math.min(size, (byRows ? M : N) - start);
  if (byRows) {
    args[0] = len;
    args[4] += start * args[5] * 4; // A pointer moves down `start` rows
    args[11] += start * args[12] * 4; // so does C's
  } else {
    args[1] = len;
    args[7] += start * args[9] * 4; // B pointer moves right `start` columns
    args[11] += start * args[13] * 4; // so does C's
  }
  args.push(job[JOB.scratch] + region * job[JOB.scratchBytes]);
  return args as KernelArgs;
}
