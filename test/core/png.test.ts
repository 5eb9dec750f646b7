import { expect } from 'chai';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import {
  FileFormatError,
  Rng,
  decodeImage,
  decodePng,
  encodePng,
  readImage,
  writePng,
  zeros,
} from '../../lib/core/index.js';

describe('image I/O', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'nnzero-png-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const quantized = (C: number, H: number, W: number, levels: number, seed: number) => {
    const rng = new Rng(seed);
    const t = zeros([C, H, W], 'float32');
    for (let i = 0; i < t.size; i++) t.data[i] = rng.int(levels + 1) / levels;
    return t;
  };

  for (const C of [1, 3, 4] as const) {
    it(`round-trips an 8-bit image with ${C} channel(s) exactly`, () => {
      const img = quantized(C, 5, 7, 255, C);
      const back = decodePng(encodePng(img));
      expect(back.shape).to.deep.equal([C, 5, 7]);
      expect(Array.from(back.data)).to.deep.equal(Array.from(img.data));
    });
  }

  it('round-trips a 16-bit RGB image exactly', () => {
    const img = quantized(3, 4, 6, 65535, 16);
    const back = decodePng(encodePng(img, { bitDepth: 16 }));
    for (let i = 0; i < img.size; i++) expect(back.data[i]).to.be.closeTo(img.data[i]!, 1e-7);
    // 16 bits keep detail that 8 bits cannot: some values are not multiples of 1/255.
    expect(
      Array.from(back.data).some((v) => Math.abs(v * 255 - Math.round(v * 255)) > 0.01),
    ).to.equal(true);
  });

  it('clips values outside [0, 1] and refuses NaN', () => {
    const img = zeros([1, 1, 2], 'float32');
    img.data.set([-0.5, 1.5]);
    expect(Array.from(decodePng(encodePng(img)).data)).to.deep.equal([0, 1]);
    img.data[0] = NaN;
    expect(() => encodePng(img)).to.throw(/NaN at channel 0, row 0, column 0/);
  });

  it('converts RGB to gray or RGBA on request', () => {
    const img = quantized(3, 2, 2, 255, 5);
    const gray = decodePng(encodePng(img), 'x', { channels: 1 });
    expect(gray.shape).to.deep.equal([1, 2, 2]);
    const expected = 0.299 * img.get(0, 1, 1) + 0.587 * img.get(1, 1, 1) + 0.114 * img.get(2, 1, 1);
    expect(gray.get(0, 1, 1)).to.be.closeTo(expected, 1e-6);
    expect(decodePng(encodePng(img), 'x', { channels: 4 }).get(3, 0, 0)).to.equal(1);
  });

  it('writes atomically and reads back a file', () => {
    const img = quantized(3, 3, 3, 255, 8);
    const path = join(dir, 'a.png');
    writePng(path, img);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).to.deep.equal([]);
    expect(Array.from(readImage(path).data)).to.deep.equal(Array.from(img.data));
  });

  it('names the file and the problem for a corrupt PNG', () => {
    const bytes = encodePng(quantized(3, 8, 8, 255, 9));
    const corrupt = Uint8Array.from(bytes);
    for (let i = 40; i < 60; i++) corrupt[i] = 0xaa; // inside the IHDR/IDAT chunks
    const path = join(dir, 'corrupt.png');
    writeFileSync(path, corrupt);
    expect(() => readImage(path)).to.throw(
      FileFormatError,
      /corrupt\.png: corrupt or truncated PNG/,
    );
  });

  it('names the file and the problem for a truncated PNG', () => {
    const bytes = encodePng(quantized(3, 16, 16, 255, 10));
    const path = join(dir, 'truncated.png');
    writeFileSync(path, bytes.subarray(0, bytes.length / 2));
    expect(() => readImage(path)).to.throw(
      FileFormatError,
      /truncated\.png: corrupt or truncated PNG/,
    );
  });

  it('says which file is missing and which is not an image', () => {
    expect(() => readImage(join(dir, 'nope.png'))).to.throw(
      FileFormatError,
      /nope\.png: no such file/,
    );
    const path = join(dir, 'text.png');
    writeFileSync(path, 'hello');
    expect(() => readImage(path)).to.throw(FileFormatError, /text\.png: not a PNG or JPEG image/);
  });

  it('decodes a JPEG into RGB in [0, 1]', () => {
    const W = 16;
    const H = 8;
    const rgba = new Uint8Array(W * H * 4);
    for (let p = 0; p < W * H; p++) rgba.set([200, 40, 90, 255], 4 * p);
    const bytes = jpeg.encode({ data: rgba, width: W, height: H }, 95).data;
    const img = decodeImage(bytes, 'flat.jpg');
    expect(img.shape).to.deep.equal([3, H, W]);
    expect(img.get(0, 4, 8)).to.be.closeTo(200 / 255, 0.03);
    expect(img.get(1, 4, 8)).to.be.closeTo(40 / 255, 0.03);
    expect(() => decodeImage(bytes.subarray(0, 100), 'cut.jpg')).to.throw(
      FileFormatError,
      /cut\.jpg: corrupt or truncated JPEG/,
    );
  });

  it('reads the bundled-style 8-bit RGB sample losslessly through a re-encode', () => {
    const img = quantized(3, 10, 12, 255, 12);
    const path = join(dir, 'b.png');
    writePng(path, img);
    expect(Buffer.compare(readFileSync(path), Buffer.from(encodePng(readImage(path))))).to.equal(0);
  });
});
