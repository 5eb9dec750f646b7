#!/usr/bin/env node
// The `nnzero-style` command: neural style transfer from the command line. All the logic lives in
// lib/style/cli.ts (so tests can call it); this file starts the GEMM thread pool (both cores;
// NNZERO_THREADS=1 keeps one), adds chapter 6's GoogLeNet (chosen by its weight files: a
// .caffemodel with --proto, or an .onnx), and hands the CLI the arguments and the exit code.
import { startGemmPool } from '../lib/core/gemm-pool.js';
import { googlenetNetwork } from '../lib/pretrained/googlenet-cli.js';
import { runCli } from '../lib/style/cli.js';

await startGemmPool();
process.exitCode = runCli(process.argv.slice(2), undefined, { networks: [googlenetNetwork] });
