// nnzero: neural networks from zero. The root entry gathers every chapter as a namespace
// (`import { mlp } from 'nnzero'`); each also has its own subpath (nnzero/perceptron, nnzero/linear,
// nnzero/mlp, nnzero/cnn, nnzero/style, nnzero/pretrained), which is what the chapters teach.
export * as core from './core/index.js';
export * as perceptron from './perceptron/index.js';
export * as linear from './linear/index.js';
export * as mlp from './mlp/index.js';
export * as cnn from './cnn/index.js';
export * as style from './style/index.js';
export * as pretrained from './pretrained/index.js';
