// Node-only loaders for the importers: read a deploy.prototxt + .caffemodel pair, or an .onnx
// file, from paths. The weights file is never read whole: the importer walks it through positional
// reads (withByteSource) and reads each needed weight once, straight into the array that becomes
// the layer's parameter, so memory grows by about the parameters kept, not by the file.
// The importers themselves are platform-neutral over strings and bytes.
import { readFileSync } from 'node:fs';
import { FileFormatError } from '../core/index.js';
import { withByteSource } from '../style/formats/files.js';
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
  return withByteSource(caffemodelPath, (source) =>
    importCaffe(text, source, { file: caffemodelPath, ...options }),
  );
}

/** Import an ONNX model from its path. */
export function loadOnnx(path: string, options: OnnxImportOptions = {}): ImportedNet {
  return withByteSource(path, (source) => importOnnx(source, { file: path, ...options }));
}
