import { expect } from 'chai';
import { FileFormatError, Rng, toArray } from '../../lib/core/index.js';
import { Linear, decodeParams, encodeParams } from '../../lib/mlp/index.js';

describe('encodeParams / decodeParams', () => {
  it('round-trips parameters through bytes, with no file involved', () => {
    const a = new Linear(3, 2, { rng: new Rng(1), name: 'fc' });
    const b = new Linear(3, 2, { rng: new Rng(2), name: 'fc' });
    decodeParams(encodeParams(a.params()), b.params(), 'in memory');
    expect(toArray(b.weight.value)).to.deep.equal(toArray(a.weight.value));
    expect(toArray(b.bias.value)).to.deep.equal(toArray(a.bias.value));
  });

  it('names the source (e.g. a URL) when the bytes are not a parameter file', () => {
    const fc = new Linear(3, 2, { rng: new Rng(1) });
    expect(() => decodeParams(new Uint8Array([1, 2, 3]), fc.params(), 'models/x.params')).to.throw(
      FileFormatError,
      /models\/x\.params/,
    );
  });
});
