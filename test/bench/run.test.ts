// The benchmark cannot rot: `npm run bench -- --quick` runs every part at tiny sizes in a child
// process, and its --json records must pass the schema check and cover every kernel, peer and
// thread count. Nothing here looks at how fast anything was.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  byteSeries,
  median,
  slope,
  validateRecords,
  type BenchRecord,
} from '../../bench/records.js';
import { kernelTable } from '../../bench/table.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

// Run bench/run.ts with `args`; resolves to its exit code and output.
function bench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const good: BenchRecord = {
  kernel: 'gemm',
  shape: '64x64x64',
  impl: 'nnzero',
  threads: 1,
  gflops: 2.5,
  ms: 0.2,
};

describe('bench records', () => {
  it('accepts well-formed records, skipped ones and heap reports', () => {
    const heap = {
      ...good,
      kernel: 'style.heap@32',
      gflops: null,
      ms: null,
      heap: {
        samples: 3,
        heapUsed: byteSeries([10, 12, 11]),
        arrayBuffers: byteSeries([5, 5, 5]),
        growthPerIteration: { heapUsed: 100, arrayBuffers: -4 },
        collections: 0,
      },
    };
    const skipped = { ...good, impl: 'tfjs-wasm', gflops: null, ms: null, skipped: 'unsupported' };
    const pooled = { ...good, threads: 2, busy: 0.93 };
    expect(validateRecords([good, heap, skipped, pooled])).to.have.length(4);
  });

  it('rejects records with a missing, wrong or unexplained field, naming the record', () => {
    const bad: [unknown, RegExp][] = [
      [{ ...good, threads: 0 }, /record 0 .*threads/],
      [{ ...good, kernel: '' }, /kernel/],
      [{ ...good, gflops: -1 }, /gflops/],
      [{ ...good, ms: Number.NaN }, /ms/],
      [{ ...good, gflops: null, ms: null }, /no gflops, ms or heap/],
      [{ ...good, skipped: 'why not' }, /has numbers and a 'skipped' reason/],
      [{ ...good, heap: { samples: 1 } }, /heap.heapUsed/],
      [{ ...good, busy: 2 }, /busy/],
      [{ ...good, busy: '90%' }, /busy/],
      [{ ...good, ceilings: { compute: 1.8 } }, /ceilings\.copy/],
      [{ ...good, ceilings: 1.8 }, /ceilings/],
    ];
    for (const [record, message] of bad) {
      expect(() => validateRecords([record]), String(message)).to.throw(message);
    }
    expect(() => validateRecords({ records: [] })).to.throw(/array/);
    expect(() => validateRecords([good, 'x'])).to.throw(/record 1/);
  });

  it('median, slope and byteSeries', () => {
    expect(median([3, 1, 2])).to.equal(2);
    expect(slope([1, 3, 5, 7])).to.be.closeTo(2, 1e-12);
    expect(slope([4, 4, 4])).to.equal(0);
    expect(byteSeries([2, 9, 4])).to.deep.equal({ first: 2, last: 4, max: 9, slope: 1 });
  });
});

describe('bench kernel table', () => {
  it('splits ×2/×1 into how busy the threads were and what the work cost side by side', () => {
    const base = { kernel: 'conv2d.forward', shape: '8->8@8', impl: 'nnzero-wasm' };
    const records = [
      { ...base, threads: 1, gflops: 1, ms: 10 },
      {
        ...base,
        threads: 2,
        gflops: 10 / 6,
        ms: 6,
        busy: 0.9,
        ceilings: { compute: 1.8, copy: 1.4 },
      },
    ];
    const [head, row] = kernelTable(records, [1, 2]);
    expect(head).to.match(/×2\/×1 +st ×2\/×1 +busy×2 +cost×2 +cpu×2 +mem×2$/);
    // ×2/×1 = 10 / 6; busy 90%; cost = 0.9 · 2 · 6 / 10; then the host probes' ratios.
    expect(row).to.match(/1\.67× +— +90% +1\.08 +1\.80 +1\.40$/);
    expect(row).to.match(/^conv2d\.forward /);
  });
});

