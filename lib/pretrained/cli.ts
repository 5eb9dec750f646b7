// The logic of the `nnzero-nsfw` and `nnzero-dream` commands (Node only): parse the options, load
// the network, run, and print one JSON line. bin/ only calls runNsfwCli / runDreamCli, so tests
// can run the commands on tiny generated model files.
import { Command, InvalidArgumentError } from 'commander';
import { Rng, readImage, writePng, type Tensor } from '../core/index.js';
import { resizeLongestSide } from '../style/image.js';
import { caffeClip, caffeDeprocess, caffePreprocess, dream } from './dream.js';
import { loadCaffe } from './files.js';
import { nsfwScore } from './nsfw.js';

/** Where a command writes: stdout for the result line, stderr for errors. */
export interface CliIO {
  out: (line: string) => void;
  err: (line: string) => void;
}

const defaultIO: CliIO = {
  out: (line) => console.log(line),
  err: (line) => process.stderr.write(line + '\n'),
};

function number(what: string, { integer = false, min = -Infinity } = {}) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) {
      throw new InvalidArgumentError(
        `${what} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}`,
      );
    }
    return n;
  };
}

function numberList(value: string): number[] {
  const list = value.split(',').map(Number);
  if (list.length !== 3 || !list.every(Number.isFinite)) {
    throw new InvalidArgumentError('the mean must be three numbers, B,G,R');
  }
  return list;
}

// Run one command with commander, turning every failure into a message and exit code 1.
function runCommand(
  name: string,
  program: Command,
  argv: readonly string[],
  io: CliIO,
  action: (image: string, options: Record<string, unknown>) => unknown,
): number {
  let code = 0;
  program
    .name(name)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .argument('<image>', 'input image (PNG or JPEG)')
    .action((image: string, options: Record<string, unknown>) => {
      io.out(JSON.stringify(action(image, options)));
    });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
    if (err.code === undefined || !err.code.startsWith('commander.')) {
      io.err(`${name}: ${err.message ?? String(e)}`);
    }
    code = 1;
  }
  return code;
}

/**
 * `nnzero-nsfw IMAGE --model resnet_50_1by2_nsfw.caffemodel --proto deploy.prototxt`: prints
 * {"image", "score"} with open_nsfw's score in [0, 1]. Returns the exit code.
 */
export function runNsfwCli(argv: readonly string[], io: CliIO = defaultIO): number {
  const program = new Command()
    .description("Score an image with Yahoo's open_nsfw (0 = safe, 1 = not safe for work).")
    .requiredOption('--model <caffemodel>', 'weights, e.g. resnet_50_1by2_nsfw.caffemodel')
    .requiredOption('--proto <prototxt>', 'the deploy.prototxt of the weights');
  return runCommand('nnzero-nsfw', program, argv, io, (image, o) => {
    const { graph } = loadCaffe(o['proto'] as string, o['model'] as string);
    return { image, score: nsfwScore(graph, readImage(image, { channels: 3 })) };
  });
}

/**
 * `nnzero-dream IMAGE --model bvlc_googlenet.caffemodel --proto deploy.prototxt -o out.png`:
 * DeepDream with the defaults of Google's notebook. Returns the exit code.
 */
export function runDreamCli(argv: readonly string[], io: CliIO = defaultIO): number {
  const program = new Command()
    .description(
      "DeepDream: amplify what a layer of a Caffe network sees (Google's notebook defaults).",
    )
    .requiredOption('--model <caffemodel>', 'weights, e.g. bvlc_googlenet.caffemodel')
    .requiredOption('--proto <prototxt>', 'the deploy.prototxt of the weights')
    .option('-o, --output <png>', 'where to write the result', 'dream.png')
    .option('--layer <name>', 'the blob whose activations grow', 'inception_4c/output')
    .option('--octaves <n>', 'number of scales', number('octaves', { integer: true, min: 1 }), 4)
    .option('--octave-scale <r>', 'ratio between scales', number('octave scale', { min: 1 }), 1.4)
    .option(
      '--iterations <n>',
      'steps per octave',
      number('iterations', { integer: true, min: 0 }),
      10,
    )
    .option(
      '--step-size <s>',
      'step relative to the mean |gradient|',
      number('step size', { min: 0 }),
      1.5,
    )
    .option(
      '--jitter <px>',
      'largest random shift',
      number('jitter', { integer: true, min: 0 }),
      32,
    )
    .option(
      '--size <px>',
      'resize the longest side first (0 keeps it)',
      number('size', { integer: true, min: 0 }),
      0,
    )
    .option('--mean <b,g,r>', 'the network input mean, BGR', numberList, [104, 116, 122])
    .option('--seed <n>', 'seed of the jitter', number('seed', { integer: true }), 0);
  return runCommand('nnzero-dream', program, argv, io, (image, o) => {
    const blob = o['layer'] as string;
    const { graph, tensors } = loadCaffe(o['proto'] as string, o['model'] as string, {
      until: blob,
    });
    const layer = tensors.get(blob);
    if (layer === undefined) {
      throw new Error(
        `the network has no blob "${blob}"; it has: ${[...tensors.keys()].join(', ')}`,
      );
    }
    const mean = o['mean'] as number[];
    let rgb: Tensor = readImage(image, { channels: 3 });
    const size = o['size'] as number;
    if (size > 0) rgb = resizeLongestSide(rgb, size);
    const start = performance.now();
    const out = dream(graph, caffePreprocess(rgb, mean), {
      layer,
      octaves: o['octaves'] as number,
      octaveScale: o['octaveScale'] as number,
      iterations: o['iterations'] as number,
      stepSize: o['stepSize'] as number,
      jitter: o['jitter'] as number,
      clip: caffeClip(mean),
      rng: new Rng(o['seed'] as number),
    });
    const output = o['output'] as string;
    writePng(output, caffeDeprocess(out, mean));
    return { output, layer: blob, seconds: Math.round(performance.now() - start) / 1000 };
  });
}
