// The browser barrel (lib/core/index.browser.ts, used by the web playground) must stay the Node
// barrel minus its Node-only edges, plus the browser counterparts: this catches a new core
// export that was added to one barrel and forgotten in the other.
import { expect } from 'chai';
import * as nodeCore from '../../lib/core/index.js';
import * as browserCore from '../../lib/core/index.browser.js';

// Exports that need Node (files, native modules, zlib streams, the terminal, worker threads).
const NODE_ONLY = [
  'isPng',
  'isJpeg',
  'decodePng',
  'decodeJpeg',
  'decodeImage',
  'encodePng',
  'readImage',
  'writePng',
  'writeFileAtomic',
  'startGemmPool',
  'stopGemmPool',
  'defaultThreads',
  'lineChartSpec',
  'scatterChartSpec',
  'renderSvg',
  'lineChartSvg',
  'scatterChartSvg',
  'writeFigure',
  'svgToPng',
  'Progress',
].sort();

describe('browser barrel', () => {
  it('exports every platform-neutral name of lib/core/index.ts', () => {
    const missing = Object.keys(nodeCore).filter((k) => !(k in browserCore));
    expect(missing.sort()).to.deep.equal(
      NODE_ONLY,
      'a neutral export belongs in index.browser.ts too; a Node-only one in this NODE_ONLY list',
    );
  });

  it('exports nothing the Node barrel lacks', () => {
    expect(Object.keys(browserCore).filter((k) => !(k in nodeCore))).to.deep.equal([]);
  });
});
