// Pretrained VGG-19 from the weights file a user already has (Node only: reads files). The file's
// format decides the preprocessing: Caffe's VGG_ILSVRC_19 wants BGR 0–255 minus the mean pixel,
// a PyTorch state dict wants RGB [0, 1] with ImageNet mean and std; both travel with the network.
import { FileFormatError } from '../core/index.js';
import { readCaffeModel, readSafetensors } from './formats/index.js';
import type { SequentialFeatureNet } from './feature-net.js';
import { CAFFE_VGG_PREPROCESSING, TORCH_VGG_PREPROCESSING } from './image.js';
import {
  vgg19,
  vgg19ConvNames,
  vgg19ConvsFromCaffe,
  vgg19ConvsFromStateDict,
  type Vgg19Options,
} from './vgg.js';

/** The weight file formats nnzero-style reads. */
export type WeightFormat = 'caffe' | 'safetensors';

/** The format of a weights file, from its extension (.caffemodel or .safetensors). */
export function weightFormatOf(path: string): WeightFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith('.caffemodel')) return 'caffe';
  if (lower.endsWith('.safetensors')) return 'safetensors';
  throw new FileFormatError(
    path,
    'unknown weights format: expected a .caffemodel (Caffe VGG_ILSVRC_19) or a .safetensors (PyTorch VGG-19 state dict) file',
  );
}

/**
 * Load VGG-19's conv layers from a Caffe .caffemodel or a .safetensors state dict, with the
 * preprocessing that format implies. Only conv layers (up to `upTo`) are decoded.
 */
export function loadVgg19(
  path: string,
  options: Omit<Vgg19Options, 'file'> = {},
): SequentialFeatureNet {
  const format = weightFormatOf(path);
  const convNames = new Set(vgg19ConvNames());
  if (format === 'caffe') {
    const net = readCaffeModel(path, { keep: (name) => convNames.has(name) });
    return vgg19(vgg19ConvsFromCaffe(net.layers, path), CAFFE_VGG_PREPROCESSING, {
      ...options,
      file: path,
    });
  }
  // The classifier's fully connected weights (≈ 480 MB) are never decoded.
  const isConv = (name: string): boolean =>
    /(^|\.)(features\.\d+|conv\d_\d)\.(weight|bias)$/.test(name);
  const file = readSafetensors(path, { keep: isConv });
  return vgg19(vgg19ConvsFromStateDict(file.tensors, path), TORCH_VGG_PREPROCESSING, {
    ...options,
    file: path,
  });
}
