// Pretrained VGG-19 from the weights file a user already has (Node only: reads files). The file's
// format decides the preprocessing: Caffe's VGG_ILSVRC_19 wants BGR 0–255 minus the mean pixel,
// a PyTorch state dict wants RGB [0, 1] with ImageNet mean and std; both travel with the network.
// The file is read by positional reads (formats/files.ts): only the conv weights the network
// uses are read, each into the array that becomes the layer's weight, never the 575 MB whole.
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

// The conv layers VGG-19 builds up to layer `upTo` (conv4_2, relu4_2, pool3, …), all without it.
function convsUpTo(upTo: string | undefined): Set<string> {
  const names = vgg19ConvNames();
  const layer = /^(?:conv|relu)(\d)_(\d)$/.exec(upTo ?? '');
  const pool = /^pool(\d)$/.exec(upTo ?? '');
  let last = names.length - 1;
  if (layer) last = names.indexOf(`conv${layer[1]}_${layer[2]}`);
  else if (pool) last = names.filter((n) => Number(n[4]) <= Number(pool[1])).length - 1; // conv<block>_<i>
  // An unknown name keeps everything, and vgg19 then names the layer it cannot find.
  return new Set(last < 0 ? names : names.slice(0, last + 1));
}

/**
 * Load VGG-19's conv layers from a Caffe .caffemodel or a .safetensors state dict, with the
 * preprocessing that format implies. Only conv weights are read (from a caffemodel, only those up
 * to `upTo`); the fully connected layers' ≈ 480 MB never are.
 */
export function loadVgg19(
  path: string,
  options: Omit<Vgg19Options, 'file'> = {},
): SequentialFeatureNet {
  const format = weightFormatOf(path);
  const convNames = convsUpTo(options.upTo);
  if (format === 'caffe') {
    const net = readCaffeModel(path, { keep: (name) => convNames.has(name) });
    return vgg19(vgg19ConvsFromCaffe(net.layers, path), CAFFE_VGG_PREPROCESSING, {
      ...options,
      file: path,
    });
  }
  // The classifier's fully connected weights (≈ 480 MB) are never read.
  const isConv = (name: string): boolean =>
    /(^|\.)(features\.\d+|conv\d_\d)\.(weight|bias)$/.test(name);
  const file = readSafetensors(path, { keep: isConv });
  return vgg19(vgg19ConvsFromStateDict(file.tensors, path), TORCH_VGG_PREPROCESSING, {
    ...options,
    file: path,
  });
}
