// Chapter 6 runs end to end at tiny size on its generated model (STYLE.md C6).
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as chapter6 } from '../../notebooks/06-pretrained-networks.js';

describe('chapter 6 (quick mode)', () => {
  it('imports a tiny GoogLeNet, checks its gradients, classifies and dreams', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'nnzero-chapter6-'));
    try {
      const r = await chapter6({ quick: true, outDir, log: () => {} });
      expect(r.lrnExample[2]).to.be.closeTo(2 / 3, 1e-12);
      expect(r.nodes).to.equal(17);
      expect(r.gradientCheck).to.be.below(1e-5);
      expect(r.top[0]!.probability).to.be.within(0, 1);
      expect(r.dreamGain).to.be.above(1);
      for (const f of r.figures) expect(existsSync(f), f).to.equal(true);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});
