// Dropout (Srivastava et al. 2014) in its "inverted" form, as Caffe (scale_train: true), PyTorch
// and ONNX run it: in training each unit is kept with probability 1 − p and the survivors are
// scaled by 1/(1 − p), so that evaluation is the identity and a trained net needs no rescaling.
// The mode is an explicit field, never a global; train mode draws its mask from a seeded Rng.
import {
  checkUpstream,
  copy,
  dtypeOf,
  requireCache,
  zeros,
  type Layer,
  type Param,
  type Rng,
  type Tensor,
} from '../core/index.js';

/** Train mode drops units at random; eval mode is the identity. */
export type Mode = 'train' | 'eval';

/** Options of Dropout: the mode is required, so nobody gets the wrong one by default. */
export interface DropoutOptions {
  mode: Mode;
  /** Random stream for the masks (required to run in train mode). */
  rng?: Rng;
  name?: string;
}

/** Inverted dropout with drop probability p: [any shape] → [same shape]. */
export class Dropout implements Layer {
  readonly name: string;
  readonly p: number;
  mode: Mode;
  rng: Rng | undefined;
  // The kept-and-scaled mask m (0 or 1/(1 − p)); undefined after an eval forward.
  #mask: Tensor | undefined;
  #yShape: number[] | undefined;

  /** @param p probability of dropping a unit, in [0, 1) (Caffe `dropout_ratio`, ONNX `ratio`) */
  constructor(p: number, { mode, rng, name = 'dropout' }: DropoutOptions) {
    if (!(p >= 0 && p < 1)) throw new RangeError(`Dropout(${name}) p must be in [0, 1), got ${p}`);
    this.name = name;
    this.p = p;
    this.mode = mode;
    this.rng = rng;
  }

  forward(x: Tensor): Tensor {
    this.#yShape = [...x.shape];
    const y = copy(x);
    if (this.mode === 'eval') {
      this.#mask = undefined;
      return y;
    }
    if (this.rng === undefined) {
      throw new Error(`Dropout(${this.name}) in train mode needs an rng (pass { rng })`);
    }
    const mask = zeros(x.shape, dtypeOf(x));
    const keep = 1 / (1 - this.p);
    for (let i = 0, end = mask.size; i < end; i++) {
      mask.data[i] = this.rng.next() < this.p ? 0 : keep;
      y.data[i] = y.data[i]! * mask.data[i]!;
    }
    this.#mask = mask;
    return y;
  }

  backward(dy: Tensor): Tensor {
    const shape = requireCache(this.#yShape, `Dropout(${this.name})`);
    checkUpstream(dy, shape, `Dropout(${this.name})`);
    const dx = copy(dy);
    // y = m ⊙ x, so dx = m ⊙ dy (the identity in eval mode).
    if (this.#mask !== undefined) {
      for (let i = 0, end = dx.size; i < end; i++) dx.data[i] = dx.data[i]! * this.#mask.data[i]!;
    }
    return dx;
  }

  params(): Param[] {
    return [];
  }
}
