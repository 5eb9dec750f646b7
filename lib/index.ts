// nnzero: neural networks from zero. The root entry re-exports every chapter.
export {};
