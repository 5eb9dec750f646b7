import { expect } from 'chai';
import {
  Rng,
  checkGradients,
  checkLayerGradients,
  copy,
  dot,
  like,
  toArray,
  zeroGrad,
  type Tensor,
} from '../../lib/core/index.js';
import {
  BatchNorm2d,
  ChannelScale,
  Concat,
  Dropout,
  EltwiseSum,
  Graph,
  LRN,
  type GraphNode,
} from '../../lib/pretrained/index.js';
import { Pointwise, randomTensor, relativeDifference } from './helpers.js';

// A tiny inception block on 3 input channels: a 1×1 branch, a 1×1 → LRN branch, and a
// scale → 1×1 branch, joined by Concat into 2 + 3 + 1 = 6 channels, then one more LRN.
function inception(rng: Rng): Graph {
  const nodes: GraphNode[] = [
    { name: 'b1', input: 'data', layer: new Pointwise(rng, 3, 2, 'b1') },
    { name: 'b2_reduce', input: 'data', layer: new Pointwise(rng, 3, 3, 'b2_reduce') },
    { name: 'b2', input: 'b2_reduce', layer: new LRN(3, { alpha: 0.5, name: 'b2' }) },
    { name: 'b3_scale', input: 'data', layer: new ChannelScale(3, { bias: true, name: 'b3s' }) },
    { name: 'b3', input: 'b3_scale', layer: new Pointwise(rng, 3, 1, 'b3') },
    { name: 'output', inputs: ['b1', 'b2', 'b3'], merge: new Concat() },
    { name: 'norm', input: 'output', layer: new LRN(5, { alpha: 0.3, name: 'norm' }) },
  ];
  const graph = new Graph(nodes);
  for (const p of graph.params()) if (p.name.startsWith('b3s')) rng.fillNormal(p.value, 1, 0.3);
  return graph;
}

// A tiny residual block: y = LRN(x + BN(1×1(LRN(x)))) with the identity shortcut.
function residual(rng: Rng): Graph {
  const bn = new BatchNorm2d(3, { name: 'bn', eps: 1e-3 });
  rng.fillNormal(bn.runningMean);
  rng.fillNormal(bn.weight!.value, 1, 0.2);
  return new Graph([
    { name: 'a', input: 'data', layer: new LRN(3, { alpha: 0.4, name: 'a' }) },
    { name: 'b', input: 'a', layer: new Pointwise(rng, 3, 3, 'b') },
    { name: 'c', input: 'b', layer: bn },
    { name: 'sum', inputs: ['data', 'c'], merge: new EltwiseSum() },
    { name: 'out', input: 'sum', layer: new LRN(3, { alpha: 0.4, name: 'out' }) },
  ]);
}

