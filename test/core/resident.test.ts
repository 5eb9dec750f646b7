// Resident tensors (lib/core/resident.ts): float32 storage inside the WebAssembly kernel's memory
// that keeps its place while the memory grows, lies below every call's scratch and operands, and
// goes back to the kernel when collected.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  createGemmKernel,
  gemmKernel,
  gemmWasmStrided,
  kernelRegions,
  kernelView,
  residentAddress,
  scratchBase,
  setGemmKernel,
} from '../../lib/core/gemm-wasm.js';
import { bufferZeros, kernelZeros, residentZeros } from '../../lib/core/resident.js';
import { Rng } from '../../lib/core/rng.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('resident tensors', () => {
  it('live in kernel memory, below scratch and operands, and keep their place as it grows', () => {
    const t = residentZeros([2, 3, 4, 5])!;
    expect(t).to.not.equal(null);
    expect(t.data).to.be.instanceOf(Float32Array);
    expect(Array.from(t.data).every((v) => v === 0)).to.equal(true);
    const at = residentAddress(t.data, 0)!;
    expect(at).to.be.a('number');
    expect(residentAddress(t.data, 7)).to.equal(at + 28);
    const k = gemmKernel();
    expect(scratchBase(k)).to.be.at.least(at + 4 * 120);
    for (let i = 0; i < 120; i++) t.data[i] = i + 0.5;
    // A call's operands go above; growing the memory by 256 MiB leaves t where it was.
    const before = k.memory.buffer.byteLength;
    const { at: regions } = kernelRegions([1 << 26]);
    expect(regions[0]).to.be.at.least(scratchBase(k));
    expect(k.memory.buffer.byteLength).to.be.above(before);
    const heap = kernelView(k, 0);
    expect(heap[(at >> 2) + 5]).to.equal(5.5);
    heap[(at >> 2) + 6] = -1;
    expect(t.data[6]).to.equal(-1);
  });

  it('bufferZeros: float32 buffers resident, float64 ones ordinary', () => {
    const f32 = bufferZeros([2, 3], 'float32');
    const f64 = bufferZeros([2, 3], 'float64');
    expect(residentAddress(f32.data, 0)).to.be.a('number');
    expect(f64.data).to.be.instanceOf(Float64Array);
    expect(f64.shape).to.deep.equal([2, 3]);
  });

  it('ordinary arrays, views of other memory and other kernels are not resident', () => {
    expect(residentAddress(new Float32Array(4), 0)).to.equal(null);
    expect(residentAddress(new Float64Array(4), 0)).to.equal(null);
    const t = residentZeros([8])!;
    const other = createGemmKernel(true);
    setGemmKernel(other);
    try {
      expect(residentAddress(t.data, 0)).to.equal(null, "another kernel's memory");
    } finally {
      setGemmKernel(undefined);
    }
  });

  it('an unshared kernel memory holds none: kernelZeros falls back to an ordinary array', () => {
    setGemmKernel(createGemmKernel(false));
    try {
      expect(residentZeros([3, 3])).to.equal(null);
      const t = kernelZeros([3, 3]);
      expect(t.data).to.be.instanceOf(Float32Array);
      expect(t.data.buffer).to.not.be.instanceOf(SharedArrayBuffer);
      expect(t.shape).to.deep.equal([3, 3]);
    } finally {
      setGemmKernel(undefined);
    }
  });

  // Kernel memory has at most 2 GiB; resident storage takes at most half, the calls' operands
  // need the rest (a 1024 px style transfer's activations are several GB: ordinary arrays then).
  it('past 1 GiB there is no resident storage, and nothing was reserved for it', () => {
    const k = gemmKernel();
    const base = scratchBase(k);
    expect(residentZeros([2 ** 28 + 16])).to.equal(null);
    expect(scratchBase(k)).to.equal(base);
    expect(residentZeros([16])).to.not.equal(null);
  });

  // A page that is not cross-origin isolated has no SharedArrayBuffer global (the style page's
  // worker in test-web hung on the ReferenceError before this was handled).
  it('without a SharedArrayBuffer global there are none, and no error', () => {
    const g = globalThis as { SharedArrayBuffer?: unknown };
    const saved = g.SharedArrayBuffer;
    delete g.SharedArrayBuffer;
    try {
      expect(residentZeros([4])).to.equal(null);
      expect(kernelZeros([4]).data).to.be.instanceOf(Float32Array);
    } finally {
      g.SharedArrayBuffer = saved;
    }
  });

  // Needs a collection on demand, so it runs in a child process started with --expose-gc.
  it('a collected tensor gives its block back: holes are reused, the top comes down', async () => {
    const script = `
      import { gemmKernel, residentAddress, scratchBase } from './lib/core/gemm-wasm.ts';
      import { residentZeros } from './lib/core/resident.ts';
      const collect = async () => {
        for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
      };
      const k = gemmKernel();
      const base = scratchBase(k);
      let a = residentZeros([1000]);
      let b = residentZeros([1000]);
      const atA = residentAddress(a.data, 0);
      a = null;
      await collect();
      let c = residentZeros([500]); // fits a's hole
      let d = residentZeros([2000]); // does not: above b
      const out = {
        reused: residentAddress(c.data, 0) === atA,
        above: residentAddress(d.data, 0) > residentAddress(b.data, 0),
      };
      b = c = d = null;
      await collect();
      out.topDown = scratchBase(k) === base;
      console.log(JSON.stringify(out));
    `;
    const result = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script],
        { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(stderr))));
    });
    expect(JSON.parse(result)).to.deep.equal({ reused: true, above: true, topDown: true });
  });

  // A product on resident operands reads and writes them in place; its bits are those of the
  // same product on ordinary arrays, staged. C is staged after all when it shares storage with a
  // resident A (here C is A itself): written in place, A would change under the product.
  it('GEMM operands that are resident are used in place, to the same bits', () => {
    const rng = new Rng(8);
    const [M, N, K] = [37, 45, 70];
    const normal = (n: number): Float32Array =>
      Float32Array.from({ length: n }, () => rng.normal());
    const [a, b, c] = [normal(M * K), normal(K * N), normal(M * N)];
    const resident = (x: Float32Array): Float32Array => {
      const r = residentZeros([x.length])!.data;
      r.set(x);
      return r;
    };
    const expected = Float32Array.from(c);
    gemmWasmStrided(M, N, K, 0.5, a, 0, K, 1, b, 0, 1, K, 0.25, expected, 0, N, 1);
    const [ar, br, cr] = [resident(a), resident(b), resident(c)];
    gemmWasmStrided(M, N, K, 0.5, ar, 0, K, 1, br, 0, 1, K, 0.25, cr, 0, N, 1);
    expect(cr.findIndex((v, i) => !Object.is(v, expected[i]))).to.equal(-1, 'all resident');
    // In place: A ← A·B, against the staged product of a copy. Square and deeper than the
    // kernel's KC = 512, so that A's later columns would be read after C overwrote them.
    const Q = 520;
    const sq = normal(Q * Q);
    const bb = normal(Q * Q);
    const want = new Float32Array(Q * Q);
    gemmWasmStrided(Q, Q, Q, 1, sq, 0, Q, 1, bb, 0, Q, 1, 0, want, 0, Q, 1);
    const sqr = resident(sq);
    gemmWasmStrided(Q, Q, Q, 1, sqr, 0, Q, 1, bb, 0, Q, 1, 0, sqr, 0, Q, 1);
    expect(sqr.findIndex((v, i) => !Object.is(v, want[i]))).to.equal(-1, 'C is A');
  });
});
