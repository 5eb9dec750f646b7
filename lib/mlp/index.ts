// nnzero/mlp (chapter 3): fully connected networks trained by backpropagation — layers,
// losses, optimizers, the node-by-node network of the tutorial, parameter files and MNIST.
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
export { readIdx, parseIdx, mnistFolder, loadMnist, type IdxData, type MnistSet } from './mnist.js';
export { Connection, NeuronNode, NodeNetwork } from './node-network.js';
export { encodeParams, decodeParams } from './params-bytes.js';
export { saveParams, loadParams } from './params-file.js';
export {
  gatherBatch,
  checkLoss,
  trainEpoch,
  evaluate,
  type Optimizer,
  type EpochOptions,
} from './train.js';
