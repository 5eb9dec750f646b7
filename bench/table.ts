// The bench's summary: one table of kernel throughput (GFLOP/s, nnzero beside its peers, with
// the ratios issues 4 and 6 set targets on) and one of the end-to-end figures, from the records.
import type { BenchRecord } from './records.js';

// Three significant digits, at least one decimal ("—" when absent).
function num(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
}

const ratio = (a: number | null | undefined, b: number | null | undefined): string =>
  a === null || a === undefined || b === null || b === undefined ? '—' : `${(a / b).toFixed(2)}×`;

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const kib = (bytes: number): string => `${bytes >= 0 ? '+' : ''}${(bytes / 1024).toFixed(1)} KiB`;

function find(
  records: readonly BenchRecord[],
  kernel: string,
  shape: string,
  impl: string,
  threads?: number,
): BenchRecord | undefined {
  return records.find(
    (r) =>
      r.kernel === kernel &&
      r.shape === shape &&
      r.impl === impl &&
      (threads === undefined || r.threads === threads),
  );
}

// The threads' time in blocks on `t` threads over the one-thread time of the same kernel (see
// the legend of kernelTable), or '—'.
function cost(many: BenchRecord | undefined, one: BenchRecord | undefined, t: number): string {
  if (many?.busy === undefined || many.ms === null || one === undefined || one.ms === null)
    return '—';
  return ((many.busy * t * many.ms) / one.ms).toFixed(2);
}

const cell = (r: BenchRecord | undefined): string =>
  r === undefined ? '—' : r.skipped !== undefined ? 'skip' : num(r.gflops);

/**
 * The kernel table: per kernel and shape, GFLOP/s of nnzero's TypeScript tier (1 thread), its
 * WebAssembly tier on each of `threads`, tfjs-cpu, tfjs-wasm and convnetjs, then the ratios.
 * Backward-to-weights is compared with tfjs-wasm's backward-to-input (marked †), which has no
 * backward-to-weights; that is the comparison issue 6 sets its target on.
 */
export function kernelTable(records: readonly BenchRecord[], threads: readonly number[]): string[] {
  const rows = new Map<string, [string, string]>();
  for (const r of records) {
    if (r.kernel === 'gemm' || r.kernel.startsWith('conv2d.'))
      rows.set(`${r.kernel}|${r.shape}`, [r.kernel, r.shape]);
  }
  if (rows.size === 0) return [];
  const maxT = Math.max(...threads);
  const head = [
    'kernel'.padEnd(28),
    'shape'.padEnd(14),
    'ts×1'.padStart(7),
    ...threads.map((t) => `wasm×${t}`.padStart(7)),
    ...threads.map((t) => `st×${t}`.padStart(7)),
    'tfjs-cpu'.padStart(8),
    'tfjs-wasm'.padStart(9),
    'convnetjs'.padStart(9),
    'ts/cpu'.padStart(8),
    ...threads.map((t) => `w×${t}/tw`.padStart(8)),
    ...(maxT > 1
      ? [
          `×${maxT}/×1`.padStart(7),
          `st ×${maxT}/×1`.padStart(11),
          `busy×${maxT}`.padStart(7),
          `cost×${maxT}`.padStart(7),
          `cpu×${maxT}`.padStart(6),
          `mem×${maxT}`.padStart(6),
        ]
      : []),
  ];
  const lines = [head.join(' ')];
  let dagger = false;
  for (const [kernel, shape] of rows.values()) {
    const ts = find(records, kernel, shape, 'nnzero', 1);
    const wasm = threads.map((t) => find(records, kernel, shape, 'nnzero-wasm', t));
    const staged = threads.map((t) => find(records, kernel, shape, 'nnzero-wasm-staged', t));
    const cpu = find(records, kernel, shape, 'tfjs-cpu');
    const tw = find(records, kernel, shape, 'tfjs-wasm');
    // tfjs-wasm has no backward-to-weights: compare with its backward-to-input.
    const twBase =
      kernel === 'conv2d.backwardWeights' && (tw === undefined || tw.gflops === null)
        ? find(records, 'conv2d.backwardInput', shape, 'tfjs-wasm')
        : tw;
    const mark = twBase !== tw && twBase !== undefined && twBase.gflops !== null ? '†' : '';
    if (mark) dagger = true;
    const one = wasm[threads.indexOf(1)];
    const most = wasm[threads.indexOf(maxT)];
    lines.push(
      [
        kernel.padEnd(28),
        shape.padEnd(14),
        cell(ts).padStart(7),
        ...wasm.map((r) => cell(r).padStart(7)),
        ...staged.map((r) => cell(r).padStart(7)),
        cell(cpu).padStart(8),
        cell(tw).padStart(9),
        cell(find(records, kernel, shape, 'convnetjs')).padStart(9),
        ratio(ts?.gflops, cpu?.gflops).padStart(8),
        ...wasm.map((r) => (ratio(r?.gflops, twBase?.gflops) + mark).padStart(8)),
        ...(maxT > 1
          ? [
              ratio(most?.gflops, one?.gflops).padStart(7),
              ratio(
                staged[threads.indexOf(maxT)]?.gflops,
                staged[threads.indexOf(1)]?.gflops,
              ).padStart(11),
              (most?.busy === undefined ? '—' : `${Math.round(100 * most.busy)}%`).padStart(7),
              cost(most, one, maxT).padStart(7),
              (most?.ceilings === undefined ? '—' : most.ceilings.compute.toFixed(2)).padStart(6),
              (most?.ceilings === undefined ? '—' : most.ceilings.copy.toFixed(2)).padStart(6),
            ]
          : []),
      ].join(' '),
    );
  }
  lines.push(
    'GFLOP/s; ts = nnzero plain TypeScript, wasm×t = nnzero WebAssembly SIMD on t threads (GEMM pool) ' +
      'on resident tensors (in kernel memory), st×t = the same on ordinary arrays staged in and out ' +
      '(t > 1: timed with the helpers awake, alternating with t = 1); ' +
      'w×t/tw = wasm×t over tfjs-wasm' +
      (maxT > 1
        ? `; busy×${maxT} = the share of the ${maxT} threads' time spent in the pool's blocks ` +
          `in wasm×${maxT} (the rest: waiting, or serial work on the calling thread); ` +
          `cost×${maxT} = that time in blocks over wasm×1's time, about what the same work cost ` +
          `side by side (1.00: nothing; more: memory, cache or host contention), so ` +
          `×${maxT}/×1 ≈ ${maxT} · busy / cost; cpu×${maxT} and mem×${maxT} = ×${maxT}/×1 of the ` +
          `host probes timed right after the shape's kernels (independent small products; a ` +
          `streaming copy): what the machine gave more threads for arithmetic and for memory ` +
          `traffic at that moment`
        : '') +
      (dagger ? "; † over tfjs-wasm's backward-to-input (it has no backward-to-weights)" : ''),
  );
  return lines;
}

