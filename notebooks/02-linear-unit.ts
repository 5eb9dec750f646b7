/*
 * Chapter 2 — the linear unit and gradient descent.
 *
 * Replace the perceptron's step function by the identity f(z) = z and it outputs a real number:
 * that is the linear unit, ŷ = w·x + b, and it is the only change (LinearUnit extends chapter 1's
 * Perceptron). Real outputs mean regression: predict a monthly income from years of experience.
 *
 * This is supervised learning — every example x comes with its label y. Learning means finding
 * the w and b that minimize the objective
 *
 *     E = ½ Σᵢ (yᵢ − ŷᵢ)²,
 *
 * and gradient descent does it by stepping against the gradient, x ← x − η ∇f(x):
 *
 *     ∂E/∂w = −Σᵢ (yᵢ − ŷᵢ) xᵢ,   ∂E/∂b = −Σᵢ (yᵢ − ŷᵢ).
 *
 * Batch gradient descent sums over all examples for each step; stochastic gradient descent (SGD)
 * steps after every single example — and its per-example step w ← w + η (y − ŷ) x is exactly
 * chapter 1's perceptron rule.
 *
 * Run: npm run chapter -- 2   (or npx tsx notebooks/02-linear-unit.ts)
 */
import { join } from 'node:path';
import {
  Rng,
  checkGradients,
  fromArray,
  lineChartSvg,
  scatterChartSvg,
  tensor,
  writeFigure,
} from '../lib/core/index.js';
import {
  LinearUnit,
  leastSquaresLine,
  syntheticIncome,
  tutorialIncome,
} from '../lib/linear/index.js';
import { isMain, optionsFromArgv, printResult, type ChapterOptions } from './chapter.js';

/** Key results of the chapter. */
export interface Chapter2Result {
  chapter: 2;
  tutorial: { slope: number; intercept: number; predictions: Record<string, number> };
  batch: { slope: number; intercept: number; finalObjective: number };
  sgd: { slope: number; intercept: number; finalObjective: number };
  trueLine: { slope: number; intercept: number };
  gradientCheck: number;
  figures: string[];
}

