#!/usr/bin/env node
// The `nnzero-style` command: neural style transfer from the command line. All the logic lives in
// lib/style/cli.ts (so tests can call it); this file only hands it the arguments and the exit code.
import { runCli } from '../lib/style/cli.js';

process.exitCode = runCli(process.argv.slice(2));
