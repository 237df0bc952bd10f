/**
 * Computes the committed reference outputs of the ORIGINAL TF.js MobileNetV2 (nsfwjs 4.4.0,
 * TF.js CPU backend) on three real images, so test/vision-backbone.test.ts can check that our
 * ONNX conversion reproduces them. Run once; rerun only if the images or the package change:
 *
 *   npm run make:image-fixture
 *
 * Images: crops of the Google emoji sheet in emoji-datasource (Apache-2.0), saved with their
 * original RGBA pixels: two single 32x32 emoji (upsampled to 224) and one 8x4-cell block
 * (272x136: down in width, up in height), so both resize directions and alpha are exercised.
 * The TF.js side is fed exactly what nsfwjs `infer()` takes in Node (an int32 [h, w, 3] tensor of
 * the decoded RGB) and does its own /255 + resizeBilinear(alignCorners); our side is decoded with
 * the same decodeImage, so the comparison covers preprocessing and network.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { load as loadNsfw } from 'nsfwjs';
import { PNG } from 'pngjs';
import { decodeImage, type RgbImage } from '../backbone/image.ts';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(import.meta.dirname, '..');
const IMAGES_DIR = path.join(ROOT, 'test', 'fixtures', 'images');
const OUT_FILE = path.join(ROOT, 'test', 'fixtures', 'mobilenet-v2-reference.json');
const SHEET = path.join(path.dirname(require.resolve('emoji-datasource/emoji.json')), 'img', 'google', 'sheets', '32.png');
/** Sheet geometry (emoji-datasource): 32 px images in 34 px cells with 1 px padding. */
const CELL = 34;

interface Crop { readonly file: string; readonly what: string; readonly x: number; readonly y: number; readonly w: number; readonly h: number }

function cellOf(name: string, file: string): Crop {
  const emoji = (require('emoji-datasource/emoji.json') as { name: string; sheet_x: number; sheet_y: number }[])
    .find((e) => e.name === name);
  if (!emoji) throw new Error(`emoji '${name}' not in emoji-datasource`);
  return { file, what: `${name} (google, sheet ${emoji.sheet_x},${emoji.sheet_y})`, x: emoji.sheet_x * CELL + 1, y: emoji.sheet_y * CELL + 1, w: 32, h: 32 };
}

const CROPS: readonly Crop[] = [
  cellOf('GRINNING FACE', 'grinning-face.png'),
  cellOf('RED APPLE', 'red-apple.png'),
  { file: 'sheet-block.png', what: 'google sheet cells x 8-15, y 52-55', x: 8 * CELL, y: 52 * CELL, w: 8 * CELL, h: 4 * CELL },
];

/** Cut the RGBA rectangle out of the sheet and write it as a PNG (alpha kept). */
function writeCrop(sheet: PNG, crop: Crop): Uint8Array {
  const out = new PNG({ width: crop.w, height: crop.h });
  PNG.bitblt(sheet, out, crop.x, crop.y, crop.w, crop.h, 0, 0);
  const bytes = new Uint8Array(PNG.sync.write(out));
  writeFileSync(path.join(IMAGES_DIR, crop.file), bytes);
  return bytes;
}

const round7 = (a: ArrayLike<number>): number[] => Array.from(a, (v) => Number(v.toPrecision(7)));

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  mkdirSync(IMAGES_DIR, { recursive: true });
  const sheet = PNG.sync.read(readFileSync(SHEET));
  const model = await loadNsfw('MobileNetV2');
  const images = [];
  for (const crop of CROPS) {
    const img: RgbImage = decodeImage(writeCrop(sheet, crop));
    const input = tf.tensor3d(Int32Array.from(img.data), [img.height, img.width, 3], 'int32');
    const [features, head, probs] = await Promise.all(
      [model.infer(input, 'flatten_1'), model.infer(input, 'dense_1'), model.infer(input)].map((t) => t.data()),
    );
    input.dispose();
    images.push({ file: crop.file, what: crop.what, width: img.width, height: img.height,
      features: round7(features), head: round7(head), probs: round7(probs) });
    console.log(`${crop.file}: ${img.width}x${img.height}, features[0..3] ${round7(features.slice(0, 4))}, probs ${round7(probs)}`);
  }
  // No model.dispose(): nsfwjs 4.4.0 disposes shared layers twice once endpoints were used.
  const fixture = {
    model: 'nsfwjs@4.4.0 MobileNetV2 (Keras, TF.js layers model)',
    runtime: `@tensorflow/tfjs@${tf.version.tfjs} backend ${tf.getBackend()}`,
    outputs: { features: 'flatten_1 [1280]', head: 'dense_1 relu [256]', probs: 'dense_3 softmax [5]' },
    precision: '7 significant digits',
    images,
  };
  writeFileSync(OUT_FILE, `${JSON.stringify(fixture)}\n`);
  console.log(`wrote ${path.relative(ROOT, OUT_FILE)}`);
}

new Command('make-image-fixture')
  .description(`Recompute ${path.relative(ROOT, OUT_FILE)} from the original TF.js MobileNetV2 (run once; rerun if the images or nsfwjs change).`)
  .parse();
await main();
