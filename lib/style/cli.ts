// The logic of the `nnzero-style` command (Node only): options users of neural-style expect,
// checks that protect the inputs, an estimate before a long run, a progress bar, intermediate
// saves, and one JSON line at the end. bin/nnzero-style.ts only calls `runCli`, handing it the
// networks of later chapters (`CliNetwork`: an imported GoogLeNet), which this chapter only knows
// through its FeatureNet interface.
import { existsSync, realpathSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { Progress, Rng, readImage, writePng, type Tensor32 } from '../core/index.js';
import { SequentialFeatureNet, randomVgg, type Pooling } from './feature-net.js';
import {
  blendedStyleImage,
  clip01,
  initialImage,
  originalColors,
  resizeImage,
  resizeLongestSide,
  type InitKind,
} from './image.js';
import type { LossNormalization, StyleStatistic } from './losses.js';
import {
  StyleTransferLoss,
  optimizeImage,
  type FeatureNet,
  type LayerWeight,
  type StyleLossOptions,
  type TransferResult,
} from './transfer.js';
import { loadVgg19 } from './weights.js';

/** Path of a bundled sample image (data/images at the package root). */
export function bundledImage(name: string): string {
  // From lib/style (run by tsx) the root is two levels up; from dist/lib/style (built), three.
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, '..', '..', 'data', 'images', name),
    join(here, '..', '..', '..', 'data', 'images', name),
  ];
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

/** Where the CLI writes text: stdout for the result line, stderr for everything else. */
export interface CliIO {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Show a progress bar (default: when stderr is a terminal). */
  progress?: 'auto' | 'silent';
}

/** The weight files named on the command line. */
export interface NetworkFiles {
  /** --weights (undefined: none given). */
  readonly weights: string | undefined;
  /** --proto, the deploy.prototxt of a Caffe weights file (undefined: none given). */
  readonly proto: string | undefined;
}

/** The loss settings a network's own recipe uses; command-line flags override each of them. */
export interface NetworkDefaults {
  /** In the --content-layers syntax, name[:weight],… */
  readonly contentLayers: string;
  /** In the --style-layers syntax (weights default to equal shares). */
  readonly styleLayers: string;
  readonly styleWeight: number;
  readonly tvWeight: number;
  readonly statistic: StyleStatistic;
  readonly normalize: LossNormalization;
}

/** A loaded network and how the estimate line names it. */
export interface LoadedNetwork {
  readonly net: FeatureNet;
  /** E.g. `GoogLeNet (Caffe) from bvlc_googlenet.caffemodel`. */
  readonly label: string;
}

/**
 * A network the command can use besides its own random and VGG-19 nets, chosen by the weight
 * files (e.g. chapter 6's imported GoogLeNet); passed to `runCli` by bin/nnzero-style.ts.
 */
export interface CliNetwork {
  /** Short name for --help and messages, e.g. `GoogLeNet`. */
  readonly name: string;
  /** One line for --help: which files select this network. */
  readonly help: string;
  /** The loss settings of this network's recipe. */
  readonly defaults: NetworkDefaults;
  /** True when this network reads these files. */
  accepts(files: NetworkFiles): boolean;
  /** Load the network; `taps` are the layers the run reads (unknown ones: an error listing the rest). */
  load(files: NetworkFiles, taps: readonly string[]): LoadedNetwork;
}

/** Options of `runCli` beyond the arguments. */
export interface RunCliOptions {
  /** Networks chosen by their weight files, tried in order before VGG-19 (default none). */
  networks?: readonly CliNetwork[];
}

/** Everything the CLI parsed, with defaults filled in for the chosen weights. */
export interface CliOptions {
  content: string;
  style: string[];
  styleBlendWeights: number[] | undefined;
  output: string;
  size: number;
  styleScale: number;
  contentWeight: number;
  styleWeight: number;
  tvWeight: number;
  contentLayers: LayerWeight[];
  styleLayers: LayerWeight[];
  init: string;
  optimizer: 'lbfgs' | 'adam';
  iterations: number;
  learningRate: number;
  history: number;
  saveEvery: number;
  seed: number;
  originalColors: boolean;
  /** Pooling of the networks built here (undefined: an imported network keeps its own). */
  pooling: Pooling | undefined;
  statistic: StyleStatistic;
  normalize: LossNormalization;
  weights: string | undefined;
  proto: string | undefined;
  /** Which network runs: `random`, `VGG-19`, or a `CliNetwork`'s name. */
  network: string;
  force: boolean;
  octaves: number;
}

