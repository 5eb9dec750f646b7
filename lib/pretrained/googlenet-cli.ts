// GoogLeNet for the `nnzero-style` command (Node only: reads files), as the original Caffe tool
// (fzliu/style-transfer) ran it: bvlc_googlenet.caffemodel with its deploy.prototxt, or a
// GoogLeNet .onnx, imported whole as a Graph and tapped at the tool's layers with the tool's
// weights and input. Chapter 5's CLI knows it only as a `CliNetwork`; bin/nnzero-style.ts hands
// it over, so lib/style never imports this chapter.
import { FileFormatError } from '../core/index.js';
import type { CliNetwork, LoadedNetwork, NetworkFiles } from '../style/cli.js';
import { readPrototxt, type CaffeLayer } from '../style/formats/index.js';
import type { ImportedNet } from './caffe-import.js';
import { loadCaffe, loadOnnx } from './files.js';
import {
  GOOGLENET_DEFAULTS,
  googlenetFeatureNet,
  hasGooglenetLayers,
  importUntil,
} from './googlenet.js';

const isOnnx = (path: string): boolean => path.toLowerCase().endsWith('.onnx');
const isCaffe = (path: string): boolean => path.toLowerCase().endsWith('.caffemodel');

// The blobs a tap may name: every layer's top, in file order, without the net's input.
function blobNames(layers: readonly CaffeLayer[], inputs: ReadonlySet<string>): string[] {
  const names = new Set<string>();
  for (const layer of layers) {
    for (const top of layer.tops) if (!inputs.has(top)) names.add(top);
  }
  return [...names];
}

/**
 * Import a Caffe network for style transfer: the prototxt is read first, so a tap no blob has is
 * refused (naming it and listing the blobs) before the weights are read, and only the layers the
 * taps need are imported.
 */
export function loadCaffeForTaps(
  proto: string,
  weights: string,
  taps: readonly string[],
): ImportedNet {
  const definition = readPrototxt(proto);
  const layers = definition.layers.filter((l) => l.phase !== 'TRAIN');
  const inputs = new Set([
    ...definition.inputs.map((i) => i.name),
    ...layers.filter((l) => l.type === 'Input').flatMap((l) => l.tops),
  ]);
  const blobs = blobNames(layers, inputs);
  for (const t of taps) {
    if (!blobs.includes(t)) {
      throw new Error(`unknown layer '${t}'; ${proto} has the blobs: ${blobs.join(', ')}`);
    }
  }
  const until = importUntil(layers, taps);
  return loadCaffe(proto, weights, until === undefined ? {} : { until });
}

/** Load GoogLeNet from the command's files (see `googlenetNetwork`). */
export function loadGooglenet(files: NetworkFiles, taps: readonly string[]): LoadedNetwork {
  const { weights, proto } = files;
  if (weights === undefined) throw new Error('GoogLeNet needs --weights');
  let imported: ImportedNet;
  let format: string;
  if (isOnnx(weights)) {
    if (proto !== undefined) {
      throw new FileFormatError(proto, 'an .onnx file holds its own graph: drop --proto');
    }
    imported = loadOnnx(weights);
    format = 'ONNX';
  } else {
    if (proto === undefined) {
      throw new FileFormatError(weights, 'a Caffe network needs its deploy.prototxt (--proto)');
    }
    // ONNX-zoo names do not occur in a Caffe file: taps are blob names here.
    imported = loadCaffeForTaps(proto, weights, taps);
    format = 'Caffe';
  }
  const net = googlenetFeatureNet(imported);
  for (const t of taps) net.nodeOf(t); // an unknown name throws, listing the ones there are
  const kind = hasGooglenetLayers(net) ? 'GoogLeNet' : 'imported network';
  return { net, label: `${kind} (${format}) from ${weights}` };
}

/**
 * The `nnzero-style` network for a .caffemodel given with --proto, or an .onnx file: GoogLeNet
 * with the original tool's layers, weights and preprocessing (another Caffe or ONNX network runs
 * too, with --content-layers and --style-layers naming its own tensors).
 */
export const googlenetNetwork: CliNetwork = {
  name: 'GoogLeNet',
  help:
    'GoogLeNet as bvlc_googlenet.caffemodel with --proto deploy.prototxt, or as an .onnx file ' +
    '(the layers, weights and BGR 0–255 mean-subtracted input of the original Caffe tool)',
  defaults: GOOGLENET_DEFAULTS,
  accepts: ({ weights, proto }) =>
    weights !== undefined && ((isCaffe(weights) && proto !== undefined) || isOnnx(weights)),
  load: loadGooglenet,
};
