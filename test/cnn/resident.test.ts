// Convolutions on resident tensors (lib/core/resident.ts), which the WebAssembly kernels read
// and write in place, give the bits of the same convolutions on ordinary arrays, which are
// staged in and out; and they copy less (stagedFloats counts what staging copied).
import { expect } from 'chai';
import {
  Rng,
  copy,
  residentZeros,
  startGemmPool,
  stopGemmPool,
  toArray,
  zeros,
  type Tensor,
  type Tensor32,
} from '../../lib/core/index.js';
import {
  addIntoResident,
  conv2dBackwardInput,
  conv2dBackwardWeights,
  conv2dForward,
  convGeometry,
  reluBackwardResident,
  reluForwardResident,
  setConvGemm,
} from '../../lib/cnn/index.js';
import { setConvColumns } from '../../lib/cnn/conv2d-wasm.js';
import { stagedFloats } from '../../lib/cnn/staging.js';

interface Case {
  N: number;
  C: number;
  F: number;
  S: number;
}

// The im2col paths (three channels): one image, two images of 400 × 400 that take a product
// each, and a batch of two small ones that share one (where out and dy are staged after all);
// Winograd band by band (16 bands of 2 tile rows) on two images, one after the other; and
// Winograd's separate passes on a batch of small images.
const cases: [string, Case][] = [
  ['im2col, one image', { N: 1, C: 3, F: 8, S: 20 }],
  ['im2col, two images, a product each', { N: 2, C: 3, F: 4, S: 400 }],
  ['im2col, a batch of two in one product', { N: 2, C: 3, F: 8, S: 20 }],
  ['Winograd bands, two images', { N: 2, C: 16, F: 16, S: 64 }],
  ['Winograd passes, three images', { N: 3, C: 8, F: 8, S: 12 }],
];

// A resident copy of t (or an ordinary float32 copy).
function place(t: Tensor, resident: boolean): Tensor32 {
  const out = resident ? residentZeros(t.shape)! : zeros(t.shape, 'float32');
  out.data.set(copy(t, 'float32').data);
  return out;
}

// Forward, backward-input and backward-weights (onto nonzero dw, db) with every operand placed.
function run(c: Case, resident: boolean): { bits: Uint32Array[]; staged: number } {
  const rng = new Rng(5);
  const x = rng.fillNormal(zeros([c.N, c.C, c.S, c.S], 'float32'));
  const w = rng.fillNormal(zeros([c.F, c.C, 3, 3], 'float32'), 0, 0.2);
  const b = rng.fillNormal(zeros([c.F], 'float32'));
  const dy = rng.fillNormal(zeros([c.N, c.F, c.S, c.S], 'float32'));
  const dw0 = rng.fillNormal(zeros([c.F, c.C, 3, 3], 'float32'));
  const db = rng.fillNormal(zeros([c.F], 'float32'));
  const geom = convGeometry(x.shape, w.shape, { pad: 1 });
  const [xr, wr, dyr, dwr, dwr2] = [x, w, dy, dw0, dw0].map((t) =>
    place(t, resident),
  ) as Tensor32[];
  const out = place(zeros(dy.shape, 'float32'), resident);
  const dx = place(zeros(x.shape, 'float32'), resident);
  const before = stagedFloats();
  conv2dForward(out, xr!, wr!, b, geom);
  conv2dBackwardInput(dx, dyr!, wr!, geom);
  conv2dBackwardWeights(dwr!, db, dyr!, xr!, geom);
  const staged = stagedFloats() - before;
  // Without a bias too (a resident dw is then the product's C itself).
  conv2dBackwardWeights(dwr2!, null, dyr!, xr!, geom);
  const bits = [out, dx, dwr!, db, dwr2!].map(
    (t) => new Uint32Array(Float32Array.from(toArray(t)).buffer),
  );
  return { bits, staged };
}

