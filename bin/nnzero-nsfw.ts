#!/usr/bin/env node
// The `nnzero-nsfw` command: open_nsfw's score of an image. The logic lives in
// lib/pretrained/cli.ts (so tests can call it); this file only passes the arguments.
import { runNsfwCli } from '../lib/pretrained/cli.js';

process.exitCode = runNsfwCli(process.argv.slice(2));
