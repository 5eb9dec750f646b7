import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileFormatError } from '../../lib/core/index.js';
import { loadMnist, mnistFolder, parseIdx, readIdx } from '../../lib/mlp/index.js';

describe('MNIST and the IDX format', () => {
  it('reads the header of the official test images: 10,000 × 28 × 28', () => {
    const idx = readIdx(join(mnistFolder(), 't10k-images-idx3-ubyte'));
    expect(idx.shape).to.deep.equal([10000, 28, 28]);
    expect(idx.data.length).to.equal(10000 * 784);
  });

  it('loads a subset as [N, 784] rows in [0, 1] with digit labels', () => {
    const { images, labels, rows, cols } = loadMnist('test', { limit: 50 });
    expect(images.shape).to.deep.equal([50, 784]);
    expect([rows, cols]).to.deep.equal([28, 28]);
    expect(labels.length).to.equal(50);
    expect(Array.from(labels.subarray(0, 5))).to.deep.equal([7, 2, 1, 0, 4]);
    const values = Array.from(images.data);
    expect(Math.min(...values)).to.equal(0);
    expect(Math.max(...values)).to.equal(1);
  });

  it('loads float32 images when asked', () => {
    expect(loadMnist('train', { limit: 3, dtype: 'float32' }).images.data).to.be.instanceOf(
      Float32Array,
    );
  });

  it('rejects a file that is not IDX, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nnzero-idx-'));
    const path = join(dir, 'photo.png');
    writeFileSync(path, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4]));
    expect(() => readIdx(path))
      .to.throw(FileFormatError)
      .with.property('message')
      .that.matches(/photo\.png: not an IDX file/);
  });

  it('rejects a truncated IDX file, saying how many bytes are missing', () => {
    const bytes = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 5, 1, 2, 3]);
    expect(() => parseIdx(bytes, 'labels.idx')).to.throw(
      /labels\.idx: IDX shape \[5\] needs 5 bytes of data, the file has 3 \(truncated\)/,
    );
  });

  it('rejects an IDX file of a type other than unsigned bytes', () => {
    expect(() => parseIdx(new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 0]), 'floats.idx')).to.throw(
      /element type 0x0d is not supported/,
    );
  });
});
