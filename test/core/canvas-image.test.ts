import { expect } from 'chai';
import {
  fromArray,
  imageFromImageData,
  imageToImageData,
  ShapeError,
} from '../../lib/core/index.js';

describe('canvas images', () => {
  // Two pixels: pure red, and half-transparent mid gray.
  const pixels = {
    data: new Uint8ClampedArray([255, 0, 0, 255, 51, 51, 51, 128]),
    width: 2,
    height: 1,
  };

  it('reads RGBA pixels into a CHW RGB tensor in [0, 1]', () => {
    const x = imageFromImageData(pixels);
    expect(x.shape).to.deep.equal([3, 1, 2]);
    expect(Array.from(x.data)).to.deep.equal([1, 0.2, 0, 0.2, 0, 0.2].map(Math.fround));
  });

  it('reads luminance with BT.601 weights for one channel', () => {
    const x = imageFromImageData(pixels, { channels: 1 });
    expect(x.data[0]).to.be.closeTo(0.299, 1e-6);
    expect(x.data[1]).to.be.closeTo(0.2, 1e-6);
  });

  it('round-trips RGBA through a tensor', () => {
    const back = imageToImageData(imageFromImageData(pixels, { channels: 4 }));
    expect(Array.from(back.data)).to.deep.equal(Array.from(pixels.data));
  });

  it('writes gray as R = G = B with opaque alpha, clamping to [0, 1]', () => {
    const out = imageToImageData(fromArray([0.5, 2], [1, 1, 2]));
    expect(Array.from(out.data)).to.deep.equal([128, 128, 128, 255, 255, 255, 255, 255]);
  });

  it('throws a ShapeError naming the sizes when the bytes do not match', () => {
    const bad = { data: new Uint8ClampedArray(7), width: 2, height: 1 };
    expect(() => imageFromImageData(bad)).to.throw(ShapeError, /\[7\].*\[8\]/);
  });
});
