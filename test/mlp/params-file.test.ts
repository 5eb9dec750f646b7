import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileFormatError, Rng, toArray } from '../../lib/core/index.js';
import { Linear, ReLU, Sequential, loadParams, saveParams } from '../../lib/mlp/index.js';

function net(seed: number, hidden = 5, dtype: 'float64' | 'float32' = 'float64'): Sequential {
  const rng = new Rng(seed);
  return new Sequential([
    new Linear(4, hidden, { rng, name: 'fc1', dtype }),
    new ReLU(),
    new Linear(hidden, 3, { rng, name: 'fc2', dtype }),
  ]);
}

describe('saveParams / loadParams', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnzero-params-'));

  it('round-trips every parameter exactly, by name', () => {
    const path = join(dir, 'net.params');
    const a = net(1);
    saveParams(path, a.params());
    const b = net(2);
    loadParams(path, b.params());
    a.params().forEach((p, i) =>
      expect(toArray(b.params()[i]!.value)).to.deep.equal(toArray(p.value)),
    );
  });

  it('round-trips float32 parameters', () => {
    const path = join(dir, 'net32.params');
    const a = net(3, 5, 'float32');
    saveParams(path, a.params());
    const b = net(4, 5, 'float32');
    loadParams(path, b.params());
    expect(toArray(b.params()[0]!.value)).to.deep.equal(toArray(a.params()[0]!.value));
  });

  it('names the parameters whose shapes do not match', () => {
    const path = join(dir, 'wide.params');
    saveParams(path, net(5, 6).params());
    expect(() => loadParams(path, net(6, 5).params()))
      .to.throw(FileFormatError)
      .with.property('message')
      .that.matches(/fc1\.weight has shape \[6, 4\] in the file, \[5, 4\] in the network/);
  });

  it('names missing and unexpected parameters', () => {
    const path = join(dir, 'one.params');
    const rng = new Rng(7);
    saveParams(path, new Linear(4, 3, { rng, name: 'head' }).params());
    expect(() => loadParams(path, new Linear(4, 3, { rng, name: 'fc2' }).params())).to.throw(
      /missing fc2\.weight \[3, 4\].*unexpected head\.weight \[3, 4\]/,
    );
  });

  it('leaves the network unchanged when the file does not match', () => {
    const path = join(dir, 'mismatch.params');
    saveParams(path, net(8, 6).params());
    const b = net(9);
    const before = toArray(b.params()[2]!.value);
    expect(() => loadParams(path, b.params())).to.throw(FileFormatError);
    expect(toArray(b.params()[2]!.value)).to.deep.equal(before);
  });

  it('says so when the file is not a parameter file', () => {
    const path = join(dir, 'junk.params');
    writeFileSync(path, 'hello\nworld\n');
    expect(() => loadParams(path, net(10).params())).to.throw(/not an nnzero parameter file/);
  });
});
