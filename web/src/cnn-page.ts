// Chapter 4 in the browser: the learner draws a digit, the network trained by chapter 4 (its
// parameters fetched from this site, no network beyond it) reads it, and the page shows the
// class probabilities and the feature maps of each convolution.
import { imageMosaic, imageToImageData, type Tensor } from '../../lib/core/index.js';
import { loadDigitModel, type DigitModel } from './cnn-model.js';
import { DigitPad } from './digit-pad.js';
import { byId } from './page.js';

const prediction = byId('prediction', HTMLElement);
const bars = byId('bars', HTMLElement);
const mapsSection = byId('maps', HTMLElement);
const input28 = byId('input28', HTMLCanvasElement);
let model: DigitModel | undefined;

/** Draw a CHW image tensor onto a canvas, scaled up by an integer factor (nearest neighbour). */
function paint(canvas: HTMLCanvasElement, image: Tensor, scale: number): void {
  const pixels = imageToImageData(image);
  const small = new ImageData(new Uint8ClampedArray(pixels.data), pixels.width, pixels.height);
  canvas.width = pixels.width * scale;
  canvas.height = pixels.height * scale;
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  void createImageBitmap(small).then((bitmap) =>
    ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height),
  );
}

function showBars(probabilities: ArrayLike<number>): void {
  bars.replaceChildren();
  for (let digit = 0; digit < probabilities.length; digit++) {
    const p = probabilities[digit]!;
    const label = document.createElement('span');
    label.textContent = String(digit);
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = `${(100 * p).toFixed(1)}%`;
    const value = document.createElement('span');
    value.textContent = `${(100 * p).toFixed(1)} %`;
    bars.append(label, bar, value);
  }
}

function read(): void {
  if (!model) return;
  const x = pad.toMnist();
  if (!x) {
    prediction.textContent = 'Draw a digit.';
    prediction.dataset['digit'] = '';
    bars.replaceChildren();
    mapsSection.replaceChildren();
    return;
  }
  // Show the 28×28 input as MNIST stores it (ink white on black).
  paint(input28, x.pick(0), 3);
  const { probabilities, maps } = model.read(x);
  let best = 0;
  for (let d = 1; d < probabilities.length; d++)
    if (probabilities[d]! > probabilities[best]!) best = d;
  prediction.textContent = `It looks like a ${best} (${(100 * probabilities[best]!).toFixed(1)} %)`;
  prediction.dataset['digit'] = String(best);
  showBars(probabilities);
  mapsSection.replaceChildren();
  for (const { title, map } of maps) {
    const heading = document.createElement('h2');
    heading.textContent = title;
    const canvas = document.createElement('canvas');
    const channels = Array.from({ length: map.shape[0]! }, (_, c) => map.pick(c));
    // One tile per channel, each rescaled to its own range: bright = strong response.
    paint(
      canvas,
      imageMosaic(channels, { columns: Math.min(channels.length, 8), pad: 2, background: 1 }),
      map.shape[1]! > 20 ? 3 : 6,
    );
    mapsSection.append(heading, canvas);
  }
}

const pad = new DigitPad(byId('pad', HTMLCanvasElement), read);
byId('clear', HTMLButtonElement).addEventListener('click', () => {
  pad.clear();
  read();
});

loadDigitModel(new URL('./models/', document.baseURI)).then(
  (loaded) => {
    model = loaded;
    byId('model-info', HTMLElement).textContent = loaded.description;
    document.body.dataset['ready'] = 'true';
    read();
  },
  (err: unknown) => {
    prediction.textContent = `Could not load the network: ${String(err)}`;
    throw err;
  },
);
