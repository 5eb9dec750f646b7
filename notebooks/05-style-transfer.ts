/*
 * Chapter 5 — neural style transfer (Gatys, Ecker & Bethge, CVPR 2016).
 *
 * Chapter 4 trained a CNN's weights by gradient descent on a loss. Here the weights stay frozen
 * and the *pixels* are the unknowns: the same backward pass (conv2dBackwardInput, ReLU, pooling)
 * carries the gradient all the way down to the image. Three losses say what a good image is:
 *
 *   content  L_c = ½ Σ (F − P)²                    features F of the image vs P of the photo (eq. 1)
 *   style    E_l = 1/(4N²M²) Σ (G − A)²,  G = F Fᵀ  Gram matrices: which channels fire together (eq. 3–4)
 *   TV       mean squared difference of neighbouring pixels (smoothness)
 *
 * and the image minimizes L = α L_c + β Σ w_l E_l + γ TV (eq. 7) with L-BFGS, pixels kept in [0, 1].
 * The network here has seeded random weights (no download): random 3×3 filters over five scales
 * already describe texture well enough, if the style statistic is centred (covariance + mean)
 * and each layer's loss is divided by its target's size. Pretrained VGG-19 works the same way
 * (`nnzero-style --weights VGG_ILSVRC_19_layers.caffemodel`) with the paper's plain Gram loss.
 *
 * Run: npm run chapter -- 5   (or npx tsx notebooks/05-style-transfer.ts)
 */
import { join } from 'node:path';
import {
  Rng,
  checkGradients,
  fromArray,
  imageMosaic,
  readImage,
  toArray,
  writePng,
  zeros,
  type Tensor,
} from '../lib/core/index.js';
import {
  bundledImage,
  clip01,
  contentLoss,
  gram,
  randomVgg,
  resizeImage,
  resizeLongestSide,
  styleLoss,
  styleTarget,
  styleTransfer,
  totalVariation,
  type LayerWeight,
  type TransferResult,
} from '../lib/style/index.js';
import { isMain, optionsFromArgv, printResult, type ChapterOptions } from './chapter.js';

/** Key results of the chapter. */
export interface Chapter5Result {
  chapter: 5;
  gram: number[];
  gradientChecks: { content: number; style: number; tv: number };
  reconstructions: { label: string; initialLoss: number; finalLoss: number }[];
  output: string;
  seconds: number;
  iterations: number;
  initialLoss: number;
  finalLoss: number;
  figures: string[];
}