// Defaults that depend on the weights: the experiment's recipe for the random net (centred
// statistics normalized per layer, max pooling), the paper's for pretrained VGG-19.
const RANDOM_DEFAULTS: NetworkDefaults & { pooling: Pooling } = {
  contentLayers: 'relu3',
  styleLayers: 'relu1,relu2,relu3,relu4,relu5',
  styleWeight: 30,
  tvWeight: 10,
  pooling: 'max',
  statistic: 'centred',
  normalize: 'target',
};
const VGG_DEFAULTS: NetworkDefaults & { pooling: Pooling } = {
  contentLayers: 'relu4_2',
  styleLayers: 'relu1_1,relu2_1,relu3_1,relu4_1,relu5_1',
  styleWeight: 1e3,
  tvWeight: 0,
  pooling: 'avg',
  statistic: 'gram',
  normalize: 'paper',
};

/** Longest side above which a run needs --force (cost grows with the square of the size). */
export const MAX_SIZE = 1024;

function number(what: string, check: (n: number) => boolean = Number.isFinite) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !check(n))
      throw new InvalidArgumentError(`${what} must be a number, got '${v}'`);
    return n;
  };
}
const integer = (what: string) => number(what, (n) => Number.isInteger(n) && n >= 0);

/** Parse `relu1:0.5,relu2` into layer weights (missing weights: 1 for content, equal for style). */
export function parseLayers(spec: string, equal: boolean): LayerWeight[] {
  const parts = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return parts.map((p) => {
    const [layer, w] = p.split(':');
    const weight = w === undefined ? (equal ? 1 / parts.length : 1) : Number(w);
    if (!layer || !Number.isFinite(weight))
      throw new InvalidArgumentError(`bad layer spec '${p}' (use name or name:weight)`);
    return { layer, weight };
  });
}

// "30 random, 1e3 VGG-19, 1e4 GoogLeNet": one default per network, for the help text.
function defaultsText(
  networks: readonly CliNetwork[],
  show: (d: NetworkDefaults) => string,
  separator = ', ',
): string {
  const all: [string, NetworkDefaults][] = [
    ['random', RANDOM_DEFAULTS],
    ['VGG-19', VGG_DEFAULTS],
    ...networks.map((n): [string, NetworkDefaults] => [n.name, n.defaults]),
  ];
  return `default ${all.map(([name, d]) => `${show(d)} ${name}`).join(separator)}`;
}
const numberText = (n: number): string =>
  Math.abs(n) >= 1000 ? n.toExponential().replace('e+', 'e') : String(n);