describe('Graph', () => {
  it('backward matches numerical gradient through a tiny inception block', () => {
    const rng = new Rng(21);
    const graph = inception(rng);
    const report = checkLayerGradients(graph, randomTensor(rng, [2, 3, 3, 2]));
    expect(report.reports.map((r) => r.name)).to.deep.equal([
      'input',
      'b1.weight',
      'b1.bias',
      'b2_reduce.weight',
      'b2_reduce.bias',
      'b3s.weight',
      'b3s.bias',
      'b3.weight',
      'b3.bias',
    ]);
    expect(report.maxError).to.be.below(1e-6, report.describe()); // typically ~1e-9
  });

  it('backward matches numerical gradient through a tiny residual block', () => {
    const rng = new Rng(22);
    const report = checkLayerGradients(residual(rng), randomTensor(rng, [2, 3, 2, 3]));
    expect(report.maxError).to.be.below(1e-6, report.describe()); // typically ~1e-9
  });

  it('adds the gradients of a tensor read twice (y = x + x gives dx = 2 dy)', () => {
    const graph = new Graph([{ name: 'twice', inputs: ['data', 'data'], merge: new EltwiseSum() }]);
    const x = randomTensor(new Rng(1), [2, 3]);
    graph.forward(x);
    const dy = randomTensor(new Rng(2), [2, 3]);
    const dx = toArray(graph.backward(dy));
    toArray(dy).forEach((g, i) => expect(dx[i]).to.equal(2 * g));
  });

  it('equals the same layers chained by hand', () => {
    const rng = new Rng(23);
    const pw = new Pointwise(rng, 3, 4);
    const lrn = new LRN(3, { alpha: 0.5 });
    const drop = new Dropout(0.5, { mode: 'eval' });
    const x = randomTensor(rng, [1, 3, 2, 2]);
    const byHand = drop.forward(lrn.forward(pw.forward(x)));
    const graph = new Graph([
      { name: 'drop', input: 'lrn', layer: drop },
      { name: 'pw', input: 'data', layer: pw },
      { name: 'lrn', input: 'pw', layer: lrn },
    ]);
    expect(graph.nodes.map((n) => n.name)).to.deep.equal(['pw', 'lrn', 'drop']);
    expect(graph.output).to.equal('drop');
    expect(toArray(graph.forward(x))).to.deep.equal(toArray(byHand));
  });

  it('returns taps and runs only the nodes the requested output needs', () => {
    const rng = new Rng(24);
    const first = new Pointwise(rng, 3, 3, 'first');
    const last = new Pointwise(rng, 3, 3, 'last');
    const graph = new Graph([
      { name: 'first', input: 'data', layer: first },
      { name: 'mid', input: 'first', layer: new LRN(3) },
      { name: 'last', input: 'mid', layer: last },
    ]);
    const x = randomTensor(rng, [1, 3, 2, 2]);
    const { output, taps } = graph.run(x, { output: 'mid', taps: ['first'] });
    expect(last.forwardCalls).to.equal(0);
    expect(relativeDifference(taps.get('first')!, first.forward(x))).to.equal(0);
    expect(output.shape).to.deep.equal([1, 3, 2, 2]);
  });

  it('backward with tap gradients matches numerical gradient of output and tap losses', () => {
    const rng = new Rng(25);
    const graph = inception(rng);
    const x = randomTensor(rng, [2, 3, 2, 2]);
    const { output, taps } = graph.run(x, { taps: ['b2', 'b1'] });
    const dy = rng.fillNormal(like(output));
    const dB2 = rng.fillNormal(like(taps.get('b2')!));
    const dB1 = rng.fillNormal(like(taps.get('b1')!));
    zeroGrad(graph.params());
    const dx = copy(
      graph.backward(dy, {
        tapGradients: new Map([
          ['b2', dB2],
          ['b1', dB1],
        ]),
      }),
    );
    const loss = (): number => {
      const r = graph.run(x, { taps: ['b2', 'b1'] });
      return dot(dy, r.output) + dot(dB2, r.taps.get('b2')!) + dot(dB1, r.taps.get('b1')!);
    };
    const targets = [
      { name: 'input', value: x, grad: dx },
      ...graph.params().map((p) => ({ name: p.name, value: p.value, grad: copy(p.grad) })),
    ];
    const report = checkGradients(loss, targets);
    expect(report.maxError).to.be.below(1e-6, report.describe());
  });

  it('backward(null) with a tap only propagates from that tap', () => {
    const rng = new Rng(26);
    const graph = residual(rng);
    const x = randomTensor(rng, [1, 3, 2, 2]);
    const { taps } = graph.run(x, { taps: ['a'] });
    const dA = rng.fillNormal(like(taps.get('a')!));
    const lrn = new LRN(3, { alpha: 0.4 });
    lrn.forward(x);
    expect(
      relativeDifference(
        graph.backward(null, { tapGradients: new Map([['a', dA]]) }),
        lrn.backward(dA),
      ),
    ).to.be.below(1e-15);
  });

  it('freezes nodes: their gradients stay untouched while dx still flows through them', () => {
    const rng = new Rng(27);
    const a = new Pointwise(rng, 2, 2, 'a');
    const graph = new Graph([
      { name: 'a', input: 'data', layer: a },
      { name: 'b', input: 'a', layer: new Pointwise(rng, 2, 2, 'b') },
    ]).freeze(['a']);
    expect(graph.isFrozen('a')).to.equal(true);
    expect(graph.trainableParams().map((p) => p.name)).to.deep.equal(['b.weight', 'b.bias']);
    expect(graph.params()).to.have.length(4);
    const x = randomTensor(rng, [1, 2, 2, 2]);
    zeroGrad(graph.params());
    graph.forward(x);
    const dx = graph.backward(randomTensor(rng, [1, 2, 2, 2]));
    expect(toArray(a.weight.grad).every((v) => v === 0)).to.equal(true);
    expect(toArray(dx).some((v) => v !== 0)).to.equal(true);
  });

  it('forwardWithTaps returns a Map and stops at the deepest tap when asked', () => {
    const rng = new Rng(31);
    const last = new Pointwise(rng, 3, 3, 'last');
    const graph = new Graph([
      { name: 'a', input: 'data', layer: new LRN(3) },
      { name: 'last', input: 'a', layer: last },
    ]);
    const { y, taps } = graph.forwardWithTaps(randomTensor(rng, [1, 3, 2, 2]), ['a'], {
      stopAtDeepestTap: true,
    });
    expect(last.forwardCalls).to.equal(0);
    expect(y).to.equal(taps.get('a'));
    expect(() => graph.backward(null)).to.throw(/dy is null and no tap gradients/);
  });

  it('lists a layer table with parameter counts', () => {
    const rows = inception(new Rng(28)).summary();
    expect(rows.find((r) => r.name === 'b2_reduce')).to.deep.equal({
      name: 'b2_reduce',
      kind: 'Pointwise',
      inputs: ['data'],
      params: 12,
    });
    expect(rows.find((r) => r.name === 'output')?.kind).to.equal('Concat');
  });

  it('throws naming the node that reads an unknown tensor, a repeated name, or a cycle', () => {
    const rng = new Rng(29);
    const pw = (): Pointwise => new Pointwise(rng, 2, 2);
    expect(() => new Graph([{ name: 'a', input: 'dat', layer: pw() }])).to.throw(
      /graph node "a" reads "dat", which no node produces/,
    );
    expect(
      () =>
        new Graph([
          { name: 'a', input: 'data', layer: pw() },
          { name: 'a', input: 'data', layer: pw() },
        ]),
    ).to.throw(/"a" is used twice/);
    expect(
      () =>
        new Graph([
          { name: 'a', input: 'b', layer: pw() },
          { name: 'b', input: 'a', layer: pw() },
        ]),
    ).to.throw(/cycle through node\(s\) a, b/);
  });

  it('throws when backward comes before forward or a tap was not computed', () => {
    const rng = new Rng(30);
    const graph = residual(rng);
    const x = randomTensor(rng, [1, 3, 2, 2]);
    expect(() => graph.backward(x)).to.throw(/Graph.backward called before forward/);
    graph.run(x, { output: 'a' });
    expect(() => graph.backward(null, { tapGradients: new Map([['out', x]]) })).to.throw(
      /tap "out" was not computed/,
    );
  });

  it('sorts a deep chain without recursion', () => {
    const nodes: GraphNode[] = [];
    for (let i = 0; i < 20000; i++) {
      nodes.push({
        name: `n${i}`,
        input: i === 0 ? 'data' : `n${i - 1}`,
        layer: new Dropout(0, { mode: 'eval' }),
      });
    }
    const graph = new Graph(nodes.reverse());
    expect(graph.nodes[0]!.name).to.equal('n0');
    expect(graph.output).to.equal('n19999');
    expect((graph.forward(randomTensor(new Rng(1), [2])) as Tensor).shape).to.deep.equal([2]);
  });
});
