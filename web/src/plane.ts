// Drawing on a 2-D plane: the data square [-1, 1]² mapped onto a canvas (y up, as in a math
// figure), labelled points, decision regions shaded by a classifier, a perceptron's line.

/** A labelled point of a 2-D data set; label 0 or 1 (or a class index). */
export interface Point2 {
  x: number;
  y: number;
  label: number;
}

/** Class colours, shared with style.css (--class0, --class1). */
export const CLASS_COLORS = ['#e8743b', '#1f77b4'];
const REGION_RGB: [number, number, number][] = [
  [232, 116, 59],
  [31, 119, 180],
];

/** The data square [-extent, extent]² drawn onto a canvas. */
export class Plane {
  readonly ctx: CanvasRenderingContext2D;

  /** @param canvas the canvas to draw on; @param extent half-width of the data square */
  constructor(
    readonly canvas: HTMLCanvasElement,
    readonly extent = 1,
  ) {
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('Plane: this browser has no 2-D canvas');
    this.ctx = ctx;
  }

  /** Data coordinates → canvas pixels. */
  toPixel(x: number, y: number): [number, number] {
    const { width, height } = this.canvas;
    return [
      ((x + this.extent) / (2 * this.extent)) * width,
      ((this.extent - y) / (2 * this.extent)) * height,
    ];
  }

  /** Canvas pixels (e.g. a mouse event's offsetX/offsetY) → data coordinates. */
  toData(px: number, py: number): [number, number] {
    const { width, height } = this.canvas;
    return [
      (px / width) * 2 * this.extent - this.extent,
      this.extent - (py / height) * 2 * this.extent,
    ];
  }

  /** Clear to white and draw the axes through the origin. */
  clear(): void {
    const { ctx, canvas } = this;
    ctx.fillStyle = 'white';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = '#ddd';
    ctx.lineWidth = 1;
    const [ox, oy] = this.toPixel(0, 0);
    ctx.beginPath();
    ctx.moveTo(0, oy);
    ctx.lineTo(canvas.width, oy);
    ctx.moveTo(ox, 0);
    ctx.lineTo(ox, canvas.height);
    ctx.stroke();
  }

  /**
   * Shade every cell × cell block by p(class 1) at its centre: orange for 0, blue for 1, paler
   * where the classifier is unsure. `prob` gets many points at once (rows of [x, y]) so a network
   * can classify the whole grid in one batch.
   */
  drawRegions(prob: (xy: Float64Array, count: number) => ArrayLike<number>, cell = 5): void {
    const { ctx, canvas } = this;
    const cols = Math.ceil(canvas.width / cell);
    const rows = Math.ceil(canvas.height / cell);
    const xy = new Float64Array(2 * cols * rows);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const [x, y] = this.toData((c + 0.5) * cell, (r + 0.5) * cell);
        xy[2 * (r * cols + c)] = x;
        xy[2 * (r * cols + c) + 1] = y;
      }
    }
    const p = prob(xy, cols * rows);
    const image = ctx.createImageData(canvas.width, canvas.height);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const p1 = p[r * cols + c]!;
        // Blend white toward the winning class's colour by the confidence |2p - 1|.
        const [cr, cg, cb] = REGION_RGB[p1 >= 0.5 ? 1 : 0]!;
        const a = 0.15 + 0.35 * Math.abs(2 * p1 - 1);
        const rgb = [255 + a * (cr - 255), 255 + a * (cg - 255), 255 + a * (cb - 255)];
        for (let i = r * cell; i < Math.min((r + 1) * cell, canvas.height); i++) {
          for (let j = c * cell; j < Math.min((c + 1) * cell, canvas.width); j++) {
            const o = 4 * (i * canvas.width + j);
            image.data[o] = rgb[0]!;
            image.data[o + 1] = rgb[1]!;
            image.data[o + 2] = rgb[2]!;
            image.data[o + 3] = 255;
          }
        }
      }
    }
    ctx.putImageData(image, 0, 0);
  }

  /** Draw the points as coloured discs; `highlight` gets a black ring (the example being learned). */
  drawPoints(points: readonly Point2[], highlight?: Point2): void {
    const { ctx } = this;
    for (const pt of points) {
      const [px, py] = this.toPixel(pt.x, pt.y);
      ctx.beginPath();
      ctx.arc(px, py, 5, 0, 2 * Math.PI);
      ctx.fillStyle = CLASS_COLORS[pt.label % CLASS_COLORS.length]!;
      ctx.fill();
      ctx.lineWidth = pt === highlight ? 3 : 1;
      ctx.strokeStyle = pt === highlight ? 'black' : 'white';
      ctx.stroke();
    }
  }

  /** Draw the line w₁x + w₂y + b = 0 (nothing while w = 0: there is no line yet). */
  drawLine(w1: number, w2: number, b: number): void {
    if (w1 === 0 && w2 === 0) return;
    const e = this.extent;
    // Two far-apart points on the line, solved for whichever coordinate is better conditioned.
    const ends: [number, number][] =
      Math.abs(w2) > Math.abs(w1)
        ? [
            [-2 * e, (-b - w1 * -2 * e) / w2],
            [2 * e, (-b - w1 * 2 * e) / w2],
          ]
        : [
            [(-b - w2 * -2 * e) / w1, -2 * e],
            [(-b - w2 * 2 * e) / w1, 2 * e],
          ];
    const { ctx } = this;
    const [ax, ay] = this.toPixel(...ends[0]!);
    const [bx, by] = this.toPixel(...ends[1]!);
    ctx.beginPath();
    ctx.moveTo(ax, ay);
    ctx.lineTo(bx, by);
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = '#222';
    ctx.stroke();
  }
}
