// A drawing pad for digits: dark ink on white with a round brush, by mouse, pen or touch
// (pointer events), and the MNIST-style preprocessing that turns a drawing into the 28×28 input
// chapter 4's network was trained on.
import { imageFromImageData, zeros, type Tensor32 } from '../../lib/core/index.js';

/** A canvas the learner draws on; calls `onStroke` after each stroke. */
export class DigitPad {
  readonly ctx: CanvasRenderingContext2D;
  #drawing = false;
  #last: [number, number] = [0, 0];

  /** @param canvas the pad; @param onStroke called when the pen lifts */
  constructor(
    readonly canvas: HTMLCanvasElement,
    onStroke: () => void,
  ) {
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('DigitPad: this browser has no 2-D canvas');
    this.ctx = ctx;
    this.clear();
    canvas.style.touchAction = 'none';
    canvas.addEventListener('pointerdown', (e) => {
      this.#drawing = true;
      this.#last = [e.offsetX, e.offsetY];
      canvas.setPointerCapture(e.pointerId);
      this.#segment(e.offsetX, e.offsetY);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (this.#drawing) this.#segment(e.offsetX, e.offsetY);
    });
    const end = (): void => {
      if (!this.#drawing) return;
      this.#drawing = false;
      onStroke();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  /** Wipe the pad to white. */
  clear(): void {
    this.ctx.fillStyle = 'white';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  #segment(x: number, y: number): void {
    const { ctx } = this;
    ctx.strokeStyle = 'black';
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    // MNIST strokes are about 2–3 px wide on a 28 px digit of height ~20: scale accordingly.
    ctx.lineWidth = this.canvas.width / 14;
    ctx.beginPath();
    ctx.moveTo(...this.#last);
    ctx.lineTo(x, y);
    ctx.stroke();
    this.#last = [x, y];
  }

  /** The drawing as MNIST sees digits, shape [1, 1, 28, 28], or undefined when the pad is empty. */
  toMnist(): Tensor32 | undefined {
    const { width, height } = this.canvas;
    const gray = imageFromImageData(this.ctx.getImageData(0, 0, width, height), { channels: 1 });
    // Ink is 1 and paper 0, as in MNIST.
    const ink = new Float32Array(width * height);
    for (let i = 0; i < ink.length; i++) ink[i] = 1 - gray.data[i]!;
    return mnistFromInk(ink, width, height);
  }
}

/**
 * MNIST's own preprocessing (LeCun et al.): fit the digit's bounding box into 20×20 keeping its
 * aspect ratio, then place it in a 28×28 image so that its centre of mass is at the centre.
 * @param ink values in [0, 1], row-major, height × width
 * @returns [1, 1, 28, 28] float32, or undefined when there is no ink
 */
export function mnistFromInk(
  ink: Float32Array,
  width: number,
  height: number,
): Tensor32 | undefined {
  let [top, bottom, left, right] = [height, -1, width, -1];
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) {
      if (ink[i * width + j]! > 0.1) {
        top = Math.min(top, i);
        bottom = Math.max(bottom, i);
        left = Math.min(left, j);
        right = Math.max(right, j);
      }
    }
  }
  if (bottom < 0) return undefined;
  const boxH = bottom - top + 1;
  const boxW = right - left + 1;
  const scale = 20 / Math.max(boxH, boxW);
  const h = Math.max(1, Math.round(boxH * scale));
  const w = Math.max(1, Math.round(boxW * scale));
  // Area-average the box down to h × w (each small pixel averages the big ones it covers).
  const small = new Float32Array(h * w);
  for (let i = 0; i < h; i++) {
    const i0 = top + Math.floor((i * boxH) / h);
    const i1 = top + Math.max(Math.floor(((i + 1) * boxH) / h), Math.floor((i * boxH) / h) + 1);
    for (let j = 0; j < w; j++) {
      const j0 = left + Math.floor((j * boxW) / w);
      const j1 = left + Math.max(Math.floor(((j + 1) * boxW) / w), Math.floor((j * boxW) / w) + 1);
      let acc = 0;
      for (let y = i0; y < i1; y++) for (let x = j0; x < j1; x++) acc += ink[y * width + x]!;
      small[i * w + j] = acc / ((i1 - i0) * (j1 - j0));
    }
  }
  // Centre of mass of the small digit (in pixel indices), then shift it to the centre, 13.5.
  let mass = 0;
  let ci = 0;
  let cj = 0;
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const v = small[i * w + j]!;
      mass += v;
      ci += v * i;
      cj += v * j;
    }
  }
  const di = Math.round(13.5 - ci / mass);
  const dj = Math.round(13.5 - cj / mass);
  const out = zeros([1, 1, 28, 28], 'float32');
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const [y, x] = [i + di, j + dj];
      if (y >= 0 && y < 28 && x >= 0 && x < 28)
        out.data[y * 28 + x] = Math.min(1, small[i * w + j]!);
    }
  }
  return out;
}