function program(networks: readonly CliNetwork[] = []): Command {
  const by = (show: (d: NetworkDefaults) => string, separator?: string): string =>
    defaultsText(networks, show, separator);
  return new Command('nnzero-style')
    .description(
      'Neural style transfer (Gatys, Ecker & Bethge 2016) on nnzero’s own kernels. Without --weights it uses a ' +
        'seeded random VGG-like network (nothing to download); with --weights, the pretrained network that file ' +
        'holds. The content and style images can also be given as arguments: CONTENT STYLE….',
    )
    .argument('[content]', 'content image (instead of --content)')
    .argument('[style...]', 'style image(s) (instead of --style)')
    .option('-c, --content <path>', 'content image (PNG or JPEG)', bundledImage('chelsea.png'))
    .option('-s, --style <paths...>', 'style image(s)', [bundledImage('starry_night.png')])
    .option('--style-blend-weights <weights...>', 'weights of several style images (default equal)')
    .option('-o, --output <path>', 'output PNG', 'out/stylized.png')
    .option('--size <px>', 'longest side of the output', integer('size'), 256)
    .option(
      '--style-scale <s>',
      'style image size relative to --size',
      number('style scale', (n) => n > 0),
      1,
    )
    .option('--content-weight <w>', 'α, weight of the content loss', number('content weight'), 1)
    .option(
      '--style-weight <w>',
      `β, weight of the style loss (${by((d) => numberText(d.styleWeight))})`,
      number('style weight'),
    )
    .option(
      '--tv-weight <w>',
      `weight of total variation (${by((d) => numberText(d.tvWeight))})`,
      number('tv weight'),
    )
    .option(
      '--content-layers <list>',
      `content layers, name[:weight],… (${by((d) => d.contentLayers, ' | ')})`,
    )
    .option(
      '--style-layers <list>',
      `style layers, name[:weight],… (${by((d) => d.styleLayers, ' | ')})`,
    )
    .option(
      '--init <kind>',
      'content | noise | mixed (0.95 photo + 0.05 painting) | path of an image',
      'content',
    )
    .addOption(
      new Option('--optimizer <name>', 'optimizer on the image')
        .choices(['lbfgs', 'adam'])
        .default('lbfgs'),
    )
    .option('--iterations <n>', 'iterations', integer('iterations'), 150)
    .option(
      '--learning-rate <lr>',
      'Adam step size in pixel units',
      number('learning rate', (n) => n > 0),
      0.02,
    )
    .option('--history <m>', 'L-BFGS history size', integer('history'), 50)
    .option(
      '--save-every <n>',
      'also save the image every n iterations (0: never)',
      integer('save every'),
      0,
    )
    .option('--seed <n>', 'seed of the random network and the noise', integer('seed'), 0)
    .option(
      '--original-colors',
      'keep the content image’s colours (transfer luminance only)',
      false,
    )
    .addOption(
      new Option(
        '--pooling <kind>',
        'pooling between blocks of the random and VGG-19 nets (default max random, avg VGG-19)',
      ).choices(['max', 'avg']),
    )
    .addOption(
      new Option('--statistic <kind>', `style statistic (${by((d) => d.statistic)})`).choices([
        'gram',
        'centred',
      ]),
    )
    .addOption(
      new Option('--normalize <kind>', `loss scaling (${by((d) => d.normalize)})`).choices([
        'paper',
        'target',
      ]),
    )
    .option(
      '--weights <path>',
      'pretrained weights, which choose the network: VGG-19 as .caffemodel (Caffe) or .safetensors (PyTorch state dict)' +
        networks.map((n) => `; ${n.help}`).join(''),
    )
    .option(
      '--proto <path>',
      'the deploy.prototxt of a Caffe --weights file, to import the whole network as a graph',
    )
    .option('--force', `allow a size above ${MAX_SIZE} px`, false)
    .option(
      '--octaves <n>',
      'coarse-to-fine: run first at size/2^(n−1), …, size/2, then size (larger strokes)',
      number('octaves', (n) => Number.isInteger(n) && n >= 1 && n <= 4),
      1,
    )
    .exitOverride();
}

// The network the files select: none given → random; a CliNetwork that accepts them; else VGG-19.
function chooseNetwork(
  files: NetworkFiles,
  networks: readonly CliNetwork[],
): { name: string; defaults: NetworkDefaults; pooling?: Pooling; network?: CliNetwork } {
  if (files.weights === undefined) {
    if (files.proto !== undefined) {
      throw new InvalidArgumentError(
        `--proto ${files.proto} needs --weights (the weights it describes)`,
      );
    }
    return { name: 'random', defaults: RANDOM_DEFAULTS, pooling: RANDOM_DEFAULTS.pooling };
  }
  const network = networks.find((n) => n.accepts(files));
  if (network !== undefined) return { name: network.name, defaults: network.defaults, network };
  if (files.proto !== undefined) {
    const known = networks.map((n) => `${n.name}: ${n.help}`).join('; ');
    throw new InvalidArgumentError(
      `no network here reads --weights ${files.weights} with --proto ${files.proto}` +
        (known === '' ? ' (VGG-19 needs no prototxt)' : ` (${known})`),
    );
  }
  return { name: 'VGG-19', defaults: VGG_DEFAULTS, pooling: VGG_DEFAULTS.pooling };
}

