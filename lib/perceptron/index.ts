// nnzero/perceptron — chapter 1: the perceptron, the step activation and the perceptron rule.
export {
  Perceptron,
  stepActivation,
  type Activation,
  type PerceptronTrainOptions,
} from './perceptron.js';
export { AND, OR, XOR, type TruthTable } from './gates.js';
