#!/usr/bin/env node
// The `nnzero-dream` command: DeepDream on a Caffe network. The logic lives in
// lib/pretrained/cli.ts (so tests can call it); this file only passes the arguments.
import { runDreamCli } from '../lib/pretrained/cli.js';

process.exitCode = runDreamCli(process.argv.slice(2));
