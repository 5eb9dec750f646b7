// Every page of the playground loads in Chromium with no console error, no uncaught exception
// and no request leaving localhost; a screenshot of each lands in out/web/.
import { expect } from 'chai';
import { openPage, screenshot } from './harness.js';

const PAGES = ['index', 'perceptron', 'mlp', 'cnn', 'style'];

describe('playground pages', () => {
  for (const name of PAGES) {
    it(`${name}.html loads without console errors or network access`, async () => {
      const { page, errors, offsite } = await openPage(`${name}.html`);
      try {
        await page.waitForLoadState('networkidle', { timeout: 15_000 });
        await screenshot(page, `${name}-loaded`);
        expect(errors, errors.join('\n')).to.deep.equal([]);
        expect(offsite, 'requests that left localhost').to.deep.equal([]);
      } finally {
        await page.close();
      }
    });
  }

  it('the home page links to every chapter page', async () => {
    const { page } = await openPage('index.html');
    try {
      const links = await page
        .locator('.cards a')
        .evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      expect(links).to.deep.equal(PAGES.slice(1).map((p) => `./${p}.html`));
    } finally {
      await page.close();
    }
  });
});
