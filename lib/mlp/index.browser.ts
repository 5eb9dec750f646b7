// nnzero/mlp in a browser page: index.ts without its Node-only edges (the MNIST/IDX file reader
// and the parameter files). The site's Vite config substitutes this file for index.ts.
export {
  Linear,
  initWeights,
  type LinearOptions,
  type LinearWeights,
  type InitScheme,
} from './linear.js';
export { Sigmoid, Tanh, ReLU, type ActivationOptions } from './activations.js';
export { Sequential, type NamedLayer } from './sequential.js';
export { meanSquaredError, softmaxCrossEntropy } from './losses.js';
export { SGD, Adam, type SGDOptions, type AdamOptions } from './optim.js';
export { Connection, NeuronNode, NodeNetwork } from './node-network.js';
export { encodeParams, decodeParams } from './params-bytes.js';
export {
  gatherBatch,
  checkLoss,
  trainEpoch,
  evaluate,
  type Optimizer,
  type EpochOptions,
} from './train.js';
