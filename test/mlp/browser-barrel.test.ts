// lib/mlp/index.browser.ts (used by the web playground) must stay index.ts minus its Node-only
// edges: catches an export added to one barrel and forgotten in the other.
import { expect } from 'chai';
import * as nodeMlp from '../../lib/mlp/index.js';
import * as browserMlp from '../../lib/mlp/index.browser.js';

// Exports that read or write files (mnist.ts, params-file.ts import node:fs).
const NODE_ONLY = [
  'readIdx',
  'parseIdx',
  'mnistFolder',
  'loadMnist',
  'saveParams',
  'loadParams',
].sort();

describe('mlp browser barrel', () => {
  it('exports every platform-neutral name of lib/mlp/index.ts', () => {
    const missing = Object.keys(nodeMlp).filter((k) => !(k in browserMlp));
    expect(missing.sort()).to.deep.equal(
      NODE_ONLY,
      'a neutral export belongs in index.browser.ts too; a Node-only one in this NODE_ONLY list',
    );
  });

  it('exports nothing the Node barrel lacks', () => {
    expect(Object.keys(browserMlp).filter((k) => !(k in nodeMlp))).to.deep.equal([]);
  });
});
