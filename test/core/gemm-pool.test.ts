import { expect } from 'chai';
import { startGemmPool, stopGemmPool } from '../../lib/core/gemm-pool.js';
import { gemmWasm } from '../../lib/core/gemm-wasm.js';
import { compareToNaive } from './gemm-fixtures.js';

const check = compareToNaive(gemmWasm);

describe('gemm pool', () => {
  before(async () => {
    await startGemmPool(2);
  });
  after(async () => {
    await stopGemmPool();
  });

  it('starts two threads when asked for two', async () => {
    expect(await startGemmPool(2)).to.equal(2);
  });

  it('splits a tall product by rows and still equals naive', () => {
    expect(check('float32', 301, 150, 70, { alpha: 0.5, beta: 1 })).to.be.below(1e-5);
    expect(check('float32', 257, 129, 130, { transA: true, seed: 4 })).to.be.below(1e-5);
  });

  it('splits a wide product by columns and still equals naive', () => {
    expect(check('float32', 50, 333, 190, { transB: true })).to.be.below(1e-5);
    expect(check('float32', 131, 139, 200, { beta: 2, seed: 9 })).to.be.below(1e-5);
  });

  it('keeps working after many calls in a row', () => {
    for (let seed = 0; seed < 20; seed++) {
      expect(check('float32', 130, 140, 120, { seed })).to.be.below(1e-5);
    }
  });
});
