// lib/pretrained/index.browser.ts must stay index.ts minus its Node-only edges: catches an export
// added to one barrel and forgotten in the other. No page imports this chapter yet, so
// `npm run web:build` cannot see a Node import creep in; the last tests walk the barrel's imports
// with the site plugin's own rules (web/browser-library.ts) instead.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nodePretrained from '../../lib/pretrained/index.js';
import * as browserPretrained from '../../lib/pretrained/index.browser.js';
import { browserBarrelFor, isNodeOnly } from '../../web/browser-library.js';

// Exports that read weight files from paths (files.ts, googlenet-cli.ts import node:fs).
const NODE_ONLY = [
  'loadCaffe',
  'loadOnnx',
  'loadCaffeForTaps',
  'loadGooglenet',
  'googlenetNetwork',
].sort();

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

// Value imports and re-exports (`import type` / `export type` are erased by the compiler).
const IMPORT = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?'([^']+)'/gm;

/**
 * Follow a module's value imports as the site's bundler would (chapter barrels swapped for their
 * browser barrels) and return the first Node-only import reached, as a chain of files, or null.
 */
function firstNodeImport(entry: string): string[] | null {
  const seen = new Set<string>();
  const stack: string[][] = [[entry]];
  while (stack.length > 0) {
    const chain = stack.pop()!;
    const file = chain[chain.length - 1]!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const [, source] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      if (isNodeOnly(source!)) return [...chain, source!];
      if (!source!.startsWith('.')) continue; // a browser-safe package
      const resolved = resolve(dirname(file), source!.replace(/\.js$/, '.ts'));
      if (!existsSync(resolved)) throw new Error(`${file}: cannot resolve '${source}'`);
      const browser = browserBarrelFor(resolved);
      stack.push([...chain, browser && browser !== file ? browser : resolved]);
    }
  }
  return null;
}

const show = (chain: string[] | null): string =>
  (chain ?? []).map((f) => (f.startsWith('/') ? relative(root, f) : f)).join(' → ');

describe('pretrained browser barrel', () => {
  it('exports every platform-neutral name of lib/pretrained/index.ts', () => {
    const missing = Object.keys(nodePretrained).filter((k) => !(k in browserPretrained));
    expect(missing.sort()).to.deep.equal(
      NODE_ONLY,
      'a neutral export belongs in index.browser.ts too; a Node-only one in this NODE_ONLY list',
    );
  });

  it('exports nothing the Node barrel lacks', () => {
    expect(Object.keys(browserPretrained).filter((k) => !(k in nodePretrained))).to.deep.equal([]);
  });

  it('reaches no Node-only module through its imports (the site plugin’s rules)', () => {
    const chain = firstNodeImport(join(root, 'lib/pretrained/index.browser.ts'));
    expect(chain, show(chain)).to.equal(null);
  });

  it('(negative control) the Node barrel does reach node:fs', () => {
    const chain = firstNodeImport(join(root, 'lib/pretrained/index.ts'));
    expect(show(chain)).to.match(/node:fs$/);
  });
});
