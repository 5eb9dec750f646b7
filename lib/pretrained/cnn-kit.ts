// The default LayerKit: chapter 4's own Conv2d, MaxPool2d, AvgPool2d and GlobalAvgPool2d, so an
// imported network runs on the same fast kernels (im2col + GEMM) the CNN chapter teaches.
import { AvgPool2d, Conv2d, GlobalAvgPool2d, MaxPool2d } from '../cnn/index.js';
import type { LayerKit } from './kit.js';

/** Chapter 4's layers as a LayerKit (global max pooling is not there). */
export const cnnKit: LayerKit = {
  conv2d(spec) {
    return new Conv2d(spec.inChannels, spec.outChannels, spec.kernel, {
      name: spec.name,
      stride: spec.stride,
      pad: spec.pad,
      dilation: spec.dilation,
      groups: spec.group,
      bias: spec.bias,
      dtype: spec.dtype,
      ...(spec.weights === undefined ? {} : { weights: spec.weights }),
    });
  },
  pool2d(spec) {
    const options = {
      name: spec.name,
      stride: spec.stride,
      pad: spec.pad,
      ceilMode: spec.ceilMode,
      countPadding: spec.countPadding,
    };
    return spec.kind === 'max'
      ? new MaxPool2d(spec.kernel, options)
      : new AvgPool2d(spec.kernel, options);
  },
  globalPool2d({ name, kind }) {
    if (kind !== 'avg') throw new Error(`layer "${name}": global max pooling is not supported`);
    return new GlobalAvgPool2d({ name });
  },
};
