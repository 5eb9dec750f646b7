// nnzero: neural networks from zero. The root entry re-exports the foundation; each chapter has
// its own subpath (nnzero/perceptron, nnzero/linear, nnzero/mlp, nnzero/cnn, nnzero/style).
export * as core from './core/index.js';
