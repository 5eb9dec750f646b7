import { expect } from 'chai';
import { Rng, ShapeError, zeros, type Tensor } from '../../lib/core/index.js';
import { Adam, Linear } from '../../lib/mlp/index.js';
import {
  Flatten,
  Sequential,
  Trainer,
  randomShift,
  type Augmentation,
} from '../../lib/cnn/index.js';
import { layouts, randomTensor } from './helpers.js';

// The shift randomShift draws for each image, replayed from a generator in the same state: dy
// then dx, each uniform in −s … s.
function drawnShifts(seed: number, N: number, s: number): [number, number][] {
  const rng = new Rng(seed);
  return Array.from({ length: N }, () => [rng.int(2 * s + 1) - s, rng.int(2 * s + 1) - s]);
}

// out[n, c, i, j] = x[n, c, i − dy, j − dx] or 0, element by element through .get.
function shiftedNaive(x: Tensor, shifts: [number, number][]): Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const y = zeros([N, C, H, W]);
  for (let n = 0; n < N; n++) {
    const [dy, dx] = shifts[n]!;
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < H; i++) {
        for (let j = 0; j < W; j++) {
          const [si, sj] = [i - dy, j - dx];
          if (si >= 0 && si < H && sj >= 0 && sj < W) y.set(n, c, i, j, x.get(n, c, si, sj));
        }
      }
    }
  }
  return y;
}

const values = (t: Tensor): number[] => {
  const [N, C, H, W] = t.shape as [number, number, number, number];
  const out: number[] = [];
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) out.push(t.get(n, c, i, j));
  return out;
};

describe('randomShift (data augmentation)', () => {
  it('moves each image by its drawn shift and fills zeros, on any views', () => {
    for (const layout of layouts) {
      const x = randomTensor(new Rng(3), [6, 2, 7, 5], layout, 'float32');
      const out = randomTensor(new Rng(4), [6, 2, 7, 5], layout, 'float64');
      randomShift(2)(out, x, new Rng(11));
      const expected = shiftedNaive(x, drawnShifts(11, 6, 2));
      expect(values(out)).to.deep.equal(values(expected), layout);
    }
  });

  it('draws every shift in −s … s and none outside, and the same ones for the same seed', () => {
    const N = 400;
    // One lit pixel in the middle of each 9×9 image: where it lands is the shift.
    const x = zeros([N, 1, 9, 9], 'float32');
    for (let n = 0; n < N; n++) x.set(n, 0, 4, 4, 1);
    const out = zeros([N, 1, 9, 9], 'float32');
    randomShift(2)(out, x, new Rng(5));
    const seen = new Set<string>();
    for (let n = 0; n < N; n++) {
      const lit: string[] = [];
      for (let i = 0; i < 9; i++)
        for (let j = 0; j < 9; j++) if (out.get(n, 0, i, j) === 1) lit.push(`${i - 4},${j - 4}`);
      expect(lit).to.have.length(1);
      seen.add(lit[0]!);
    }
    const all = new Set<string>();
    for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) all.add(`${dy},${dx}`);
    expect([...seen].sort()).to.deep.equal([...all].sort());
    const again = zeros([N, 1, 9, 9], 'float32');
    randomShift(2)(again, x, new Rng(5));
    expect(Array.from(again.data)).to.deep.equal(Array.from(out.data));
  });

  it('with maxShift 0 copies the images unchanged', () => {
    const x = randomTensor(new Rng(8), [3, 1, 4, 4], 'contiguous', 'float32');
    const out = zeros([3, 1, 4, 4], 'float32');
    randomShift(0)(out, x, new Rng(1));
    expect(Array.from(out.data)).to.deep.equal(Array.from(x.data));
  });

  it('refuses a bad maxShift and names both shapes on a mismatch', () => {
    expect(() => randomShift(-1)).to.throw(RangeError, /maxShift/);
    expect(() => randomShift(1.5)).to.throw(RangeError, /maxShift/);
    const x = zeros([2, 1, 4, 4], 'float32');
    expect(() => randomShift(1)(zeros([2, 1, 4, 5], 'float32'), x, new Rng(1)))
      .to.throw(ShapeError)
      .with.property('message')
      .that.matches(/\[2, 1, 4, 5\].*\[2, 1, 4, 4\]/);
    expect(() => randomShift(1)(zeros([2, 16]), zeros([2, 16]), new Rng(1))).to.throw(ShapeError);
  });

  it('is applied by the Trainer afresh each epoch, into one reused buffer, and trained on', () => {
    // Three epochs of a 4 → 2 linear classifier; returns its weights before and after.
    const train = (augment?: Augmentation): { before: number[]; after: number[] } => {
      const rng = new Rng(2);
      const images = rng.fillNormal(zeros([32, 1, 2, 2], 'float32'));
      const labels = Uint8Array.from({ length: 32 }, (_, i) => i % 2);
      const fc = new Linear(4, 2, { rng, dtype: 'float32' });
      const before = Array.from(fc.weight.value.data);
      const net = new Sequential([new Flatten(), fc]);
      const trainer = new Trainer(net, new Adam(net.params(), { lr: 0.1 }), {
        batchSize: 8,
        rng: new Rng(3),
        ...(augment === undefined ? {} : { augment }),
      });
      trainer.fit({ images, labels }, { images, labels }, 3);
      return { before, after: Array.from(fc.weight.value.data) };
    };
    // An augmentation that blanks the inputs: the weights' gradient dy·xᵀ is then zero, so Adam
    // leaves them exactly as initialised (only the bias learns). That shows the trainer fed the
    // altered copy and not the originals.
    const outs: Tensor[] = [];
    const blank: Augmentation = (out, x, r) => {
      expect(out.shape).to.deep.equal(x.shape);
      expect(out).to.not.equal(x);
      expect(r).to.be.instanceOf(Rng);
      out.data.fill(0);
      outs.push(out);
    };
    const blanked = train(blank);
    expect(outs).to.have.length(3);
    expect(outs[1]).to.equal(outs[0]);
    expect(outs[2]).to.equal(outs[0]);
    expect(blanked.after).to.deep.equal(blanked.before);
    // Negative control: without augmentation the same training moves the weights.
    const plain = train();
    expect(plain.after).to.not.deep.equal(plain.before);
  });
});
