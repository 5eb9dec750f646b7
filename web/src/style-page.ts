// Chapter 5 in the browser: pick a photo and a painting, and a small style transfer runs in a
// Web Worker (style-worker.ts) while the page shows the image after every iteration.
import { imageFromImageData, type ImageDataLike } from '../../lib/core/index.js';
import { byId, fmt, showStatus } from './page.js';
import type { StyleMessage, StyleRequest } from './style-protocol.js';

const output = byId('output', HTMLCanvasElement);
const status = byId('status', HTMLElement);
const progress = byId('progress', HTMLProgressElement);
const runButton = byId('run', HTMLButtonElement);
const stopButton = byId('stop', HTMLButtonElement);
const sizeSelect = byId('size', HTMLSelectElement);
const iterationsInput = byId('iterations', HTMLInputElement);
let worker: Worker | undefined;
let content: ImageDataLike | undefined;

function chosen(name: string): HTMLImageElement {
  const input = document.querySelector<HTMLInputElement>(`input[name=${name}]:checked`);
  const img = input?.nextElementSibling;
  if (!(img instanceof HTMLImageElement)) throw new Error(`style page: no ${name} chosen`);
  return img;
}

/** The image's pixels with its longest side scaled to `longest` (the browser's own resampling). */
async function pixels(img: HTMLImageElement, longest: number): Promise<ImageDataLike> {
  await img.decode();
  const s = longest / Math.max(img.naturalWidth, img.naturalHeight);
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(img.naturalWidth * s));
  canvas.height = Math.max(1, Math.round(img.naturalHeight * s));
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}

/** Show RGBA pixels on the output canvas, scaled to fill its width. */
function show(image: ImageDataLike): void {
  const scale = Math.floor(384 / Math.max(image.width, image.height));
  output.width = image.width * scale;
  output.height = image.height * scale;
  const ctx = output.getContext('2d')!;
  const small = new ImageData(new Uint8ClampedArray(image.data), image.width, image.height);
  void createImageBitmap(small).then((bitmap) => {
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, output.width, output.height);
  });
}

/** Mean absolute difference per channel value between two images of the same size, in [0, 1]. */
function meanDifference(a: ImageDataLike, b: ImageDataLike): number {
  const x = imageFromImageData(a).data;
  const y = imageFromImageData(b).data;
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.abs(x[i]! - y[i]!);
  return sum / x.length;
}

function setRunning(on: boolean): void {
  runButton.disabled = on;
  stopButton.disabled = !on;
  if (!on) {
    worker?.terminate();
    worker = undefined;
  }
}

async function run(): Promise<void> {
  setRunning(true);
  const size = Number(sizeSelect.value);
  content = await pixels(chosen('content'), size);
  const style = await pixels(chosen('style'), size);
  show(content);
  const iterations = Math.max(1, Math.min(500, Number(iterationsInput.value) || 1));
  progress.value = 0;
  delete status.dataset['done'];
  showStatus(status, { '': 'Building the feature network and the style targets…' });
  worker = new Worker(new URL('./style-worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (event: MessageEvent<StyleMessage>) => {
    const msg = event.data;
    if (msg.kind === 'started') {
      showStatus(status, { network: msg.description, '': 'Iterating…' });
    } else if (msg.kind === 'progress') {
      show(msg.image);
      progress.value = msg.iteration / msg.iterations;
      const diff = meanDifference(msg.image, content!);
      showStatus(status, {
        iteration: `${msg.iteration} / ${msg.iterations}`,
        loss: fmt(msg.loss, 4),
        'changed from the photo': `${(100 * diff).toFixed(1)} %`,
      });
      Object.assign(status.dataset, {
        iteration: String(msg.iteration),
        loss: String(msg.loss),
        difference: String(diff),
      });
    } else {
      setRunning(false);
      status.dataset['done'] = msg.error ? 'error' : 'true';
      if (msg.error) showStatus(status, { error: msg.error });
      else
        status.append(
          Object.assign(document.createElement('dd'), {
            textContent: `Done in ${msg.seconds.toFixed(1)} s.`,
          }),
        );
    }
  };
  worker.onerror = (event) => {
    setRunning(false);
    showStatus(status, { error: event.message });
  };
  const request: StyleRequest = { content, style, iterations, seed: 1 };
  worker.postMessage(request);
}

runButton.addEventListener('click', () => void run());
stopButton.addEventListener('click', () => {
  setRunning(false);
  showStatus(status, { '': 'Stopped.' });
});
document.querySelectorAll<HTMLImageElement>('.gallery img').forEach((img) => {
  img.addEventListener('click', () => {
    if (!worker) void pixels(chosen('content'), Number(sizeSelect.value)).then(show);
  });
});
byId('credits', HTMLElement).textContent =
  'Photos CC0 (Stéfan van der Walt, Rachel Michetti) and public domain (SpaceX); paintings public domain. See images/SOURCES.md.';
void pixels(chosen('content'), Number(sizeSelect.value)).then(show);
