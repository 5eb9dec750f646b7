/*
 * Chapter 1 — the perceptron.
 *
 * A perceptron takes inputs x₁…xₙ, multiplies each by a weight wᵢ, adds a bias b and passes the
 * sum through the step function:
 *
 *     y = f(w·x + b),   f(z) = 1 if z > 0 else 0.
 *
 * It learns with the perceptron rule: after each example (x, t), for every weight
 *
 *     wᵢ ← wᵢ + η (t − y) xᵢ,   b ← b + η (t − y),
 *
 * so nothing changes when the output is right, and a wrong output pulls the weights toward (or
 * away from) that input. We teach it AND and OR, then watch it fail on XOR.
 *
 * Run: npm run chapter -- 1   (or npx tsx notebooks/01-perceptron.ts)
 */
import { join } from 'node:path';
import { scatterChartSvg, writeFigure } from '../lib/core/index.js';
import { AND, OR, XOR, Perceptron, type TruthTable } from '../lib/perceptron/index.js';
import { isMain, optionsFromArgv, printResult, type ChapterOptions } from './chapter.js';

/** Key results of the chapter. */
export interface Chapter1Result {
  chapter: 1;
  and: number;
  or: number;
  xor: number;
  xorConverged: boolean;
  figures: string[];
}

/** Run chapter 1: train perceptrons on AND, OR and XOR and draw their decision boundaries. */
export async function main(options: ChapterOptions = {}): Promise<Chapter1Result> {
  const { outDir = 'out', log = console.log } = options;

  /*
   * The data: the four rows of a truth table. Each input is a pair (x₁, x₂) of 0s and 1s.
   * The tutorial trains AND with weights and bias starting at 0, η = 0.1, for 10 epochs.
   */
  const train = (table: TruthTable, epochs: number): { p: Perceptron; errors: number[] } => {
    const p = new Perceptron(2);
    const errors = p.train(table.inputs, table.labels, { epochs, rate: 0.1 });
    return { p, errors };
  };

  const and = train(AND, 10);
  log(
    `AND: w = [${fmt(and.p.weights)}], b = ${and.p.bias.toFixed(2)}  (the tutorial gets [0.1, 0.2], -0.2)`,
  );
  for (const x of AND.inputs) log(`  ${x[0]} AND ${x[1]} = ${and.p.predict(x)}`);

  /* OR is the tutorial's exercise: the same perceptron, different labels. */
  const or = train(OR, 10);
  log(`OR:  w = [${fmt(or.p.weights)}], b = ${or.p.bias.toFixed(2)}`);
  for (const x of OR.inputs) log(`  ${x[0]} OR ${x[1]} = ${or.p.predict(x)}`);

  /*
   * XOR is 1 when exactly one input is 1. Plot the four points: (0,1) and (1,0) sit on one
   * diagonal, (0,0) and (1,1) on the other. No straight line puts the first pair on one side
   * and the second on the other — XOR is not linearly separable — and a perceptron's decision
   * boundary w·x + b = 0 is always a straight line. The perceptron rule keeps correcting one
   * mistake by making another; the number of errors per epoch never reaches 0 however long we
   * train. Chapter 3 fixes this by stacking units into a hidden layer.
   */
  const xorEpochs = options.quick ? 100 : 1000;
  const xor = train(XOR, xorEpochs);
  const xorConverged = xor.errors.includes(0);
  log(
    `XOR: after ${xorEpochs} epochs still ${xor.errors.at(-1)} errors per epoch ` +
      `(fewest ever: ${Math.min(...xor.errors)}); converged: ${xorConverged}`,
  );

  /* The figures: each perceptron's decision regions, with the four labelled points on top. */
  const figures: string[] = [];
  for (const [table, p] of [
    [AND, and.p],
    [OR, or.p],
    [XOR, xor.p],
  ] as const) {
    const svg = await scatterChartSvg({
      title: `${table.name}: perceptron decision regions (w = [${fmt(p.weights)}], b = ${p.bias.toFixed(2)})`,
      xLabel: 'x₁',
      yLabel: 'x₂',
      points: table.inputs.map((x, k) => ({ x: x[0], y: x[1], label: String(table.labels[k]) })),
      regions: {
        xDomain: [-0.5, 1.5],
        yDomain: [-0.5, 1.5],
        resolution: 40,
        classify: (x1, x2) => String(p.predict([x1, x2])),
      },
    });
    figures.push(
      writeFigure(join(outDir, `01-perceptron-${table.name.toLowerCase()}.svg`), svg, {
        png: true,
      }),
    );
  }
  log(`figures: ${figures.join(', ')}`);

  const result: Chapter1Result = {
    chapter: 1,
    and: and.p.accuracy(AND.inputs, AND.labels),
    or: or.p.accuracy(OR.inputs, OR.labels),
    xor: xor.p.accuracy(XOR.inputs, XOR.labels),
    xorConverged,
    figures,
  };
  printResult(result, log);
  return result;
}

function fmt(values: ArrayLike<number>): string {
  return Array.from(values, (v) => v.toFixed(2)).join(', ');
}

if (isMain(import.meta.url)) await main(optionsFromArgv());