describe('npm run bench -- --quick', function () {
  // A smoke run of every part at tiny sizes (about 15 s on a busy 2-core machine); the timeout
  // only stops a hung child, nothing asserts on speed.
  this.timeout(180000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'nnzero-bench-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes valid records for every kernel, peer, thread count and end-to-end figure', async () => {
    const file = join(dir, 'quick.json');
    const r = await bench(['--quick', '--json', file]);
    expect(r.code, r.stderr).to.equal(0);
    const records = validateRecords(JSON.parse(readFileSync(file, 'utf8')));
    const has = (kernel: string, impl: string, threads: number): boolean =>
      records.some(
        (x) => x.kernel === kernel && x.impl === impl && x.threads === threads && !x.skipped,
      );
    for (const kernel of ['conv2d.forward', 'conv2d.backwardInput', 'conv2d.backwardWeights']) {
      expect(has(kernel, 'nnzero', 1), kernel).to.equal(true);
      expect(has(kernel, 'nnzero-wasm', 1), kernel).to.equal(true);
      expect(has(kernel, 'nnzero-wasm', 2), kernel).to.equal(true);
      expect(has(kernel, 'nnzero-wasm-staged', 1), kernel).to.equal(true);
      expect(has(kernel, 'nnzero-wasm-staged', 2), kernel).to.equal(true);
      expect(has(kernel, 'tfjs-cpu', 1), kernel).to.equal(true);
    }
    expect(has('conv2d.forward', 'tfjs-wasm', 1)).to.equal(true);
    expect(has('conv2d.backwardInput', 'tfjs-wasm', 1)).to.equal(true);
    const tfjsWasmFilter = records.find(
      (x) => x.kernel === 'conv2d.backwardWeights' && x.impl === 'tfjs-wasm',
    );
    expect(tfjsWasmFilter?.skipped).to.match(/unsupported/);
    for (const impl of ['nnzero', 'tfjs-cpu', 'tfjs-wasm']) {
      expect(has('gemm', impl, 1), impl).to.equal(true);
    }
    for (const impl of ['nnzero-wasm', 'nnzero-wasm-staged']) {
      for (const t of [1, 2]) expect(has('gemm', impl, t), `gemm ${impl} ×${t}`).to.equal(true);
    }
    // Pooled runs say how busy the threads were (a fraction; a quick run's is anything in 0 … 1).
    const pooled = records.filter((x) => x.impl.startsWith('nnzero-wasm') && x.threads === 2);
    const conv = pooled.filter((x) => x.kernel.startsWith('conv2d.'));
    expect(conv.length).to.be.above(0);
    for (const x of conv) expect(x.busy, `${x.kernel} ${x.impl}`).to.be.within(0, 1.05);
    // … and the host probes' ×2/×1 timed beside them.
    for (const x of conv) expect(x.ceilings?.compute, `${x.kernel} ${x.impl}`).to.be.above(0);
    for (const t of [1, 2]) expect(has('host.copy', 'nnzero-wasm', t), `copy ×${t}`).to.equal(true);
    expect(records.find((x) => x.kernel === 'host.copy')?.note).to.match(/GB\/s/);
    for (const t of [1, 2]) {
      expect(has('host.compute', 'nnzero-wasm', t), `compute ×${t}`).to.equal(true);
    }
    expect(records.find((x) => x.kernel === 'host.compute')?.gflops).to.be.above(0);
    expect(has('conv2d.backwardInput+Weights', 'convnetjs', 1)).to.equal(true);
    for (const t of [1, 2]) {
      expect(has('style.iteration@32', 'nnzero-wasm', t), `style ×${t}`).to.equal(true);
      expect(has('mnist.cnn.epoch', 'nnzero-wasm', t), `mnist ×${t}`).to.equal(true);
    }
    const heap = records.find((x) => x.kernel === 'style.heap@32');
    expect(heap?.heap?.samples).to.be.at.least(2);
    expect(records.find((x) => x.kernel === 'mnist.cnn.epoch')?.note).to.match(/extrapolated/);
    // The summary tables go to stdout.
    expect(r.stdout).to.match(/^kernel\s+shape.*busy×2 +cost×2 +cpu×2 +mem×2/m);
    expect(r.stdout).to.match(/^host: a streaming copy .*×2\/×1 = \d/m);
    expect(r.stdout).to.match(/^host: independent products .*GFLOP\/s; ×2\/×1 = \d/m);
    expect(r.stdout).to.match(/style\.iteration@32 +threads 2:/);
  });

  it('--only runs just the named parts', async () => {
    const file = join(dir, 'gemm.json');
    const r = await bench(['--quick', '--only', 'gemm', '--no-tfjs-wasm', '--json', file]);
    expect(r.code, r.stderr).to.equal(0);
    const records = validateRecords(JSON.parse(readFileSync(file, 'utf8')));
    expect(new Set(records.map((x) => x.kernel))).to.deep.equal(new Set(['gemm']));
    expect(records.some((x) => x.impl === 'tfjs-wasm')).to.equal(false);
  });

  it('--only rejects an unknown part, naming it and the known ones', async () => {
    const r = await bench(['--quick', '--only', 'conv,warp']);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.match(/unknown part 'warp'.*conv, gemm, host, e2e/);
  });
});
