// The MLP page trains: after pressing Train on the circles, the loss falls, the training
// accuracy rises, and the decision regions drawn on the canvas change.
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { openPage, screenshot } from './harness.js';

/** The plot's pixels, summed per 8×8 block: enough to tell whether the regions changed. */
function regionSignature(page: Page): Promise<number[]> {
  return page.locator('#plot').evaluate((canvas: HTMLCanvasElement) => {
    const { data, width, height } = canvas
      .getContext('2d')!
      .getImageData(0, 0, canvas.width, canvas.height);
    const blocks: number[] = [];
    for (let i = 0; i < height; i += 8) {
      for (let j = 0; j < width; j += 8) {
        const o = 4 * (i * width + j);
        blocks.push(data[o]! + data[o + 1]! + data[o + 2]!);
      }
    }
    return blocks;
  });
}

describe('MLP page', () => {
  it('trains on the circles: the loss falls and the decision regions change', async () => {
    const { page, errors } = await openPage('mlp.html');
    try {
      await page.selectOption('#dataset', 'circles');
      const before = await regionSignature(page);
      await page.click('#train');
      await page.waitForFunction(
        () => Number(document.getElementById('status')!.dataset['steps']) >= 400,
        null,
        {
          timeout: 30_000,
        },
      );
      await page.click('#train'); // pause
      await screenshot(page, 'mlp-trained');
      const { firstLoss, loss, accuracy } = await page
        .locator('#status')
        .evaluate((el) => ({ ...el.dataset }));
      expect(Number(loss), `loss fell from ${firstLoss}`).to.be.below(0.3 * Number(firstLoss));
      expect(Number(accuracy)).to.be.above(0.95);
      const after = await regionSignature(page);
      const changed = before.filter((v, i) => Math.abs(v - after[i]!) > 30).length;
      expect(changed / before.length, 'fraction of region blocks that changed colour').to.be.above(
        0.1,
      );
      expect(errors, errors.join('\n')).to.deep.equal([]);
    } finally {
      await page.close();
    }
  });

  it('learns XOR with a ReLU hidden layer and SGD', async () => {
    const { page, errors } = await openPage('mlp.html');
    try {
      await page.selectOption('#dataset', 'xor');
      await page.selectOption('#activation', 'relu');
      await page.selectOption('#optimizer', 'sgd');
      await page.fill('#lr', '0.1');
      await page.fill('#hidden', '16');
      await page.locator('#hidden').dispatchEvent('change');
      await page.click('#train');
      await page.waitForFunction(
        () => Number(document.getElementById('status')!.dataset['steps']) >= 500,
        null,
        {
          timeout: 30_000,
        },
      );
      await page.click('#train');
      const { accuracy } = await page.locator('#status').evaluate((el) => ({ ...el.dataset }));
      expect(Number(accuracy)).to.be.above(0.9);
      expect(errors, errors.join('\n')).to.deep.equal([]);
    } finally {
      await page.close();
    }
  });
});
