import { expect } from 'chai';
import { Rng, ShapeError, checkLayerGradients, fromArray, toArray } from '../../lib/core/index.js';
import { AddConstant, FlattenFrom, Pad2d, Reshape, Softmax } from '../../lib/pretrained/index.js';
import { randomTensor } from './helpers.js';

describe('Softmax', () => {
  it('forward matches the worked example: softmax([0, ln 3]) = [1/4, 3/4]', () => {
    const y = new Softmax().forward(fromArray([0, Math.log(3)], [1, 2]));
    expect(toArray(y)[0]).to.be.closeTo(0.25, 1e-15);
    expect(toArray(y)[1]).to.be.closeTo(0.75, 1e-15);
  });

  for (const axis of [1, -1, 2]) {
    it(`backward matches numerical gradient over axis ${axis} of [2, 3, 4, 2]`, () => {
      const rng = new Rng(40 + axis);
      const report = checkLayerGradients(
        new Softmax({ axis }),
        randomTensor(rng, [2, 3, 4, 2], { strided: true }),
      );
      expect(report.maxError).to.be.below(1e-6, report.describe()); // typically ~1e-10
    });
  }
});

describe('FlattenFrom and Reshape', () => {
  it('flatten from axis 1 and 2, and a Reshape with 0 and −1, give the ONNX shapes', () => {
    const x = randomTensor(new Rng(1), [2, 3, 4, 5]);
    expect(new FlattenFrom().forward(x).shape).to.deep.equal([2, 60]);
    expect(new FlattenFrom({ axis: 2 }).forward(x).shape).to.deep.equal([6, 20]);
    expect(new FlattenFrom({ axis: 0 }).forward(x).shape).to.deep.equal([1, 120]);
    expect(new Reshape([0, -1, 5]).forward(x).shape).to.deep.equal([2, 12, 5]);
  });

  it('backward matches numerical gradient (strided input)', () => {
    const rng = new Rng(2);
    const x = randomTensor(rng, [2, 3, 2], { strided: true });
    for (const layer of [new FlattenFrom(), new Reshape([3, -1])]) {
      const report = checkLayerGradients(layer, x);
      expect(report.maxError).to.be.below(1e-6, report.describe());
    }
  });

  it('throws naming the layer when the sizes cannot match', () => {
    expect(() =>
      new Reshape([7, -1], { name: 'r' }).forward(randomTensor(new Rng(1), [2, 3])),
    ).to.throw(ShapeError, /Reshape\(r\)/);
  });
});

describe('Pad2d', () => {
  it('pads with zeros around the input (worked example)', () => {
    const y = new Pad2d([1, 0, 0, 2]).forward(fromArray([1, 2], [1, 1, 1, 2]));
    expect(y.shape).to.deep.equal([1, 1, 2, 4]);
    expect(toArray(y)).to.deep.equal([0, 0, 0, 0, 1, 2, 0, 0]);
  });

  it('backward matches numerical gradient with asymmetric padding', () => {
    const rng = new Rng(3);
    const report = checkLayerGradients(
      new Pad2d([2, 1, 0, 3]),
      randomTensor(rng, [2, 2, 3, 2], { strided: true }),
    );
    expect(report.maxError).to.be.below(1e-6, report.describe());
  });
});

describe('AddConstant', () => {
  it('broadcasts a per-channel constant the NumPy way (worked example)', () => {
    const c = fromArray([10, 20], [2, 1, 1]);
    const y = new AddConstant(c).forward(fromArray([1, 2, 3, 4], [1, 2, 1, 2]));
    expect(toArray(y)).to.deep.equal([11, 12, 23, 24]);
    expect(
      toArray(new AddConstant(fromArray([5], [1])).forward(fromArray([1, 2], [2]))),
    ).to.deep.equal([6, 7]);
  });

  it('backward matches numerical gradient', () => {
    const rng = new Rng(4);
    const layer = new AddConstant(randomTensor(rng, [3, 1]));
    const report = checkLayerGradients(layer, randomTensor(rng, [2, 3, 4]));
    expect(report.maxError).to.be.below(1e-6, report.describe());
  });

  it('throws a ShapeError when the constant cannot broadcast', () => {
    expect(() =>
      new AddConstant(fromArray([1, 2, 3], [3])).forward(fromArray([1, 2], [1, 2])),
    ).to.throw(ShapeError);
  });
});
