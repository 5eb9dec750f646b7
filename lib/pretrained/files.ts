// Node-only loaders for the importers: read a deploy.prototxt + .caffemodel pair, or an .onnx
// file, from paths. The importers themselves are platform-neutral over strings and bytes.
import { readFileSync } from 'node:fs';
import { FileFormatError } from '../core/index.js';
import { importCaffe, type CaffeImportOptions, type ImportedNet } from './caffe-import.js';
import { importOnnx, type OnnxImportOptions } from './onnx-import.js';

function read(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FileFormatError(path, code === 'ENOENT' ? 'no such file' : `cannot read (${code})`);
  }
}

/** Import a Caffe network from its deploy.prototxt and .caffemodel paths. */
export function loadCaffe(
  prototxtPath: string,
  caffemodelPath: string,
  options: CaffeImportOptions = {},
): ImportedNet {
  const text = read(prototxtPath).toString('utf8');
  return importCaffe(text, read(caffemodelPath), { file: caffemodelPath, ...options });
}

/** Import an ONNX model from its path. */
export function loadOnnx(path: string, options: OnnxImportOptions = {}): ImportedNet {
  return importOnnx(read(path), { file: path, ...options });
}
