// The chapter's regression data: monthly income against years of work experience. The
// tutorial's five people, and a seeded synthetic set drawn around a known line so a learner
// can see gradient descent recover the slope and intercept.
import type { Rng } from '../core/index.js';

/** A 1-D regression data set. */
export interface IncomeData {
  /** Years of experience, one per person. */
  readonly years: number[];
  /** Monthly income, one per person. */
  readonly income: number[];
}

/** The tutorial's five people (years of work, monthly income). */
export const tutorialIncome: IncomeData = {
  years: [5, 3, 8, 1.4, 10.1],
  income: [5500, 2300, 7600, 1800, 11400],
};

/** Options of the synthetic set. */
export interface SyntheticIncomeOptions {
  /** Number of people (default 200). */
  count?: number;
  /** Income gained per year of experience (default 1000). */
  slope?: number;
  /** Starting income (default 1500). */
  intercept?: number;
  /** Standard deviation of the noise added to each income (default 200). */
  noise?: number;
  /** Largest number of years (default 10). */
  maxYears?: number;
}

/** People with years uniform in [0, maxYears] and income = slope·years + intercept + noise. */
export function syntheticIncome(rng: Rng, options: SyntheticIncomeOptions = {}): IncomeData {
  const { count = 200, slope = 1000, intercept = 1500, noise = 200, maxYears = 10 } = options;
  const years: number[] = [];
  const income: number[] = [];
  for (let k = 0; k < count; k++) {
    const x = rng.uniform(0, maxYears);
    years.push(x);
    income.push(slope * x + intercept + rng.normal(0, noise));
  }
  return { years, income };
}