/** Run chapter 2: fit income against experience with batch and stochastic gradient descent. */
export async function main(options: ChapterOptions = {}): Promise<Chapter2Result> {
  const { outDir = 'out', log = console.log, seed = 1337, quick = false } = options;
  const rng = new Rng(seed);
  const inputsOf = (years: number[]): number[][] => years.map((x) => [x]);

  /*
   * First the tutorial's five people, with its settings: SGD, η = 0.01, 10 epochs. It then asks
   * what someone with 3.4, 15, 1.5 and 6.3 years of experience earns.
   */
  const tutorialUnit = new LinearUnit(1);
  tutorialUnit.trainStochastic(inputsOf(tutorialIncome.years), tutorialIncome.income, {
    epochs: 10,
    rate: 0.01,
  });
  const predictions: Record<string, number> = {};
  for (const years of [3.4, 15, 1.5, 6.3]) {
    predictions[String(years)] = Math.round(tutorialUnit.predict([years]));
    log(`${years} years of experience → ${predictions[String(years)]} a month`);
  }
  log(
    `tutorial fit: w = ${tutorialUnit.weights[0]!.toFixed(2)}, b = ${tutorialUnit.bias.toFixed(2)}`,
  );

  /*
   * Five points cannot tell us whether the method finds the right answer. So we draw 200 people
   * around a known line — income = 1000·years + 1500, plus Gaussian noise σ = 200 — and check
   * that gradient descent recovers slope ≈ 1000 and intercept ≈ 1500.
   */
  const trueLine = { slope: 1000, intercept: 1500 };
  const data = syntheticIncome(rng, { count: quick ? 50 : 200, ...trueLine });
  const inputs = inputsOf(data.years);

  /*
   * Before training, check the gradient formula against finite differences: the derivative of
   * E along each weight, estimated as (E(w + h) − E(w − h)) / 2h, must equal our ∂E/∂w.
   */
  const probe = new LinearUnit(1);
  probe.weights[0] = rng.normal(0, 100);
  probe.bias = rng.normal(0, 100);
  const { dw, db } = probe.gradient(inputs, data.income);
  const b = fromArray([probe.bias], [1]);
  const check = checkGradients(() => {
    probe.bias = b.get(0);
    return probe.objective(inputs, data.income);
  }, [
    { name: 'w', value: tensor(probe.weights, [1]), grad: tensor(dw, [1]) },
    { name: 'b', value: b, grad: fromArray([db], [1]) },
  ]);
  log(
    `gradient check: our ∂E/∂w and ∂E/∂b agree with finite differences to ${check.maxError.toExponential(1)}`,
  );

  /*
   * Batch gradient descent. The gradient is a sum over all N examples, so the step size must
   * shrink with N: here η = 0.05 / N. (Larger and E grows each epoch until it overflows —
   * training stops with a message.) The years are not centred, so the intercept is the slow
   * direction; a couple of thousand cheap epochs settle it.
   */
  const epochs = quick ? 400 : 2000;
  const batchUnit = new LinearUnit(1);
  const batchHistory = batchUnit.trainBatch(inputs, data.income, {
    epochs,
    rate: 0.05 / data.years.length,
  });

  /*
   * Stochastic gradient descent: the same total number of epochs, one step per example. Each
   * step follows one example's noise, so SGD ends near (not at) the minimum.
   */
  const sgdUnit = new LinearUnit(1);
  const sgdHistory = sgdUnit.trainStochastic(inputs, data.income, {
    epochs: epochs / 4,
    rate: 2e-3,
  });

  const exact = leastSquaresLine(data.years, data.income);
  const fit = (u: LinearUnit) => ({ slope: u.weights[0]!, intercept: u.bias });
  log(`true line:      income = ${trueLine.slope}·years + ${trueLine.intercept}`);
  log(`least squares:  income = ${exact.slope.toFixed(1)}·years + ${exact.intercept.toFixed(1)}`);
  log(
    `batch GD:       income = ${fit(batchUnit).slope.toFixed(1)}·years + ${fit(batchUnit).intercept.toFixed(1)}`,
  );
  log(
    `SGD:            income = ${fit(sgdUnit).slope.toFixed(1)}·years + ${fit(sgdUnit).intercept.toFixed(1)}`,
  );

  /* Figures: the objective per epoch for both flavours, and the data with the fitted lines. */
  const figures: string[] = [];
  const lossSvg = await lineChartSvg({
    title: 'objective E = ½Σ(y − ŷ)² per epoch',
    xLabel: 'epoch',
    yLabel: 'E',
    logY: true,
    series: [
      { name: 'batch GD', x: batchHistory.map((_, i) => i + 1), y: batchHistory },
      { name: 'SGD', x: sgdHistory.map((_, i) => i + 1), y: sgdHistory },
    ],
  });
  figures.push(writeFigure(join(outDir, '02-linear-unit-loss.svg'), lossSvg, { png: true }));
  const xs = [0, 10];
  const fitSvg = await scatterChartSvg({
    title: 'monthly income against years of experience',
    xLabel: 'years of experience',
    yLabel: 'monthly income',
    points: data.years.map((x, k) => ({ x, y: data.income[k]!, label: 'person' })),
    lines: [
      { name: 'batch GD fit', x: xs, y: xs.map((x) => batchUnit.predict([x])) },
      { name: 'SGD fit', x: xs, y: xs.map((x) => sgdUnit.predict([x])) },
    ],
  });
  figures.push(writeFigure(join(outDir, '02-linear-unit-fit.svg'), fitSvg, { png: true }));
  log(`figures: ${figures.join(', ')}`);

  const result: Chapter2Result = {
    chapter: 2,
    tutorial: { ...fit(tutorialUnit), predictions },
    batch: { ...fit(batchUnit), finalObjective: batchHistory.at(-1)! },
    sgd: { ...fit(sgdUnit), finalObjective: sgdHistory.at(-1)! },
    trueLine,
    gradientCheck: check.maxError,
    figures,
  };
  printResult(result, log);
  return result;
}

if (isMain(import.meta.url)) await main(optionsFromArgv());
