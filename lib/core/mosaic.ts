// Image mosaics: many small images (digits, filters, feature maps) tiled into one CHW image, so a
// learner sees them at a glance. Each tile is rescaled to [0, 1] on its own or over all tiles.
import { ShapeError } from './errors.js';
import { zeros, type Tensor, type Tensor32 } from './ndarray.js';

/** Options for a mosaic. */
export interface MosaicOptions {
  /** Tiles per row (default: ⌈√n⌉). */
  columns?: number;
  /** Pixels of background between tiles (default 1). */
  pad?: number;
  /** Rescale each tile to [0, 1] ('each'), all tiles together ('all'), or not at all ('none'). */
  normalize?: 'each' | 'all' | 'none';
  /** Integer upscaling factor (nearest neighbour), for tiny tiles such as 5×5 filters. */
  scale?: number;
  /** Background value in [0, 1] (default 1, white). */
  background?: number;
}

/** Tile images of equal size (each [H, W] or [C, H, W] with C = 1 or 3) into one CHW image. */
export function imageMosaic(images: readonly Tensor[], options: MosaicOptions = {}): Tensor32 {
  if (images.length === 0) throw new Error('imageMosaic: no images');
  const first = images[0]!;
  const shape = first.shape.length === 2 ? [1, first.shape[0]!, first.shape[1]!] : first.shape;
  if (shape.length !== 3 || (shape[0] !== 1 && shape[0] !== 3)) {
    throw new ShapeError(
      'imageMosaic',
      first.shape,
      [-1, -1, -1],
      'tiles must be [H, W] or [C, H, W] with C = 1 or 3',
    );
  }
  const [C, H, W] = shape as [number, number, number];
  const {
    columns = Math.ceil(Math.sqrt(images.length)),
    pad = 1,
    normalize = 'each',
    scale = 1,
    background = 1,
  } = options;
  const rows = Math.ceil(images.length / columns);
  const tileH = H * scale;
  const tileW = W * scale;
  const outH = rows * tileH + (rows + 1) * pad;
  const outW = columns * tileW + (columns + 1) * pad;
  const out = zeros([C, outH, outW], 'float32');
  out.data.fill(background);
  const get = (t: Tensor, c: number, y: number, x: number): number =>
    t.shape.length === 2 ? t.get(y, x) : t.get(c, y, x);
  let globalMin = Infinity;
  let globalMax = -Infinity;
  if (normalize === 'all') {
    for (const t of images) {
      for (let c = 0; c < C; c++)
        for (let y = 0; y < H; y++)
          for (let x = 0; x < W; x++) {
            const v = get(t, c, y, x);
            globalMin = Math.min(globalMin, v);
            globalMax = Math.max(globalMax, v);
          }
    }
  }
  images.forEach((t, k) => {
    const tShape = t.shape.length === 2 ? [1, ...t.shape] : t.shape;
    if (tShape.join() !== shape.join())
      throw new ShapeError(`imageMosaic tile ${k}`, t.shape, first.shape);
    let lo = 0;
    let hi = 1;
    if (normalize === 'all') {
      lo = globalMin;
      hi = globalMax;
    } else if (normalize === 'each') {
      lo = Infinity;
      hi = -Infinity;
      for (let c = 0; c < C; c++)
        for (let y = 0; y < H; y++)
          for (let x = 0; x < W; x++) {
            const v = get(t, c, y, x);
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
          }
    }
    const range = hi - lo || 1;
    const top = pad + Math.floor(k / columns) * (tileH + pad);
    const left = pad + (k % columns) * (tileW + pad);
    for (let c = 0; c < C; c++)
      for (let y = 0; y < tileH; y++)
        for (let x = 0; x < tileW; x++) {
          const v = (get(t, c, Math.floor(y / scale), Math.floor(x / scale)) - lo) / range;
          out.set(c, top + y, left + x, v);
        }
  });
  return out;
}
