// Trains the CNN page's digit reader (web/src/digit-net.ts) on MNIST and writes its parameters
// to web/public/models/digits.params (float32, about 250 KB), which the site ships. Chapter 4's
// network, trained with chapter 3's epoch loop: Adam, mini-batches of 64, a seeded shuffle.
// Run: npx tsx web/scripts/train-digits.ts [epochs]   (10–15 minutes per epoch on one core; the
// shipped file: 2 epochs, test accuracy 98.19 %)
import { mkdirSync } from 'node:fs';
import { Rng, reshape } from '../../lib/core/index.js';
import { Adam, evaluate, loadMnist, saveParams, trainEpoch } from '../../lib/mlp/index.js';
import { digitNet } from '../src/digit-net.js';

const epochs = Number(process.argv[2] ?? 2);
const out = 'web/public/models/digits.params';
const rng = new Rng(4);

const train = loadMnist('train', { dtype: 'float32' });
const test = loadMnist('test', { dtype: 'float32' });
const images = reshape(train.images, [train.images.shape[0]!, 1, 28, 28]);
const testImages = reshape(test.images, [test.images.shape[0]!, 1, 28, 28]);

const net = digitNet(rng);
const optimizer = new Adam(net.params(), { lr: 1e-3 });
let step = 0;
for (let epoch = 1; epoch <= epochs; epoch++) {
  const t0 = performance.now();
  const result = trainEpoch(net, optimizer, images, train.labels, { batchSize: 64, rng, step });
  step = result.step;
  const { accuracy } = evaluate(net, testImages, test.labels);
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `epoch ${epoch}: training loss ${result.loss.toFixed(4)}, test accuracy ${(100 * accuracy).toFixed(2)} % (${seconds.toFixed(0)} s)`,
  );
}
mkdirSync('web/public/models', { recursive: true });
saveParams(out, net.params());
console.log(`wrote ${out}`);
