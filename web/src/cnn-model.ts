// The CNN page's model: the digit network of digit-net.ts with the parameters that
// web/scripts/train-digits.ts trained on MNIST, fetched from the site and decoded with chapter 3's
// decodeParams. Reading a digit runs the layers one by one so the page can show the feature maps.
import { Rng, type Tensor, type Tensor32 } from '../../lib/core/index.js';
import { Conv2d } from '../../lib/cnn/index.js';
import { decodeParams } from '../../lib/mlp/index.js';
import { digitNet } from './digit-net.js';

/** The feature maps of one layer: [C, H, W]. */
export interface FeatureMaps {
  title: string;
  map: Tensor;
}

/** What the network makes of one digit. */
export interface DigitReading {
  /** p(digit) for 0…9 (softmax of the class scores). */
  probabilities: Float64Array;
  /** The activations after each convolution's ReLU. */
  maps: FeatureMaps[];
}

/** A trained digit reader. */
export interface DigitModel {
  description: string;
  read(x: Tensor32): DigitReading;
}

/** Fetch the trained parameters from `base` (a folder URL) and build the network around them. */
export async function loadDigitModel(base: URL): Promise<DigitModel> {
  const url = new URL('digits.params', base);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const net = digitNet(new Rng(0));
  decodeParams(new Uint8Array(await response.arrayBuffer()), net.params(), url.pathname);
  const count = net.params().reduce((n, p) => n + p.value.size, 0);
  return {
    description: `LeNet-style CNN, ${count.toLocaleString('en')} parameters, trained on MNIST by web/scripts/train-digits.ts (98.2 % test accuracy).`,
    read(x: Tensor32): DigitReading {
      const maps: FeatureMaps[] = [];
      let y: Tensor = x;
      net.layers.forEach((layer, i) => {
        y = layer.forward(y);
        // Show each convolution's output after its ReLU (the next layer): what its filters found.
        const previous = net.layers[i - 1];
        if (previous instanceof Conv2d) {
          const [, F, H, W] = y.shape as [number, number, number, number];
          maps.push({
            title: `${previous.name}: ${F} feature maps, ${H}×${W}, after ReLU`,
            map: y.pick(0),
          });
        }
      });
      // Softmax of the ten class scores, shifted by their maximum for stability.
      const scores = Array.from({ length: 10 }, (_, k) => y.get(0, k));
      const top = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - top));
      const total = e.reduce((a, b) => a + b, 0);
      return { probabilities: Float64Array.from(e, (v) => v / total), maps };
    },
  };
}
