// Chapter 1 in the browser: the library's Perceptron learns a line from points the learner
// places. Training visits one example per animation step through Perceptron.update — exactly the
// perceptron rule of lib/perceptron — so each mistake visibly tips the line.
import { Rng } from '../../lib/core/index.js';
import { Perceptron } from '../../lib/perceptron/index.js';
import { separable, xor } from './datasets.js';
import { byId, fmt, showStatus } from './page.js';
import { Plane, type Point2 } from './plane.js';

const MAX_EPOCHS = 100;

const plane = new Plane(byId('plot', HTMLCanvasElement));
const status = byId('status', HTMLElement);
const trainButton = byId('train', HTMLButtonElement);
const rateInput = byId('rate', HTMLInputElement);
const speedInput = byId('speed', HTMLInputElement);
const rng = new Rng(2024);

let points: Point2[] = separable(24, rng);
let p = new Perceptron(2);
let epoch = 0; // completed passes over the points
let cursor = 0; // index of the next example within the current pass
let mistakes = 0; // mistakes so far in the current pass
let lastEpochMistakes: number | undefined;
let running = false;
let message = 'Press Train.';

function draw(): void {
  plane.clear();
  // Shade the side the perceptron calls class 1 (only once it has a line).
  if (p.weights[0] !== 0 || p.weights[1] !== 0) {
    plane.drawRegions((xy, n) => {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = p.predict([xy[2 * i]!, xy[2 * i + 1]!]);
      return out;
    }, 8);
  }
  plane.drawLine(p.weights[0]!, p.weights[1]!, p.bias);
  plane.drawPoints(points, running ? points[cursor] : undefined);
  showStatus(status, {
    epoch,
    'mistakes in last epoch': lastEpochMistakes ?? '–',
    'w₁, w₂': `${fmt(p.weights[0]!)}, ${fmt(p.weights[1]!)}`,
    b: fmt(p.bias),
    '': message,
  });
  // Raw numbers for the browser tests.
  Object.assign(status.dataset, {
    epoch: String(epoch),
    mistakes: String(lastEpochMistakes ?? -1),
    w1: String(p.weights[0]),
    w2: String(p.weights[1]),
    b: String(p.bias),
    converged: String(lastEpochMistakes === 0),
  });
}

/** One step of the perceptron rule on the next example; returns true when training should stop. */
function learnOne(): boolean {
  const pt = points[cursor]!;
  const y = p.update([pt.x, pt.y], pt.label, Number(rateInput.value));
  if (y !== pt.label) mistakes++;
  cursor++;
  if (cursor < points.length) return false;
  // End of a pass: the rule has converged when a whole pass made no mistake.
  epoch++;
  lastEpochMistakes = mistakes;
  cursor = 0;
  mistakes = 0;
  if (lastEpochMistakes === 0) {
    message = `Converged after ${epoch} epochs: every point is on its side.`;
    return true;
  }
  if (epoch >= MAX_EPOCHS) {
    message = `Stopped after ${MAX_EPOCHS} epochs: no line separates these points.`;
    return true;
  }
  return false;
}

function setRunning(on: boolean): void {
  running = on && points.length > 0;
  trainButton.textContent = running ? 'Pause' : 'Train';
  if (running) {
    if (lastEpochMistakes === 0 || epoch >= MAX_EPOCHS) resetWeights();
    message = 'Training…';
    requestAnimationFrame(tick);
  }
  draw();
}

function tick(): void {
  if (!running) return;
  for (let k = 0; k < Number(speedInput.value); k++) {
    if (learnOne()) {
      setRunning(false);
      return;
    }
  }
  draw();
  requestAnimationFrame(tick);
}

function resetWeights(): void {
  p = new Perceptron(2);
  epoch = 0;
  cursor = 0;
  mistakes = 0;
  lastEpochMistakes = undefined;
  message = 'Press Train.';
}

function setPoints(next: Point2[]): void {
  points = next;
  setRunning(false);
  resetWeights();
  draw();
}

plane.canvas.addEventListener('click', (event) => {
  const [x, y] = plane.toData(event.offsetX, event.offsetY);
  const chosen = Number(
    document.querySelector<HTMLInputElement>('input[name=label]:checked')?.value ?? 1,
  );
  points.push({ x, y, label: event.shiftKey ? 1 - chosen : chosen });
  if (!running) draw();
});
trainButton.addEventListener('click', () => setRunning(!running));
byId('step', HTMLButtonElement).addEventListener('click', () => {
  setRunning(false);
  if (points.length === 0) return;
  if (lastEpochMistakes === 0) return;
  // Finish the current pass over the points (a whole epoch when starting from its beginning).
  do {
    if (learnOne()) break;
  } while (cursor !== 0);
  draw();
});
byId('reset', HTMLButtonElement).addEventListener('click', () => setPoints(points));
byId('sample', HTMLButtonElement).addEventListener('click', () => setPoints(separable(24, rng)));
byId('xor', HTMLButtonElement).addEventListener('click', () => setPoints(xor(24, rng)));
byId('clear', HTMLButtonElement).addEventListener('click', () => setPoints([]));

draw();
