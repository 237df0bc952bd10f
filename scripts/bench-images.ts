/**
 * Image feature throughput: our ONNX MobileNetV2 (ORT) against the original nsfwjs TF.js model
 * on its CPU backend, single images and batches, on the same real images (emoji cells of the
 * Google sheet in emoji-datasource). Both sides include preprocessing. Also a section of
 * `npm run bench:features`.
 *
 *   npm run bench:images -- [--images 64] [--tfjs-images 4] [--batch 16]
 *
 * TF.js is slow on the pure-JS CPU backend (~2 s per image), so it gets fewer images.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Command } from 'commander';
import { DEFAULT_MODELS_DIR } from '../service/backbones.ts';
import { integerAtLeast } from './cli-options.ts';
import { compositeOnWhite, cropImage, type RgbImage } from '../backbone/image.ts';
import { loadImageEncoder } from '../backbone/mobilenet-v2.ts';
import { PNG } from 'pngjs';
import type * as Tf from '@tensorflow/tfjs';

const require = createRequire(import.meta.url);
const CELL = 34; // emoji-datasource sheet cell: 32 px image + 1 px padding each side

/** The first `count` emoji (in emoji.json order) that have a Google image, as 32x32 RGB. */
export function loadEmojiImages(count: number): RgbImage[] {
  const dir = path.dirname(require.resolve('emoji-datasource/emoji.json'));
  const sheetPng = PNG.sync.read(readFileSync(path.join(dir, 'img', 'google', 'sheets', '32.png')));
  const sheet = compositeOnWhite(sheetPng.width, sheetPng.height, sheetPng.data);
  const emoji = require('emoji-datasource/emoji.json') as { sheet_x: number; sheet_y: number; has_img_google: boolean }[];
  return emoji.filter((e) => e.has_img_google).slice(0, count)
    .map((e) => cropImage(sheet, e.sheet_x * CELL + 1, e.sheet_y * CELL + 1, 32, 32));
}

export interface ImageBenchOptions {
  readonly modelsDir: string;
  /** Images for the ONNX runs. Default 64. */
  readonly images?: number;
  /** Images for the TF.js runs (slow: ~2 s each on the CPU backend). Default 4. */
  readonly tfjsImages?: number;
  /** ONNX batch size. Default 16. */
  readonly imageBatch?: number;
}

/** Images per second of `run` over `images` in chunks of `chunk`, after one warm-up chunk. */
async function throughput(images: readonly RgbImage[], chunk: number, run: (b: RgbImage[]) => Promise<unknown>): Promise<number> {
  await run(images.slice(0, chunk));
  const start = performance.now();
  for (let i = 0; i < images.length; i += chunk) await run(images.slice(i, i + chunk));
  return images.length / ((performance.now() - start) / 1000);
}

/**
 * The original runtime: nsfwjs' LayersModel on TF.js' CPU backend. `single` is nsfwjs' own
 * `infer(img, 'flatten_1')`; batches go through the same layers via a feature sub-model, with
 * the same /255 + resizeBilinear(alignCorners) per image.
 */
async function loadTfjsFeatures(): Promise<{ single: (b: RgbImage[]) => Promise<void>; batch: (b: RgbImage[]) => Promise<void> }> {
  const tf = await import('@tensorflow/tfjs');
  const { load } = await import('nsfwjs');
  await tf.setBackend('cpu');
  const nsfw = await load('MobileNetV2');
  const toTensor = (img: RgbImage) => tf.tensor3d(Int32Array.from(img.data), [img.height, img.width, 3], 'int32');
  const single = async (imgs: RgbImage[]): Promise<void> => {
    for (const img of imgs) {
      const out = tf.tidy(() => nsfw.infer(toTensor(img), 'flatten_1'));
      await out.data();
      out.dispose();
    }
  };
  tf.tidy(() => nsfw.infer(tf.zeros([224, 224, 3]), 'flatten_1')).dispose(); // creates nsfwjs' sub-model
  const model = (nsfw as unknown as { intermediateModels: Record<string, Tf.LayersModel> })
    .intermediateModels.flatten_1;
  const batch = async (imgs: RgbImage[]): Promise<void> => {
    const out = tf.tidy(() => {
      const xs = imgs.map((img) => tf.image.resizeBilinear(toTensor(img).toFloat().div<Tf.Tensor3D>(255), [224, 224], true));
      return model.predict(tf.stack(xs)) as Tf.Tensor;
    });
    await out.data();
    out.dispose();
  };
  return { single, batch };
}

/** Bench section: ONNX vs the original TF.js model, single and batched, same emoji images. */
export async function benchImages(options: ImageBenchOptions): Promise<void> {
  const images = loadEmojiImages(options.images ?? 64);
  const tfjsImages = images.slice(0, options.tfjsImages ?? 4);
  const batch = options.imageBatch ?? 16;
  const encoder = await loadImageEncoder(options.modelsDir, { batchSize: batch });
  const onnx = {
    single: await throughput(images, 1, (b) => encoder.embedFeatures(b)),
    batch: await throughput(images, batch, (b) => encoder.embedFeatures(b)),
  };
  await encoder.dispose();
  const original = await loadTfjsFeatures();
  const tfjs = {
    single: await throughput(tfjsImages, 1, original.single),
    batch: await throughput(tfjsImages, tfjsImages.length, original.batch),
  };
  console.log(`image: mobilenet-v2 (${encoder.onnxSha256.slice(0, 12)}), ${images.length} Google emoji 32x32 -> 224x224 for ONNX, ${tfjsImages.length} for TF.js (cpu backend)`);
  console.log('  mode        ONNX images/s  TF.js images/s  ratio');
  const rows: [string, number, number][] = [['single', onnx.single, tfjs.single], [`batch ${batch}/${tfjsImages.length}`, onnx.batch, tfjs.batch]];
  for (const [mode, o, t] of rows) {
    console.log(`  ${mode.padEnd(10)} ${o.toFixed(1).padStart(8)}       ${t.toFixed(2).padStart(8)}        ${(o / t).toFixed(0)}x`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const program = new Command('bench:images')
    .description('Image feature-extraction throughput: the ONNX MobileNetV2 against the original TF.js model.')
    .option('--images <n>', 'emoji images for ONNX', integerAtLeast(1), 64)
    .option('--tfjs-images <n>', 'emoji images for TF.js (slow)', integerAtLeast(1), 4)
    .option('--batch <n>', 'ONNX batch size', integerAtLeast(1), 16)
    .option('--models-dir <dir>', 'the built .onnx files', DEFAULT_MODELS_DIR)
    .parse();
  const o = program.opts<{ images: number; tfjsImages: number; batch: number; modelsDir: string }>();
  await benchImages({ images: o.images, tfjsImages: o.tfjsImages, imageBatch: o.batch, modelsDir: o.modelsDir });
}