function parse(
  argv: readonly string[],
  networks: readonly CliNetwork[],
): { options: CliOptions; network: CliNetwork | undefined } {
  const cmd = program(networks);
  cmd.configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  cmd.parse([...argv], { from: 'user' });
  const o = cmd.opts();
  // Images given as arguments stand for --content and --style; both at once is ambiguous.
  const [content, styles] = cmd.processedArgs as [string | undefined, string[]];
  for (const [what, value] of [
    ['content', content],
    ['style', styles.length > 0 ? styles : undefined],
  ] as const) {
    if (value === undefined) continue;
    if (cmd.getOptionValueSource(what) === 'cli') {
      throw new InvalidArgumentError(`${what} image given twice: as an argument and as --${what}`);
    }
    o[what] = value;
  }
  const files: NetworkFiles = {
    weights: o['weights'] as string | undefined,
    proto: o['proto'] as string | undefined,
  };
  const chosen = chooseNetwork(files, networks);
  const d = chosen.defaults;
  const pooling = o['pooling'] as Pooling | undefined;
  if (pooling !== undefined && chosen.pooling === undefined) {
    throw new InvalidArgumentError(
      `--pooling applies to the random and VGG-19 nets; ${chosen.name} keeps the pooling of its file`,
    );
  }
  const blend = o['styleBlendWeights'] as string[] | undefined;
  const options: CliOptions = {
    content: o['content'] as string,
    style: o['style'] as string[],
    styleBlendWeights: blend?.map(number('style blend weight', (n) => n >= 0)),
    output: o['output'] as string,
    size: o['size'] as number,
    styleScale: o['styleScale'] as number,
    contentWeight: o['contentWeight'] as number,
    styleWeight: (o['styleWeight'] as number | undefined) ?? d.styleWeight,
    tvWeight: (o['tvWeight'] as number | undefined) ?? d.tvWeight,
    contentLayers: parseLayers(
      (o['contentLayers'] as string | undefined) ?? d.contentLayers,
      false,
    ),
    styleLayers: parseLayers((o['styleLayers'] as string | undefined) ?? d.styleLayers, true),
    init: o['init'] as string,
    optimizer: o['optimizer'] as 'lbfgs' | 'adam',
    iterations: o['iterations'] as number,
    learningRate: o['learningRate'] as number,
    history: o['history'] as number,
    saveEvery: o['saveEvery'] as number,
    seed: o['seed'] as number,
    originalColors: o['originalColors'] as boolean,
    pooling: pooling ?? chosen.pooling,
    statistic: (o['statistic'] as StyleStatistic | undefined) ?? d.statistic,
    normalize: (o['normalize'] as LossNormalization | undefined) ?? d.normalize,
    weights: files.weights,
    proto: files.proto,
    network: chosen.name,
    force: o['force'] as boolean,
    octaves: o['octaves'] as number,
  };
  return { options, network: chosen.network };
}

/**
 * Parse command-line arguments (without `node script`) into options with defaults filled in for
 * the network the weight files select (`networks`: as for `runCli`).
 */
export function parseArgs(
  argv: readonly string[],
  networks: readonly CliNetwork[] = [],
): CliOptions {
  return parse(argv, networks).options;
}

/** The help text of the command (with the defaults of `networks` too). */
export function helpText(networks: readonly CliNetwork[] = []): string {
  return program(networks).helpInformation();
}

function samePath(a: string, b: string): boolean {
  const real = (p: string): string => (existsSync(p) ? realpathSync(p) : resolve(p));
  return real(a) === real(b);
}

function checkPaths(o: CliOptions): void {
  const inputs = [o.content, ...o.style, ...[o.weights, o.proto].filter((p) => p !== undefined)];
  if (!['content', 'noise', 'mixed'].includes(o.init)) inputs.push(o.init);
  const outputs = [o.output];
  const base = o.output.replace(/\.png$/i, '');
  if (o.saveEvery > 0) {
    for (let i = o.saveEvery; i < o.iterations * o.octaves; i += o.saveEvery)
      outputs.push(`${base}_${i}.png`);
  }
  for (const input of inputs) {
    const clash = outputs.find((out) => samePath(out, input));
    if (clash !== undefined) {
      throw new Error(
        `output ${clash} is an input file; choose another --output (inputs are never overwritten)`,
      );
    }
  }
  if (extname(o.output).toLowerCase() !== '.png')
    throw new Error(`output ${o.output} must end in .png`);
  if (o.size < 16) throw new Error(`size ${o.size} is too small (at least 16 px)`);
  if (o.size > MAX_SIZE && !o.force) {
    throw new Error(
      `size ${o.size} px is above ${MAX_SIZE} px: a run would take hours; pass --force to do it anyway`,
    );
  }
  if (o.styleBlendWeights !== undefined && o.styleBlendWeights.length !== o.style.length) {
    throw new Error(
      `${o.style.length} style images but ${o.styleBlendWeights.length} blend weights`,
    );
  }
}

/**
 * Run the command: returns the process exit code (0 success, 1 error, with the reason on err).
 * `networks` adds networks chosen by their weight files (bin/nnzero-style.ts adds GoogLeNet).
 */
