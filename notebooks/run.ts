// Runs tutorial chapters by number: `npm run chapter -- 2`, `npm run chapter -- all --quick`.
import { Command } from 'commander';
import { startGemmPool } from '../lib/core/gemm-pool.js';
import type { ChapterOptions } from './chapter.js';

type ChapterMain = (options: ChapterOptions) => Promise<unknown>;

// One entry per chapter, in order; each module exports main(options).
const chapters: Record<string, () => Promise<{ main: ChapterMain }>> = {
  '1': () => import('./01-perceptron.js'),
  '2': () => import('./02-linear-unit.js'),
  '3': () => import('./03-mlp-backprop.js'),
  '4': () => import('./04-cnn-mnist.js'),
  '5': () => import('./05-style-transfer.js'),
  '6': () => import('./06-pretrained-networks.js'),
};

const program = new Command()
  .name('npm run chapter --')
  .description('Run nnzero tutorial chapters.')
  .argument('[chapters...]', `chapter numbers (${Object.keys(chapters).join(', ')}) or "all"`, [
    'all',
  ])
  .option('--quick', 'tiny sizes, for smoke tests and CI')
  .option('--out <dir>', 'folder for figures and outputs', 'out')
  .option('--seed <n>', 'seed for everything random', (v) => Number.parseInt(v, 10))
  .action(async (wanted: string[], opts: { quick?: boolean; out: string; seed?: number }) => {
    const list = wanted.includes('all') ? Object.keys(chapters) : wanted;
    for (const n of list) {
      const load = chapters[n];
      if (!load)
        throw new Error(`no chapter ${n}; chapters are ${Object.keys(chapters).join(', ')}`);
      const { main } = await load();
      const options: ChapterOptions = { outDir: opts.out };
      if (opts.quick) options.quick = true;
      if (opts.seed !== undefined) options.seed = opts.seed;
      await main(options);
    }
  });

// Large float32 matrix products use both cores (NNZERO_THREADS=1 keeps one); results are the same.
await startGemmPool();
await program.parseAsync();
