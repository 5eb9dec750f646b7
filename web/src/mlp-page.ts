// Chapter 3 in the browser, in the manner of ConvNetJS's classify2d: pick a data set and an
// architecture, press Train, and watch the decision regions and the loss while backpropagation
// runs a few full-batch steps per animation frame.
import { Rng } from '../../lib/core/index.js';
import { drawLossCurve } from './chart.js';
import { dataset, type DatasetName } from './datasets.js';
import { MlpModel, type ActivationName, type OptimizerName } from './mlp-model.js';
import { byId, fmt, showStatus } from './page.js';
import { Plane, type Point2 } from './plane.js';

const STEPS_PER_FRAME = 5;
const MAX_STEPS = 5000;
const POINTS = 200;

const plane = new Plane(byId('plot', HTMLCanvasElement));
const lossCanvas = byId('loss', HTMLCanvasElement);
const status = byId('status', HTMLElement);
const trainButton = byId('train', HTMLButtonElement);
const datasetSelect = byId('dataset', HTMLSelectElement);
const hiddenInput = byId('hidden', HTMLInputElement);
const activationSelect = byId('activation', HTMLSelectElement);
const optimizerSelect = byId('optimizer', HTMLSelectElement);
const lrInput = byId('lr', HTMLInputElement);

const dataRng = new Rng(7);
let points: Point2[] = [];
let model: MlpModel;
let losses: number[] = [];
let running = false;
let message = 'Press Train.';
let seed = 0; // each new network gets the next seed: different, yet reproducible

/** Hidden widths from text like "8, 8" (empty: no hidden layer, a plain softmax classifier). */
function hiddenWidths(): number[] {
  return hiddenInput.value
    .split(/[\s,]+/)
    .filter((s) => s !== '')
    .map((s) => Math.max(1, Math.min(64, Math.round(Number(s)) || 1)));
}

function newNetwork(): void {
  model = new MlpModel(
    {
      hidden: hiddenWidths(),
      activation: activationSelect.value as ActivationName,
      optimizer: optimizerSelect.value as OptimizerName,
      lr: Number(lrInput.value),
      seed: ++seed,
    },
    points,
  );
  losses = [];
  message = 'Press Train.';
}

function newData(): void {
  points = dataset(datasetSelect.value as DatasetName, POINTS, dataRng);
  newNetwork();
}

function draw(): void {
  plane.drawRegions((xy, n) => model.probability(xy, n), 5);
  plane.drawPoints(points);
  drawLossCurve(lossCanvas, losses);
  const accuracy = model.accuracy();
  const loss = losses.at(-1);
  showStatus(status, {
    step: losses.length,
    loss: loss === undefined ? '–' : fmt(loss, 4),
    'training accuracy': `${(100 * accuracy).toFixed(1)} %`,
    parameters: model.net.params().reduce((n, p) => n + p.value.size, 0),
    '': message,
  });
  // Raw numbers for the browser tests.
  Object.assign(status.dataset, {
    steps: String(losses.length),
    firstLoss: String(losses[0] ?? ''),
    loss: String(loss ?? ''),
    accuracy: String(accuracy),
  });
}

function setRunning(on: boolean): void {
  running = on;
  trainButton.textContent = running ? 'Pause' : 'Train';
  if (running) {
    message = 'Training…';
    requestAnimationFrame(tick);
  } else if (losses.length > 0 && losses.length < MAX_STEPS) {
    message = 'Paused.';
  }
  draw();
}

function tick(): void {
  if (!running) return;
  for (let k = 0; k < STEPS_PER_FRAME; k++) {
    const loss = model.step();
    losses.push(loss);
    if (!Number.isFinite(loss)) {
      message = 'The loss diverged: try a smaller learning rate, then New network.';
      setRunning(false);
      return;
    }
    if (losses.length >= MAX_STEPS) {
      message = `Stopped after ${MAX_STEPS} steps.`;
      setRunning(false);
      return;
    }
  }
  draw();
  requestAnimationFrame(tick);
}

/** Rebuild the network from the controls, keeping the data (and the running state). */
function restart(): void {
  const wasRunning = running;
  setRunning(false);
  newNetwork();
  setRunning(wasRunning);
}

plane.canvas.addEventListener('click', (event) => {
  const [x, y] = plane.toData(event.offsetX, event.offsetY);
  points.push({ x, y, label: event.shiftKey ? 0 : 1 });
  restart();
});
trainButton.addEventListener('click', () => setRunning(!running));
byId('reset', HTMLButtonElement).addEventListener('click', restart);
byId('regenerate', HTMLButtonElement).addEventListener('click', () => {
  const wasRunning = running;
  setRunning(false);
  newData();
  setRunning(wasRunning);
});
datasetSelect.addEventListener('change', () => {
  setRunning(false);
  newData();
  draw();
});
for (const input of [hiddenInput, activationSelect, optimizerSelect, lrInput]) {
  input.addEventListener('change', restart);
}

newData();
draw();
