// nnzero/linear — chapter 2: the linear unit (the perceptron with f(z) = z), the objective
// E = ½Σ(y − ŷ)², and batch and stochastic gradient descent.
export {
  LinearUnit,
  identity,
  leastSquaresLine,
  type LinearGradient,
  type DescentOptions,
} from './linear-unit.js';
export {
  tutorialIncome,
  syntheticIncome,
  type IncomeData,
  type SyntheticIncomeOptions,
} from './income.js';