export function runCli(
  argv: readonly string[],
  io: CliIO = { out: console.log, err: (l) => process.stderr.write(l + '\n') },
  { networks = [] }: RunCliOptions = {},
): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(helpText(networks));
    return 0;
  }
  try {
    const { options: o, network } = parse(argv, networks);
    checkPaths(o);
    const result = run(o, io, network);
    io.out(JSON.stringify(result));
    return 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    io.err(`nnzero-style: ${message.replace(/^error: /, '')}`);
    return 1;
  }
}

/** The result line of a run. */
export interface CliResult {
  output: string;
  seconds: number;
  iterations: number;
  initialLoss: number;
  finalLoss: number;
}

function run(o: CliOptions, io: CliIO, network: CliNetwork | undefined): CliResult {
  const start = performance.now();
  const contentFile = readImage(o.content, { channels: 3 });
  const styleFiles = o.style.map((path) => readImage(path, { channels: 3 }));
  // The images at one output size: the style image is scaled with the output (--style-scale).
  const at = (size: number) => ({
    content: resizeLongestSide(contentFile, size),
    styles: styleFiles.map((image, k) => ({
      image: resizeLongestSide(image, Math.max(16, Math.round(size * o.styleScale))),
      weight: o.styleBlendWeights?.[k] ?? 1,
    })),
  });
  const { content, styles } = at(o.size);
  const [, H, W] = content.shape as [number, number, number];
  const init: InitKind | Tensor32 =
    o.init === 'mixed'
      ? initialImage(content, 'mixed', new Rng(o.seed), { style: blendedStyleImage(styles, H, W) })
      : ['content', 'noise'].includes(o.init)
        ? (o.init as InitKind)
        : resizeImage(readImage(o.init, { channels: 3 }), H, W);
  const taps = [...o.contentLayers, ...o.styleLayers].map((l) => l.layer);
  const { net, label }: LoadedNetwork =
    network !== undefined
      ? network.load({ weights: o.weights, proto: o.proto }, taps)
      : o.weights === undefined
        ? {
            net: randomVgg({ seed: o.seed, pooling: o.pooling ?? 'max' }),
            label: `random VGG-like net (seed ${o.seed})`,
          }
        : {
            net: loadVgg19(o.weights, { pooling: o.pooling ?? 'avg', upTo: deepest(taps) }),
            label: `VGG-19 from ${o.weights}`,
          };
  for (const t of taps) {
    if (!net.layerNames.includes(t))
      throw new Error(`unknown layer '${t}'; this network has: ${net.layerNames.join(', ')}`);
  }

  const lossOptions: StyleLossOptions = {
    contentLayers: o.contentLayers,
    styleLayers: o.styleLayers,
    contentWeight: o.contentWeight,
    styleWeight: o.styleWeight,
    tvWeight: o.tvWeight,
    statistic: o.statistic,
    normalize: o.normalize,
  };
  // Coarse-to-fine: octave k of n runs at size / 2^(n−1−k), costing 4^−(n−1−k) of the last one.
  const sizes = Array.from({ length: o.octaves }, (_, k) =>
    Math.round(o.size / 2 ** (o.octaves - 1 - k)),
  );
  const scale = sizes.reduce((s, sz) => s + (sz / o.size) ** 2, 0);
  const evals = Math.ceil(
    scale * (o.optimizer === 'lbfgs' ? 1.1 * o.iterations : o.iterations + 1),
  );
  // Estimate before the long part, from the time the targets' forward passes take.
  const t0 = performance.now();
  const loss = new StyleTransferLoss(net, content, styles, lossOptions);
  const seconds = Math.max(1e-3, (performance.now() - t0) / 1000);
  io.err(
    `nnzero-style: ${W}×${H} px, ${label}, ${o.optimizer} × ${o.iterations}; ` +
      estimate(net, { H, W, taps, styles, seconds, evals, options: o }),
  );

  const progress = new Progress(o.iterations * o.octaves, {
    label: 'nnzero-style',
    ...(io.progress === 'silent' && { mode: 'silent' as const }),
  });
  const base = o.output.replace(/\.png$/i, '');
  const finish = (img: Tensor32): Tensor32 =>
    o.originalColors && img.shape[1] === H ? originalColors(clip01(img), content) : clip01(img);
  let current: InitKind | Tensor32 = init;
  let r: TransferResult | undefined;
  for (const [k, size] of sizes.entries()) {
    // Each octave starts from the previous one's result, enlarged (optimizeImage resizes it).
    const octave = size === o.size ? { content, styles } : at(size);
    const octaveLoss =
      size === o.size
        ? loss
        : new StyleTransferLoss(net, octave.content, octave.styles, lossOptions);
    const done = k * o.iterations;
    r = optimizeImage(octaveLoss, octave.content, {
      optimizer: o.optimizer,
      iterations: o.iterations,
      historySize: o.history,
      learningRate: o.learningRate,
      init: current,
      seed: o.seed,
      onIteration: ({ iteration, loss: value, image }) => {
        const total = done + iteration;
        progress.update(total, `loss ${value.toPrecision(4)}`);
        if (o.saveEvery > 0 && total % o.saveEvery === 0 && total < o.iterations * o.octaves) {
          const img = finish(image());
          writePng(`${base}_${total}.png`, img.shape[1] === H ? img : resizeImage(img, H, W));
        }
      },
    });
    current = r.image;
  }
  if (r === undefined) throw new Error('no octave ran');
  progress.stop();
  writePng(o.output, finish(r.image));
  return {
    output: o.output,
    seconds: Number(((performance.now() - start) / 1000).toFixed(2)),
    iterations: r.iterations,
    initialLoss: r.initialLoss,
    finalLoss: r.finalLoss,
  };
}

