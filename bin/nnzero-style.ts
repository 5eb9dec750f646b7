#!/usr/bin/env node
// The `nnzero-style` command: neural style transfer from the command line. All the logic lives in
// lib/style/cli.ts (so tests can call it); this file starts the GEMM thread pool (both cores;
// NNZERO_THREADS=1 keeps one) and hands the CLI the arguments and the exit code.
import { startGemmPool } from '../lib/core/gemm-pool.js';
import { runCli } from '../lib/style/cli.js';

await startGemmPool();
process.exitCode = runCli(process.argv.slice(2));
