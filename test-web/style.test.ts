// The style page runs a small transfer in its Web Worker and produces an image that differs
// from the photo it started from.
import { expect } from 'chai';
import { openPage, screenshot } from './harness.js';

describe('style page', () => {
  it('transfers a painting onto a photo in a Web Worker, showing progress', async function () {
    this.timeout(240_000);
    const { page, errors } = await openPage('style.html');
    try {
      await page.check('input[name=content][value=chelsea]', { force: true });
      await page.check('input[name=style][value=starry_night]', { force: true });
      // The page's defaults: 96 px, 40 L-BFGS iterations (about 15 s here).
      await page.click('#run');
      // Progress arrives while it runs (the page is not blocked)...
      await page.waitForSelector('#status[data-iteration]', { timeout: 120_000 });
      expect(await page.locator('#stop').isEnabled()).to.equal(true);
      // ...and the run finishes.
      await page.waitForSelector('#status[data-done]', { timeout: 200_000 });
      await page.waitForTimeout(300); // let the last image paint
      await screenshot(page, 'style-transferred');
      const { done, iteration, difference } = await page
        .locator('#status')
        .evaluate((el) => ({ ...el.dataset }));
      expect(done, await page.locator('#status').innerText()).to.equal('true');
      expect(Number(iteration)).to.be.at.least(1);
      expect(Number(difference), 'mean |output − photo| per channel').to.be.above(0.02);
      expect(Number(await page.locator('#progress').getAttribute('value'))).to.be.above(0);
      expect(errors, errors.join('\n')).to.deep.equal([]);
    } finally {
      await page.close();
    }
  });
});
