// Toy 2-D data sets in the square [-1, 1]², every one drawn from a seeded Rng so a page shows
// the same picture on every load: a linearly separable cloud for the perceptron, and the three
// classics that need a hidden layer (circles, spirals, XOR), as in ConvNetJS's classify2d.
import { Rng } from '../../lib/core/index.js';
import type { Point2 } from './plane.js';

/** Names of the data sets the MLP page offers. */
export type DatasetName = 'circles' | 'spirals' | 'xor';

/** Points on both sides of a random line, keeping a margin from it, so a perceptron converges. */
export function separable(count: number, rng: Rng): Point2[] {
  const angle = rng.uniform(0, 2 * Math.PI);
  const [nx, ny] = [Math.cos(angle), Math.sin(angle)];
  const offset = rng.uniform(-0.3, 0.3);
  const points: Point2[] = [];
  while (points.length < count) {
    const x = rng.uniform(-0.9, 0.9);
    const y = rng.uniform(-0.9, 0.9);
    const side = nx * x + ny * y - offset;
    if (Math.abs(side) > 0.1) points.push({ x, y, label: side > 0 ? 1 : 0 });
  }
  return points;
}

/** XOR: four noisy clusters, class 1 where x and y have opposite signs. */
export function xor(count: number, rng: Rng): Point2[] {
  const points: Point2[] = [];
  for (let i = 0; i < count; i++) {
    const x = rng.uniform(-0.9, 0.9);
    const y = rng.uniform(-0.9, 0.9);
    if (Math.abs(x) < 0.08 || Math.abs(y) < 0.08) continue;
    points.push({ x, y, label: x * y < 0 ? 1 : 0 });
  }
  return points;
}

/** Two rings: class 0 inside radius 0.4, class 1 on a ring around it. */
export function circles(count: number, rng: Rng): Point2[] {
  const points: Point2[] = [];
  for (let i = 0; i < count; i++) {
    const label = i % 2;
    const r = label === 0 ? rng.uniform(0, 0.4) : rng.uniform(0.6, 0.9);
    const t = rng.uniform(0, 2 * Math.PI);
    points.push({ x: r * Math.cos(t), y: r * Math.sin(t), label });
  }
  return points;
}

/** Two interleaved spirals (the classic hard one), with a little noise. */
export function spirals(count: number, rng: Rng): Point2[] {
  const points: Point2[] = [];
  for (let i = 0; i < count; i++) {
    const label = i % 2;
    const s = rng.uniform(0, 1);
    const r = 0.05 + 0.85 * s;
    const t = 1.75 * 2 * Math.PI * s + label * Math.PI;
    points.push({
      x: r * Math.cos(t) + rng.normal(0, 0.02),
      y: r * Math.sin(t) + rng.normal(0, 0.02),
      label,
    });
  }
  return points;
}

/** The data set with this name. */
export function dataset(name: DatasetName, count: number, rng: Rng): Point2[] {
  return { circles, spirals, xor }[name](count, rng);
}
