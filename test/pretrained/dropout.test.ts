import { expect } from 'chai';
import {
  Rng,
  checkLayerGradients,
  copy,
  toArray,
  type Layer,
  type Tensor,
} from '../../lib/core/index.js';
import { Dropout } from '../../lib/pretrained/index.js';
import { randomTensor } from './helpers.js';

describe('Dropout', () => {
  it('is the identity in eval mode, forward and backward', () => {
    const rng = new Rng(1);
    const x = randomTensor(rng, [2, 3, 4]);
    const drop = new Dropout(0.5, { mode: 'eval' });
    expect(toArray(drop.forward(x))).to.deep.equal(toArray(x));
    const dy = randomTensor(rng, [2, 3, 4]);
    expect(toArray(drop.backward(dy))).to.deep.equal(toArray(dy));
  });

  it('in train mode zeroes about p of the units and scales the rest by 1/(1 − p)', () => {
    const x = randomTensor(new Rng(2), [4000]);
    const y = toArray(new Dropout(0.3, { mode: 'train', rng: new Rng(3) }).forward(x));
    const xs = toArray(x);
    const dropped = y.filter((v) => v === 0).length / y.length;
    expect(dropped).to.be.closeTo(0.3, 0.03);
    y.forEach((v, i) => {
      if (v !== 0) expect(v).to.be.closeTo(xs[i]! / 0.7, 1e-12);
    });
  });

  it('draws the same mask from the same seed', () => {
    const x = randomTensor(new Rng(4), [50]);
    const a = new Dropout(0.5, { mode: 'train', rng: new Rng(9) }).forward(x);
    const b = new Dropout(0.5, { mode: 'train', rng: new Rng(9) }).forward(x);
    expect(toArray(a)).to.deep.equal(toArray(b));
  });

  it('backward in train mode matches numerical gradient with the mask held fixed', () => {
    const drop = new Dropout(0.4, { mode: 'train' });
    // The check runs forward many times; re-seeding before each keeps one mask throughout.
    const fixedMask: Layer = {
      forward: (x: Tensor) => {
        drop.rng = new Rng(21);
        return drop.forward(x);
      },
      backward: (dy: Tensor) => drop.backward(dy),
      params: () => [],
    };
    const x = randomTensor(new Rng(5), [2, 3, 5]);
    const report = checkLayerGradients(fixedMask, x);
    expect(report.maxError).to.be.below(1e-6, report.describe()); // typically 1e-9…1e-11; rounding near 0 reaches ~1e-7
  });

  it('backward in train mode drops exactly the units forward dropped', () => {
    const drop = new Dropout(0.5, { mode: 'train', rng: new Rng(6) });
    const x = randomTensor(new Rng(7), [40]);
    const y = toArray(drop.forward(copy(x)));
    const dx = toArray(drop.backward(randomTensor(new Rng(8), [40])));
    y.forEach((v, i) => expect(v === 0).to.equal(dx[i] === 0));
  });

  it('refuses train mode without an rng and a p outside [0, 1)', () => {
    const x = randomTensor(new Rng(1), [3]);
    expect(() => new Dropout(0.5, { mode: 'train', name: 'drop6' }).forward(x)).to.throw(
      /Dropout\(drop6\) in train mode needs an rng/,
    );
    expect(() => new Dropout(1, { mode: 'eval' })).to.throw(RangeError, /\[0, 1\)/);
  });
});
