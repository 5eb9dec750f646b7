// Save and load a network's parameters by name in a file (Node only): the bytes are made and
// read by params-bytes.ts, which also describes the format. Layers never serialize themselves
// (STYLE.md C2.9): any network is just its named params().
import { readFileSync } from 'node:fs';
import { FileFormatError, writeFileAtomic, type Param } from '../core/index.js';
import { decodeParams, encodeParams } from './params-bytes.js';

/** Write every parameter's value (name, shape, dtype, data) to `path`, atomically. */
export function saveParams(path: string, params: readonly Param[]): void {
  writeFileAtomic(path, encodeParams(params));
}

/**
 * Read parameters saved by saveParams into `params`, matched by name. Throws a FileFormatError
 * listing every missing, unexpected or mis-shaped parameter; nothing is changed unless all match.
 * Values are converted when the file's dtype differs from the parameter's.
 */
export function loadParams(path: string, params: readonly Param[]): void {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FileFormatError(path, code === 'ENOENT' ? 'no such file' : `cannot read (${code})`);
  }
  decodeParams(raw, params, path);
}
