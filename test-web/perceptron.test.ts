// The perceptron page trains: points placed by clicking, Train pressed, and the line moves
// (several distinct lines are drawn on the way) until every point is on its side.
import { expect } from 'chai';
import { openPage, screenshot } from './harness.js';

describe('perceptron page', () => {
  it('learns a line separating clicked points, moving it as it goes', async () => {
    const { page, errors } = await openPage('perceptron.html');
    try {
      await page.click('#clear');
      const canvas = page.locator('#plot');
      // Class 1 up and to the left, class 0 down and to the right (canvas is 440×440 px).
      const class1 = [
        [80, 100],
        [150, 60],
        [60, 200],
        [200, 140],
        [120, 250],
      ];
      const class0 = [
        [300, 380],
        [380, 300],
        [250, 340],
        [360, 200],
        [330, 260],
      ];
      await page.check('input[name=label][value="1"]');
      for (const [x, y] of class1) await canvas.click({ position: { x: x!, y: y! } });
      await page.check('input[name=label][value="0"]');
      for (const [x, y] of class0) await canvas.click({ position: { x: x!, y: y! } });

      // Record every line the page shows while training.
      await page.evaluate(() => {
        const status = document.getElementById('status')!;
        const seen = new Set<string>();
        (window as unknown as { lines: Set<string> }).lines = seen;
        new MutationObserver(() => {
          const { w1, w2, b } = status.dataset;
          seen.add(`${w1},${w2},${b}`);
        }).observe(status, { attributes: true });
      });
      await page.click('#train');
      await page.waitForSelector('#status[data-converged="true"]', { timeout: 20_000 });
      await screenshot(page, 'perceptron-trained');

      const lines = await page.evaluate(() =>
        [...(window as unknown as { lines: Set<string> }).lines].filter((l) => l !== '0,0,0'),
      );
      expect(lines.length, 'distinct lines drawn while training').to.be.at.least(2);

      // The learned line puts every clicked point on its own side: w·x + b > 0 for class 1.
      const { w1, w2, b } = await page.locator('#status').evaluate((el) => ({ ...el.dataset }));
      const score = ([px, py]: number[]): number => {
        const [x, y] = [(px! / 440) * 2 - 1, 1 - (py! / 440) * 2];
        return Number(w1) * x + Number(w2) * y + Number(b);
      };
      for (const pt of class1) expect(score(pt), `class 1 point ${pt}`).to.be.above(0);
      for (const pt of class0) expect(score(pt), `class 0 point ${pt}`).to.be.at.most(0);
      expect(errors, errors.join('\n')).to.deep.equal([]);
    } finally {
      await page.close();
    }
  });
});
