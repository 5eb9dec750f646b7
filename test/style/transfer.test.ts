import { expect } from 'chai';
import { Rng, checkGradients, zeros } from '../../lib/core/index.js';
import { StyleTransferLoss, styleTransfer, type StyleLossOptions } from '../../lib/style/index.js';
import { tinyNet } from './tiny-net.js';

function images(seed: number): {
  content: ReturnType<typeof zeros>;
  style: ReturnType<typeof zeros>;
} {
  const rng = new Rng(seed);
  return {
    content: rng.fillUniform(zeros([3, 6, 8]), 0.05, 0.95),
    style: rng.fillUniform(zeros([3, 8, 6]), 0.05, 0.95),
  };
}

describe('StyleTransferLoss', () => {
  const variants: [string, Partial<StyleLossOptions>][] = [
    ['the paper’s Gram loss', { statistic: 'gram', normalize: 'paper', styleWeight: 1e2 }],
    [
      'the centred, target-normalized loss',
      { statistic: 'centred', normalize: 'target', styleWeight: 3 },
    ],
  ];
  for (const [label, opts] of variants) {
    it(`matches the numerical gradient down to the pixels through a 2-conv net with 4 taps (${label})`, () => {
      const { content, style } = images(11);
      const image = new Rng(12).fillUniform(zeros([3, 6, 8]), 0.05, 0.95);
      const loss = new StyleTransferLoss(tinyNet(5), content, [{ image: style, weight: 1 }], {
        contentLayers: [{ layer: 'relu2', weight: 1 }],
        styleLayers: [
          { layer: 'relu1', weight: 0.5 },
          { layer: 'pool1', weight: 0.25 },
          { layer: 'relu2', weight: 0.25 },
        ],
        tvWeight: 0.3,
        dtype: 'float64',
        ...opts,
      });
      const dImage = zeros([3, 6, 8]);
      loss.evaluate(image, dImage);
      const r = checkGradients(
        () => loss.evaluate(image).total,
        [{ name: 'image', value: image, grad: dImage }],
      );
      // Through ReLU and max pooling the whole chain typically lands at 1e-8; the class tolerance is 1e-5.
      expect(r.maxError).to.be.below(1e-5, r.describe());
    });
  }

  it('refuses a layer the network does not have, listing the ones it has', () => {
    const { content, style } = images(1);
    expect(
      () =>
        new StyleTransferLoss(tinyNet(1), content, [{ image: style, weight: 1 }], {
          contentLayers: [{ layer: 'conv9', weight: 1 }],
          styleLayers: [],
        }),
    ).to.throw(/unknown layer 'conv9'.*relu1/);
  });
});

describe('styleTransfer', () => {
  it('lowers the loss with L-BFGS and keeps pixels in [0, 1]', () => {
    const { content, style } = images(2);
    const r = styleTransfer(tinyNet(3), content, [{ image: style, weight: 1 }], {
      contentLayers: [{ layer: 'relu2', weight: 1 }],
      styleLayers: [{ layer: 'relu1', weight: 1 }],
      styleWeight: 1e2,
      iterations: 10,
      dtype: 'float64',
    });
    expect(r.finalLoss).to.be.below(r.initialLoss / 2);
    expect(Math.min(...r.image.data)).to.be.at.least(0);
    expect(Math.max(...r.image.data)).to.be.at.most(1);
  });

  it('gives identical images for identical seeds and options', () => {
    const { content, style } = images(4);
    const run = () =>
      styleTransfer(tinyNet(3), content, [{ image: style, weight: 1 }], {
        contentLayers: [{ layer: 'relu2', weight: 1 }],
        styleLayers: [{ layer: 'relu1', weight: 1 }],
        iterations: 5,
        init: 'noise',
        seed: 9,
        dtype: 'float64',
      }).image.data;
    expect(Array.from(run())).to.deep.equal(Array.from(run()));
  });
});