describe('conv2d on resident tensors', () => {
  setConvGemm('wasm');
  for (const [name, c] of cases) {
    for (const threads of [1, 2]) {
      it(`gives the bits of ordinary arrays and copies less (${name}, ${threads} thread(s))`, async () => {
        if (threads === 2) expect(await startGemmPool(2)).to.equal(2);
        try {
          const ordinary = run(c, false);
          const resident = run(c, true);
          // And the bits of the column matrix built by im2col (the default leaves it implicit).
          setConvColumns('built');
          let built;
          try {
            built = run(c, false);
          } finally {
            setConvColumns('implicit');
          }
          for (const other of [ordinary, built]) {
            for (let i = 0; i < 5; i++) {
              const differ = resident.bits[i]!.findIndex((v, j) => v !== other.bits[i]![j]);
              expect(differ).to.equal(-1, ['out', 'dx', 'dw', 'db', 'dw without db'][i]);
            }
          }
          // Ordinary arrays stage x, dy twice, dw and the outputs; resident ones at most the
          // im2col forward's weights with their bias column, and in a batch product out and dy
          // (dw is accumulated in place).
          const { N, C, F, S } = c;
          const images = N * (C + F) * S * S;
          expect(ordinary.staged).to.be.at.least(images);
          expect(resident.staged).to.be.below(ordinary.staged - N * C * S * S);
          if (N === 1) expect(resident.staged).to.be.at.most(F * (C * 9 + 1));
        } finally {
          if (threads === 2) await stopGemmPool();
        }
      });
    }
  }
});

// The loops the element-wise kernels replace (lib/style/feature-net.ts), in float32 storage.
const reluLoop = (y: Float32Array, x: Float32Array): void => {
  for (let k = 0; k < y.length; k++) y[k] = (x[k]! + Math.abs(x[k]!)) * 0.5;
};
const reluBackLoop = (dx: Float32Array, dy: Float32Array, y: Float32Array): void => {
  for (let k = 0; k < dx.length; k++) dx[k] = dy[k]! * +(y[k]! > 0);
};
const addLoop = (d: Float32Array, t: Float32Array): void => {
  for (let k = 0; k < d.length; k++) d[k] += t[k]!;
};

describe('ReLU and sums on resident arrays', () => {
  // Two whole blocks of 16384 and a tail, with ±0, ±∞ and NaN among normal values.
  const n = 2 * 16384 + 5;
  const values = (seed: number): Float32Array => {
    const a = new Rng(seed).fillNormal(zeros([n], 'float32')).data;
    a.set([0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45], 100);
    return a;
  };
  const resident = (a: Float32Array): Float32Array => {
    const r = residentZeros([a.length])!.data;
    r.set(a);
    return r;
  };
  const same = (a: Float32Array, b: Float32Array): number =>
    a.findIndex((v, i) => !Object.is(v, b[i]));

  for (const threads of [1, 2]) {
    it(`give the bits of the plain loops (${threads} thread(s))`, async () => {
      if (threads === 2) expect(await startGemmPool(2)).to.equal(2);
      try {
        const [x, dy, t] = [values(1), values(2), values(3)];
        const [y, dx, d] = [new Float32Array(n), new Float32Array(n), Float32Array.from(dy)];
        reluLoop(y, x);
        // The loop's (v + |v|)/2 is −∞ + ∞ = NaN at −∞ (index 103); the kernel gives ReLU's 0.
        expect(Number.isNaN(y[103])).to.equal(true);
        y[103] = 0;
        reluBackLoop(dx, dy, y);
        addLoop(d, t);
        const [xr, dyr, tr] = [resident(x), resident(dy), resident(t)];
        const [yr, dxr, dr] = [
          resident(new Float32Array(n)),
          resident(new Float32Array(n)),
          resident(dy),
        ];
        expect(reluForwardResident(yr, xr)).to.equal(true);
        expect(reluBackwardResident(dxr, dyr, yr)).to.equal(true);
        expect(addIntoResident(dr, tr)).to.equal(true);
        expect(same(yr, y)).to.equal(-1, 'relu forward');
        expect(same(dxr, dx)).to.equal(-1, 'relu backward');
        expect(same(dr, d)).to.equal(-1, 'sum');
      } finally {
        if (threads === 2) await stopGemmPool();
      }
    });
  }

  it('leave ordinary arrays and mismatched lengths to the caller', () => {
    const r = residentZeros([8])!.data;
    const plain = new Float32Array(8);
    expect(reluForwardResident(r, plain)).to.equal(false);
    expect(reluForwardResident(plain, r)).to.equal(false);
    expect(reluBackwardResident(r, r, plain)).to.equal(false);
    expect(addIntoResident(r, residentZeros([9])!.data)).to.equal(false);
  });
});
