// Chapter 5 runs end to end at tiny size, so the tutorial cannot rot (STYLE.md C6).
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as chapter5 } from '../../notebooks/05-style-transfer.js';

describe('chapter 5 (quick mode)', () => {
  let outDir: string;
  before(() => {
    outDir = mkdtempSync(join(tmpdir(), 'nnzero-chapter5-'));
  });
  after(() => rmSync(outDir, { recursive: true, force: true }));

  it('explains the Gram matrix, checks the three gradients, reconstructs and stylizes', async () => {
    const r = await chapter5({ quick: true, outDir, log: () => {} });
    expect(r.gram.map((v) => Number(v.toFixed(6)))).to.deep.equal([
      1.666667, 0.666667, 0.666667, 3.333333,
    ]);
    expect(
      Math.max(r.gradientChecks.content, r.gradientChecks.style, r.gradientChecks.tv),
    ).to.be.below(1e-6);
    for (const rec of r.reconstructions) expect(rec.finalLoss).to.be.below(rec.initialLoss);
    expect(r.finalLoss).to.be.below(r.initialLoss);
    for (const f of r.figures) expect(existsSync(f), f).to.equal(true);
  });
});
