// The style page's Web Worker: Gatys style transfer with chapter 5's styleTransfer on a seeded
// random VGG (no weights to download), at a small size, posting the image after every L-BFGS
// iteration. Running here keeps the page responsive while the kernels work.
import { imageFromImageData, imageToImageData } from '../../lib/core/index.js';
import { randomVgg, styleTransfer, type LayerWeight } from '../../lib/style/index.js';
import type { StyleDone, StyleMessage, StyleRequest } from './style-protocol.js';

function post(message: StyleMessage): void {
  self.postMessage(message);
}

self.onmessage = (event: MessageEvent<StyleRequest>) => {
  const { iterations, seed } = event.data;
  const start = performance.now();
  try {
    const content = imageFromImageData(event.data.content);
    const style = imageFromImageData(event.data.style);
    const net = randomVgg({ seed });
    post({
      kind: 'started',
      description: `random VGG (seed ${seed}), ${net.layerNames.length} layers`,
    });
    // Chapter 5's recipe, retuned for thumbnails: content at relu2 (at 96 px relu3 sees only
    // 24×24 and the photo dissolves into the painting); centred style statistics at relu1…relu5,
    // equally weighted; α = 1, β = 5, a little total variation; L-BFGS starting from the photo.
    const styleLayers: LayerWeight[] = [1, 2, 3, 4, 5].map((k) => ({
      layer: `relu${k}`,
      weight: 0.2,
    }));
    styleTransfer(net, content, [{ image: style, weight: 1 }], {
      contentLayers: [{ layer: 'relu2', weight: 1 }],
      styleLayers,
      contentWeight: 1,
      styleWeight: 5,
      tvWeight: 10,
      statistic: 'centred',
      normalize: 'target',
      iterations,
      seed,
      onIteration: (info) => {
        post({
          kind: 'progress',
          iteration: info.iteration,
          iterations,
          loss: info.loss,
          image: imageToImageData(info.image()),
        });
      },
    });
    const done: StyleDone = { kind: 'done', seconds: (performance.now() - start) / 1000 };
    post(done);
  } catch (err) {
    post({ kind: 'done', error: String(err), seconds: (performance.now() - start) / 1000 });
  }
};
