// Vite configuration of the playground: one HTML page per chapter under web/, the library
// imported from lib/ through the browser-library plugin, built to dist-web/ with relative URLs
// so the static site works from any folder (and from file-less hosting) without a network.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { browserLibrary } from './browser-library.js';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/** The pages, each a standalone HTML entry. */
export const PAGES = ['index', 'perceptron', 'mlp', 'cnn', 'style'];

export default defineConfig({
  root: here('.'),
  base: './',
  plugins: [browserLibrary()],
  build: {
    outDir: here('../dist-web'),
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: {
      input: Object.fromEntries(PAGES.map((p) => [p, here(`${p}.html`)])),
    },
  },
  // Workers are bundled separately: they need the same plugin (the style page's worker).
  worker: { format: 'es', plugins: () => [browserLibrary()] },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
});
