// The CNN page reads hand-drawn digits: a 1 and a 7 drawn with the mouse are predicted correctly
// by the network trained on MNIST whose parameters ship with the site.
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { openPage, screenshot } from './harness.js';

/** Draw strokes (lists of pad coordinates, 280×280) with the mouse, in small steps. */
async function draw(page: Page, strokes: [number, number][][]): Promise<void> {
  const box = (await page.locator('#pad').boundingBox())!;
  for (const stroke of strokes) {
    const [x0, y0] = stroke[0]!;
    await page.mouse.move(box.x + x0, box.y + y0);
    await page.mouse.down();
    for (const [x, y] of stroke.slice(1))
      await page.mouse.move(box.x + x, box.y + y, { steps: 12 });
    await page.mouse.up();
  }
}

const DIGITS: [number, [number, number][][]][] = [
  [
    1,
    [
      [
        [150, 45],
        [140, 235],
      ],
    ],
  ],
  [
    7,
    [
      [
        [75, 60],
        [205, 60],
        [125, 240],
      ],
    ],
  ],
];

describe('CNN page', () => {
  for (const [digit, strokes] of DIGITS) {
    it(`predicts a drawn ${digit}`, async () => {
      const { page, errors } = await openPage('cnn.html');
      try {
        await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
        await draw(page, strokes);
        await page.waitForFunction(
          () => document.getElementById('prediction')!.dataset['digit'] !== '',
        );
        await page.waitForTimeout(300); // let the feature maps paint for the screenshot
        await screenshot(page, `cnn-drawn-${digit}`);
        const predicted = await page.locator('#prediction').getAttribute('data-digit');
        expect(Number(predicted), await page.locator('#prediction').innerText()).to.equal(digit);
        expect(await page.locator('#maps canvas').count(), 'feature map panels').to.equal(2);
        expect(errors, errors.join('\n')).to.deep.equal([]);
      } finally {
        await page.close();
      }
    });
  }
});
