// lib/style/index.browser.ts (used by the web playground's style worker) must stay index.ts minus
// its Node-only edges: catches an export added to one barrel and forgotten in the other.
import { expect } from 'chai';
import * as nodeStyle from '../../lib/style/index.js';
import * as browserStyle from '../../lib/style/index.browser.js';

// Exports that read weight files (weights.ts) or make up the command line (cli.ts).
const NODE_ONLY = [
  'weightFormatOf',
  'loadVgg19',
  'MAX_SIZE',
  'bundledImage',
  'parseLayers',
  'parseArgs',
  'helpText',
  'runCli',
].sort();

describe('style browser barrel', () => {
  it('exports every platform-neutral name of lib/style/index.ts', () => {
    const missing = Object.keys(nodeStyle).filter((k) => !(k in browserStyle));
    expect(missing.sort()).to.deep.equal(
      NODE_ONLY,
      'a neutral export belongs in index.browser.ts too; a Node-only one in this NODE_ONLY list',
    );
  });

  it('exports nothing the Node barrel lacks', () => {
    expect(Object.keys(browserStyle).filter((k) => !(k in nodeStyle))).to.deep.equal([]);
  });
});
