// L-BFGS against Adam on the default style-transfer problem (chelsea × Starry Night, 256 px, the
// random network's recipe), for the same number of loss-and-gradient evaluations. Prints the loss
// after every 10 evaluations for both and one JSON line with the end points.
// Run: npx tsx bench/style-optimizers.ts [evaluations=160] [size=256]
import { readImage } from '../lib/core/index.js';
import {
  Adam,
  LBFGS,
  StyleTransferLoss,
  bundledImage,
  randomVgg,
  resizeLongestSide,
} from '../lib/style/index.js';

const evaluations = Number(process.argv[2] ?? 160);
const size = Number(process.argv[3] ?? 256);
const content = resizeLongestSide(readImage(bundledImage('chelsea.png'), { channels: 3 }), size);
const style = resizeLongestSide(readImage(bundledImage('starry_night.png'), { channels: 3 }), size);
const loss = new StyleTransferLoss(randomVgg({ seed: 0 }), content, [{ image: style, weight: 1 }], {
  contentLayers: [{ layer: 'relu3', weight: 1 }],
  styleLayers: [1, 2, 3, 4, 5].map((k) => ({ layer: `relu${k}`, weight: 0.2 })),
  contentWeight: 1,
  styleWeight: 30,
  tvWeight: 10,
  statistic: 'centred',
  normalize: 'target',
});
const x0 = Float64Array.from(content.data);

// Count evaluations inside the objective, so both optimizers are compared per evaluation.
function counted(name: string): {
  f: (x: Float64Array, g: Float64Array) => number;
  trace: number[];
} {
  const objective = loss.objective();
  const trace: number[] = [];
  const start = performance.now();
  return {
    trace,
    f: (x, g) => {
      const v = objective(x, g);
      trace.push(v);
      if (trace.length % 10 === 0) {
        const s = ((performance.now() - start) / 1000).toFixed(0);
        console.error(`${name} evaluation ${trace.length}: loss ${v.toPrecision(5)} (${s} s)`);
      }
      return v;
    },
  };
}

const l = counted('lbfgs');
const lr = new LBFGS({
  lower: 0,
  upper: 1,
  historySize: 50,
  maxIterations: evaluations,
  maxEvaluations: evaluations,
}).minimize(l.f, x0);
const a = counted('adam');
const ar = new Adam({
  lower: 0,
  upper: 1,
  learningRate: 0.02,
  maxIterations: evaluations - 1,
}).minimize(a.f, x0);
console.log(
  JSON.stringify({
    size,
    lbfgs: {
      evaluations: lr.evaluations,
      iterations: lr.iterations,
      initialLoss: lr.initialLoss,
      finalLoss: lr.loss,
    },
    adam: {
      evaluations: ar.evaluations,
      iterations: ar.iterations,
      initialLoss: ar.initialLoss,
      finalLoss: ar.loss,
    },
  }),
);
