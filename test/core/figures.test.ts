import { expect } from 'chai';
import { Writable } from 'node:stream';
import {
  Progress,
  fromArray,
  imageMosaic,
  lineChartSvg,
  scatterChartSvg,
  zeros,
} from '../../lib/core/index.js';

describe('figures', () => {
  it('renders a loss curve as SVG with its title and series names', async () => {
    const svg = await lineChartSvg({
      title: 'training loss',
      xLabel: 'epoch',
      yLabel: 'loss',
      series: [
        { name: 'train', x: [1, 2, 3], y: [1, 0.5, 0.25] },
        { name: 'test', x: [1, 2, 3], y: [1.1, 0.6, 0.4] },
      ],
      logY: true,
    });
    expect(svg).to.match(/^<svg/);
    expect(svg).to.contain('training loss');
    expect(svg).to.contain('test');
  });

  it('renders a scatter plot over decision regions as SVG', async () => {
    const svg = await scatterChartSvg({
      title: 'AND',
      xLabel: 'x1',
      yLabel: 'x2',
      points: [
        { x: 0, y: 0, label: '0' },
        { x: 1, y: 1, label: '1' },
      ],
      regions: {
        xDomain: [-0.5, 1.5],
        yDomain: [-0.5, 1.5],
        resolution: 10,
        classify: (x, y) => (x + y > 1.5 ? '1' : '0'),
      },
      lines: [{ name: 'boundary', x: [0, 1.5], y: [1.5, 0] }],
    });
    expect(svg).to.match(/^<svg/);
    expect((svg.match(/<path/g) ?? []).length).to.be.greaterThan(10);
  });
});

describe('imageMosaic', () => {
  it('tiles images with padding and per-tile normalization', () => {
    const a = fromArray([0, 1, 2, 3], [2, 2]);
    const b = fromArray([5, 5, 5, 7], [2, 2]);
    const m = imageMosaic([a, b], { columns: 2, pad: 1 });
    expect(m.shape).to.deep.equal([1, 4, 7]);
    expect(m.get(0, 1, 1)).to.equal(0);
    expect(m.get(0, 2, 2)).to.equal(1);
    expect(m.get(0, 2, 5)).to.equal(1); // b's 7 is its max
    expect(m.get(0, 1, 4)).to.equal(0); // b's 5 is its min
    expect(m.get(0, 0, 0)).to.equal(1); // background
  });

  it('upscales tiny tiles and refuses tiles of different sizes', () => {
    expect(imageMosaic([zeros([3, 2, 2])], { scale: 3, pad: 0 }).shape).to.deep.equal([3, 6, 6]);
    expect(() => imageMosaic([zeros([2, 2]), zeros([3, 2])])).to.throw(
      /tile 1: got shape \[3, 2\], expected \[2, 2\]/,
    );
  });
});

describe('Progress', () => {
  it('prints periodic lines with an ETA when not on a terminal', () => {
    let text = '';
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    }) as unknown as NodeJS.WriteStream;
    const p = new Progress(4, { label: 'train', stream, mode: 'lines', intervalMs: 0 });
    p.tick('loss 1.0');
    p.tick('loss 0.5');
    p.update(4, 'loss 0.1');
    p.stop();
    expect(text).to.contain('train: 1/4 (25%)');
    expect(text).to.contain('ETA');
    expect(text).to.contain('train: 4/4 (100%)');
    expect(text).to.contain('loss 0.1');
  });
});

describe('svgToPng', () => {
  it('rasterizes a chart to PNG bytes', async () => {
    const { svgToPng, isPng } = await import('../../lib/core/index.js');
    const svg = await lineChartSvg({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: [{ name: 'a', x: [0, 1], y: [0, 1] }],
    });
    expect(isPng(svgToPng(svg))).to.equal(true);
  });
});
