// Plumbing shared by the chapter scripts (not a lesson): the options every chapter's main()
// takes, running a chapter file directly, and the final one-line JSON result.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Options every chapter's main() accepts. */
export interface ChapterOptions {
  /** Tiny sizes for smoke tests and CI (seconds, not minutes). */
  quick?: boolean;
  /** Folder for figures and outputs (default `out/`). */
  outDir?: string;
  /** Seed for everything random in the chapter. */
  seed?: number;
  /** Where the chapter's narration goes (default console.log); tests pass a no-op. */
  log?: (line: string) => void;
}

/** Print the chapter's key results as one JSON line (scripts read the last line). */
export function printResult(result: object, log: (line: string) => void = console.log): void {
  log(JSON.stringify(result));
}

/** True when the module at `metaUrl` is the script node was started with. */
export function isMain(metaUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && resolve(entry) === fileURLToPath(metaUrl);
}

/** Parse `--quick`, `--out DIR` and `--seed N` from the command line of a chapter script. */
export function optionsFromArgv(argv: readonly string[] = process.argv.slice(2)): ChapterOptions {
  const options: ChapterOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') options.quick = true;
    else if (a === '--out') options.outDir = argv[++i] ?? 'out';
    else if (a === '--seed') options.seed = Number(argv[++i]);
    else throw new Error(`unknown option ${a} (use --quick, --out DIR, --seed N)`);
  }
  return options;
}
