// Chapter 4 runs end to end at tiny size (512 training digits, one epoch), so it cannot rot.
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as chapter4 } from '../../notebooks/04-cnn-mnist.js';

describe('chapter 4 (quick mode)', () => {
  let outDir: string;
  before(() => {
    outDir = mkdtempSync(join(tmpdir(), 'nnzero-chapter4-'));
  });
  after(() => rmSync(outDir, { recursive: true, force: true }));

  it('reproduces the worked example, passes the gradient check, learns, and saves its figures', async () => {
    const r = await chapter4({ quick: true, outDir, log: () => {} });
    expect(r.example.slice(0, 3)).to.deep.equal([6, 7, 5]);
    expect(r.gradientCheck).to.be.below(1e-6);
    expect(r.testAccuracy).to.be.above(0.2); // 10% is chance; one tiny epoch already does better
    expect(r.reloadedAccuracy).to.equal(r.testAccuracy);
    for (const f of r.figures) expect(existsSync(f), f).to.equal(true);
  });
});