/** Run the chapter; `quick` uses tiny images and a few iterations (seconds, for CI). */
export async function main(options: ChapterOptions = {}): Promise<Chapter5Result> {
  const { quick = false, outDir = 'out', seed = 0, log = console.log } = options;
  const rng = new Rng(1337 + seed);

  /*
   * 1. The Gram matrix on a tiny example. Two channels at three positions:
   *    channel 0 = [1, 0, 2], channel 1 = [0, 3, 1]. G = F Fᵀ / M (we divide by the M = 3
   *    positions so that G does not grow with the image): G₀₀ = (1 + 0 + 4)/3, G₀₁ = (0 + 0 + 2)/3,
   *    G₁₁ = (0 + 9 + 1)/3. The off-diagonal entry says how much the two channels fire *together*,
   *    wherever that happens — which is why G describes texture and forgets layout.
   */
  const F = fromArray([1, 0, 2, 0, 3, 1], [2, 1, 3]);
  const G = toArray(gram(F));
  log(`Gram matrix of [[1, 0, 2], [0, 3, 1]]: ${G.map((v) => v.toFixed(3)).join(', ')}`);

  /*
   * 2. Each loss's hand-written gradient against central differences (float64), once.
   *    Expect errors around 1e-9 … 1e-7.
   */
  const Fx = rng.fillNormal(zeros([4, 3, 5]));
  const P = rng.fillNormal(zeros([4, 3, 5]));
  const A = styleTarget(rng.fillNormal(zeros([4, 5, 3])));
  const img = rng.fillUniform(zeros([3, 4, 6]));
  const checks = {
    content: checkGradients(
      () => contentLoss(Fx, P).loss,
      [{ name: 'F', value: Fx, grad: contentLoss(Fx, P).dF }],
    ).maxError,
    style: checkGradients(
      () => styleLoss(Fx, A).loss,
      [{ name: 'F', value: Fx, grad: styleLoss(Fx, A).dF }],
    ).maxError,
    tv: checkGradients(
      () => totalVariation(img).loss,
      [{ name: 'image', value: img, grad: totalVariation(img).dImage }],
    ).maxError,
  };
  log(
    `gradient checks (max relative error): content ${checks.content.toExponential(1)}, ` +
      `style ${checks.style.toExponential(1)}, TV ${checks.tv.toExponential(1)}`,
  );

  /*
   * 3. What the layers know (the idea of the paper's Figure 1). Starting from noise, rebuild the
   *    photo from one layer's features alone — a shallow layer keeps the pixels, a deep one keeps
   *    the arrangement but loses the exact values — and rebuild "the painting" from style alone
   *    over growing sets of layers: more layers, larger structures.
   */
  const small = quick ? 32 : 128;
  const photo = resizeLongestSide(readImage(bundledImage('chelsea.png'), { channels: 3 }), small);
  const painting = resizeLongestSide(
    readImage(bundledImage('starry_night.png'), { channels: 3 }),
    small,
  );
  const net = randomVgg({ seed });
  const few = quick ? 3 : 100;
  const reconstruct = (label: string, content: LayerWeight[], style: LayerWeight[]) => {
    const r = styleTransfer(net, photo, style.length > 0 ? [{ image: painting, weight: 1 }] : [], {
      contentLayers: content,
      styleLayers: style,
      contentWeight: 1,
      styleWeight: 1,
      statistic: 'centred',
      normalize: 'target',
      init: 'noise',
      iterations: few,
      seed,
    });
    log(`  ${label}: loss ${r.initialLoss.toPrecision(3)} → ${r.finalLoss.toPrecision(3)}`);
    return { label, r };
  };
  const upTo = (k: number): LayerWeight[] =>
    Array.from({ length: k }, (_, i) => ({ layer: `relu${i + 1}`, weight: 1 / k }));
  log(`reconstructions from noise at ${small} px, ${few} L-BFGS iterations each:`);
  const recon = [
    reconstruct('content relu1', [{ layer: 'relu1', weight: 1 }], []),
    reconstruct('content relu4', [{ layer: 'relu4', weight: 1 }], []),
    reconstruct('style relu1', [], upTo(1)),
    reconstruct('style relu1–2', [], upTo(2)),
    reconstruct('style relu1–3', [], upTo(3)),
    reconstruct('style relu1–5', [], upTo(5)),
  ];
  const [, h, w] = photo.shape as [number, number, number];
  const tiles: Tensor[] = [photo, ...recon.map(({ r }) => r.image), resizeImage(painting, h, w)];
  const figures = [join(outDir, '05-reconstructions.png')];
  writePng(figures[0]!, imageMosaic(tiles, { columns: 4, normalize: 'none', pad: 2 }));
  log(
    `  photo | content relu1 | content relu4 | style relu1 / 1–2 / 1–3 / 1–5 | painting: ${figures[0]}`,
  );

  /*
   * 4. The full transfer: content at relu3, centred style statistics at relu1…relu5 (0.2 each),
   *    α = 1, β = 30, γ = 10, starting from the photo, 150 L-BFGS iterations at 256 px (a few
   *    minutes on two cores). The loss should fall by an order of magnitude, most of it in the
   *    first 30 iterations.
   */
  const size = quick ? 32 : 256;
  const content = resizeLongestSide(readImage(bundledImage('chelsea.png'), { channels: 3 }), size);
  const style = resizeLongestSide(
    readImage(bundledImage('starry_night.png'), { channels: 3 }),
    size,
  );
  const iterations = quick ? 3 : 150;
  const start = performance.now();
  const result: TransferResult = styleTransfer(net, content, [{ image: style, weight: 1 }], {
    contentLayers: [{ layer: 'relu3', weight: 1 }],
    styleLayers: upTo(5),
    contentWeight: 1,
    styleWeight: 30,
    tvWeight: 10,
    statistic: 'centred',
    normalize: 'target',
    iterations,
    historySize: 50,
    onIteration: ({ iteration, loss }) => {
      if (iteration % 25 === 0) log(`  iteration ${iteration}: loss ${loss.toPrecision(4)}`);
    },
  });
  const seconds = (performance.now() - start) / 1000;
  const output = join(outDir, '05-stylized.png');
  writePng(output, clip01(result.image));
  figures.push(output);
  log(`stylized ${size} px image: ${output} (${seconds.toFixed(1)} s)`);

  const summary: Chapter5Result = {
    chapter: 5,
    gram: G,
    gradientChecks: checks,
    reconstructions: recon.map(({ label, r }) => ({
      label,
      initialLoss: r.initialLoss,
      finalLoss: r.finalLoss,
    })),
    output,
    seconds: Number(seconds.toFixed(2)),
    iterations: result.iterations,
    initialLoss: result.initialLoss,
    finalLoss: result.finalLoss,
    figures,
  };
  printResult(
    {
      output,
      seconds: summary.seconds,
      iterations: summary.iterations,
      initialLoss: summary.initialLoss,
      finalLoss: summary.finalLoss,
    },
    log,
  );
  return summary;
}

if (isMain(import.meta.url)) await main(optionsFromArgv());