/**
 * The host lines: what two (or more) threads gained over one on a streaming copy and on
 * independent small products, the ceilings of memory-bound and of compute-bound work on this
 * machine at the time of the run (see benchHostProbes).
 */
export function hostTable(records: readonly BenchRecord[], threads: readonly number[]): string[] {
  const speedups = (kernel: string): { one: BenchRecord; text: string } | undefined => {
    const runs = records.filter((r) => r.kernel === kernel && r.ms !== null);
    const one = runs.find((r) => r.threads === 1);
    if (one === undefined) return undefined;
    const text = threads
      .filter((t) => t > 1)
      .map((t) => runs.find((r) => r.threads === t))
      .filter((r) => r !== undefined)
      .map((r) => `×${r.threads}/×1 = ${ratio(one.ms, r.ms)}`)
      .join(', ');
    return { one, text };
  };
  const lines: string[] = [];
  const copy = speedups('host.copy');
  if (copy !== undefined) {
    lines.push(
      `host: a streaming copy (${copy.one.shape}, memory-bound) on 1 thread: ${copy.one.note ?? ''}` +
        (copy.text === '' ? '' : `; ${copy.text}: the ceiling for memory-bound phases of a conv`),
    );
  }
  const compute = speedups('host.compute');
  if (compute !== undefined) {
    lines.push(
      `host: independent products (${compute.one.shape}, compute-bound) on 1 thread: ` +
        `${num(compute.one.gflops)} GFLOP/s` +
        (compute.text === '' ? '' : `; ${compute.text}: the ceiling for compute-bound phases`),
    );
  }
  return lines;
}

/** The end-to-end table: style iteration time, MNIST epoch time, and the heap. */
export function e2eTable(records: readonly BenchRecord[]): string[] {
  const lines: string[] = [];
  for (const r of records) {
    const at = `${r.kernel.padEnd(22)} threads ${r.threads}: `;
    if (r.skipped !== undefined) {
      if (/^(style|mnist)\./.test(r.kernel)) lines.push(`${at}skipped (${r.skipped})`);
      continue;
    }
    if (r.kernel.startsWith('style.iteration@') && r.ms !== null) {
      const perIteration = (r.evaluations ?? 0) / (r.iterations ?? 1);
      lines.push(
        `${at}${(r.ms / 1000).toFixed(2)} s per iteration (${perIteration.toFixed(2)} evaluations each; ` +
          `${((r.msPerEvaluation ?? 0) / 1000).toFixed(2)} s and ${num(r.gflops)} GFLOP/s per evaluation)`,
      );
    } else if (r.kernel === 'mnist.cnn.epoch' && r.ms !== null) {
      lines.push(
        `${at}${(r.ms / 1000).toFixed(1)} s per epoch of 60k (extrapolated from ${r.iterations} batches)`,
      );
    } else if (r.heap !== undefined) {
      const h = r.heap;
      const series = (name: string, s: typeof h.heapUsed): string =>
        `${name} ${mib(s.first)} → ${mib(s.last)} (max ${mib(s.max)}, slope ${kib(s.slope)}/iteration)`;
      lines.push(
        `${at}over ${h.samples} iterations after GC: ${series('heapUsed', h.heapUsed)}; ${series('arrayBuffers', h.arrayBuffers)}`,
        `${' '.repeat(at.length)}an iteration allocates at least: heap ${mib(h.growthPerIteration.heapUsed)}, ` +
          `array buffers ${mib(h.growthPerIteration.arrayBuffers)}; ${h.collections} collections by V8 itself`,
      );
    }
  }
  return lines;
}
