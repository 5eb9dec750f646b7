// Data augmentation: each epoch trains on a randomly altered copy of the training images, so the
// network sees a digit a few pixels off as often as centred and learns that the class does not
// depend on the exact position. Convolution and pooling already tolerate small shifts (the same
// filter runs everywhere, a max survives a one-pixel move); augmentation teaches the rest, the
// fully connected layers. LeCun et al. (1998) trained LeNet-5 on distorted digits the same way.
import { ShapeError, type Rng, type Tensor } from '../core/index.js';

/** Writes an altered copy of `images` [N, C, H, W] into `out` (same shape), drawing from `rng`. */
export type Augmentation = (out: Tensor, images: Tensor, rng: Rng) => void;

/**
 * Random translation by up to `maxShift` pixels in each direction: image n moves by (dy, dx),
 * each drawn uniformly from −maxShift … maxShift, with zeros (the MNIST background) moved in at
 * the edges: out[n, c, i, j] = images[n, c, i − dy, j − dx], or 0 outside the image.
 */
export function randomShift(maxShift: number): Augmentation {
  if (!(Number.isInteger(maxShift) && maxShift >= 0)) {
    throw new RangeError(`randomShift: maxShift must be an integer ≥ 0, got ${maxShift}`);
  }
  return (out, images, rng) => {
    if (images.shape.length !== 4) {
      throw new ShapeError('randomShift images', images.shape, [-1, -1, -1, -1]);
    }
    if (out.shape.join() !== images.shape.join()) {
      throw new ShapeError('randomShift out', out.shape, images.shape);
    }
    const [N, C, H, W] = images.shape as [number, number, number, number];
    const [s0, s1, s2, s3] = images.stride as [number, number, number, number];
    const [t0, t1, t2, t3] = out.stride as [number, number, number, number];
    const x = images.data;
    const y = out.data;
    for (let n = 0; n < N; n++) {
      const dy = rng.int(2 * maxShift + 1) - maxShift;
      const dx = rng.int(2 * maxShift + 1) - maxShift;
      for (let c = 0; c < C; c++) {
        for (let i = 0; i < H; i++) {
          const src = i - dy; // the row this output row comes from
          const inside = src >= 0 && src < H;
          const row = images.offset + n * s0 + c * s1 + src * s2;
          let q = out.offset + n * t0 + c * t1 + i * t2;
          for (let j = 0; j < W; j++, q += t3) {
            const from = j - dx; // and the column
            y[q] = inside && from >= 0 && from < W ? x[row + from * s3]! : 0;
          }
        }
      }
    }
  };
}
