// Makes the style page's bundled images: the project's sample photos and paintings
// (../shared/data/images, public domain or CC0) shrunk to 160 px on the longest side by area
// averaging, written to web/public/images/ with their attribution lines. Run once, commit the
// output: npx tsx web/scripts/images.ts [source folder]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readImage, writePng, zeros, type Tensor32 } from '../../lib/core/index.js';

const SOURCE = process.argv[2] ?? '../shared/data/images';
const OUT = 'web/public/images';
const LONGEST = 160;

/** The bundled images, with the attribution lines of SOURCES.md. */
export const IMAGES = [
  [
    'chelsea',
    'photo',
    '"Chelsea the cat" by Stéfan van der Walt, CC0 1.0, via scikit-image (skimage/data/chelsea.png).',
  ],
  [
    'coffee',
    'photo',
    '"Coffee cup" by Rachel Michetti (courtesy of Pikolo Espresso Bar), CC0 1.0, via scikit-image (skimage/data/coffee.png).',
  ],
  [
    'rocket',
    'photo',
    '"DSCOVR launch on Falcon 9" by SpaceX, public domain, via scikit-image (skimage/data/rocket.jpg).',
  ],
  ['starry_night', 'painting', '"The Starry Night" by Vincent van Gogh (1889), public domain.'],
  ['the_scream', 'painting', '"The Scream" by Edvard Munch (1893), public domain.'],
  [
    'shipwreck',
    'painting',
    '"The Shipwreck of the Minotaur" by J. M. W. Turner (c. 1810), public domain.',
  ],
  ['composition_vii', 'painting', '"Composition VII" by Wassily Kandinsky (1913), public domain.'],
] as const;

/** Shrink a CHW image by area averaging (each output pixel averages the input pixels it covers). */
function shrink(image: Tensor32, longest: number): Tensor32 {
  const [C, H, W] = image.shape as [number, number, number];
  const s = Math.min(1, longest / Math.max(H, W));
  const [h, w] = [Math.round(H * s), Math.round(W * s)];
  const out = zeros([C, h, w], 'float32');
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < h; i++) {
      const [i0, i1] = [
        Math.floor((i * H) / h),
        Math.max(Math.floor(((i + 1) * H) / h), Math.floor((i * H) / h) + 1),
      ];
      for (let j = 0; j < w; j++) {
        const [j0, j1] = [
          Math.floor((j * W) / w),
          Math.max(Math.floor(((j + 1) * W) / w), Math.floor((j * W) / w) + 1),
        ];
        let acc = 0;
        for (let y = i0; y < i1; y++) for (let x = j0; x < j1; x++) acc += image.get(c, y, x);
        out.set(c, i, j, acc / ((i1 - i0) * (j1 - j0)));
      }
    }
  }
  return out;
}

const lines = [
  '# Images bundled with the playground',
  '',
  `Shrunk to ${LONGEST} px on the longest side by web/scripts/images.ts from the project's sample images; all public domain or CC0.`,
  '',
];
for (const [name, role, attribution] of IMAGES) {
  const image = readImage(join(SOURCE, `${name}.png`), { channels: 3 });
  writePng(join(OUT, `${name}.png`), shrink(image, LONGEST));
  lines.push(`- ${name}.png (${role}): ${attribution}`);
}
writeFileSync(join(OUT, 'SOURCES.md'), lines.join('\n') + '\n');
console.log(`wrote ${IMAGES.length} images to ${OUT}`);
