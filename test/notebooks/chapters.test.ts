// Every chapter runs end to end at tiny size, so the tutorial cannot rot (STYLE.md C6).
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as chapter1 } from '../../notebooks/01-perceptron.js';
import { main as chapter2 } from '../../notebooks/02-linear-unit.js';
import { main as chapter3 } from '../../notebooks/03-mlp-backprop.js';

describe('chapters (quick mode)', () => {
  let outDir: string;
  const log = (): void => {};
  before(() => {
    outDir = mkdtempSync(join(tmpdir(), 'nnzero-chapters-'));
  });
  after(() => rmSync(outDir, { recursive: true, force: true }));

  it('chapter 1 learns AND and OR, fails on XOR, and draws the boundaries', async () => {
    const r = await chapter1({ quick: true, outDir, log });
    expect(r).to.include({ and: 1, or: 1, xorConverged: false });
    for (const f of r.figures) expect(existsSync(f), f).to.equal(true);
  });

  it('chapter 2 recovers the known line with both descent flavours', async () => {
    const r = await chapter2({ quick: true, outDir, log });
    expect(r.batch.slope).to.be.closeTo(1000, 40);
    expect(r.sgd.slope).to.be.closeTo(1000, 40);
    expect(r.gradientCheck).to.be.below(1e-6);
    for (const f of r.figures) expect(existsSync(f), f).to.equal(true);
  });

  it('chapter 3 solves XOR, learns 8-3-8 both ways, checks gradients and learns MNIST digits', async () => {
    const r = await chapter3({ quick: true, outDir, log });
    expect(r).to.include({ xorSolved: true, encoderLearned: true });
    expect(r.nodeVsMatrix).to.be.below(1e-12);
    expect(r.gradientCheck).to.be.below(1e-6);
    expect(r.testAccuracy).to.be.above(0.5);
    for (const f of r.figures) expect(existsSync(f), f).to.equal(true);
  });
});