interface EstimateInputs {
  readonly H: number;
  readonly W: number;
  readonly taps: readonly string[];
  readonly styles: readonly { readonly image: Tensor32 }[];
  /** Time of the targets' forward passes (content and each style image). */
  readonly seconds: number;
  readonly evals: number;
  readonly options: CliOptions;
}

// The estimate line: GFLOP, time and memory from a chain's sizes; for a network without a cost
// model (an imported graph), time only: an evaluation is one forward and one backward pass at the
// content's size, about two forward passes' worth of the targets' measured pixels per second.
function estimate(net: FeatureNet, e: EstimateInputs): string {
  const { H, W, taps, styles, seconds, evals, options: o } = e;
  const pixels = (image: Tensor32): number => image.shape[1]! * image.shape[2]!;
  if (!(net instanceof SequentialFeatureNet)) {
    const perSecond = styles.reduce((s, st) => s + pixels(st.image), H * W) / seconds;
    return `≈ ${evals} evaluations ≈ ${((evals * 2 * H * W) / perSecond).toFixed(0)} s (each ≈ 2 forward passes, as timed on the targets)`;
  }
  const cost = net.cost(H, W, taps);
  let gramMacs = 0;
  for (const { layer } of o.styleLayers) {
    const [C, M] = cost.tapSizes.get(layer)!;
    gramMacs += 2 * C * C * M; // Gram product and its backward (G − A) F
  }
  const evalFlops = 2 * (2 * cost.macs + gramMacs);
  const targetFlops = styles.reduce((s, st) => {
    const [, h, w] = st.image.shape as [number, number, number];
    return s + 2 * net.cost(h, w, taps).macs;
  }, 2 * cost.macs);
  const rate = targetFlops / seconds;
  const n = 3 * H * W;
  const bytes =
    cost.activations * 4 * 3 + (o.optimizer === 'lbfgs' ? 2 * o.history * n * 8 : 3 * n * 8);
  return (
    `${(evalFlops / 1e9).toFixed(2)} GFLOP per evaluation, ` +
    `≈ ${evals} evaluations ≈ ${((evals * evalFlops) / rate).toFixed(0)} s at the measured ${(rate / 1e9).toFixed(1)} GFLOP/s; ` +
    `memory ≈ ${(bytes / 2 ** 20).toFixed(0)} MiB`
  );
}

// The deepest VGG-19 layer among the taps, so loading stops there (relu5_1 needs conv5_1, not 5_4).
function deepest(taps: readonly string[]): string | undefined {
  const order = (name: string): number => {
    const m = /^(conv|relu|pool)(\d)(?:_(\d))?$/.exec(name);
    if (m === null) return -1;
    const kind = m[1] === 'conv' ? 0 : m[1] === 'relu' ? 1 : 2;
    return Number(m[2]) * 100 + (m[3] === undefined ? 99 : Number(m[3]) * 10) + kind;
  };
  let best: string | undefined;
  for (const t of taps) if (best === undefined || order(t) > order(best)) best = t;
  return best !== undefined && order(best) >= 0 ? best : undefined;
}
