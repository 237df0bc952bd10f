/**
 * The vision backbone against the original: nsfwjs' TF.js MobileNetV2 outputs on three real
 * images were computed once (scripts/make-image-fixture.ts) and committed; the ONNX conversion,
 * run through our decode + preprocess + ORT, must reproduce them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { decodeImage, encodePng, type RgbImage } from '../backbone/image.ts';
import { preprocessImage, MOBILENET_SIZE } from '../backbone/image-preprocess.ts';
import {
  buildMobileNetV2, loadImageEncoder, mobileNetLayers, runMobileNet, MOBILENET_FEATURE_DIM, MOBILENET_ONNX_FILE,
} from '../backbone/mobilenet-v2.ts';
import { createSession, releaseSession } from '../backbone/ort.ts';
import type { Encoder } from '../backbone/types.ts';

const FIXTURES = path.join(import.meta.dirname, 'fixtures');
interface RefImage { file: string; width: number; height: number; features: number[]; head: number[]; probs: number[] }
const reference = JSON.parse(readFileSync(path.join(FIXTURES, 'mobilenet-v2-reference.json'), 'utf8')) as { images: RefImage[] };
const images: RgbImage[] = reference.images.map((r) => decodeImage(readFileSync(path.join(FIXTURES, 'images', r.file))));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length mismatch');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('MobileNetV2 ONNX backbone', () => {
  let modelsDir: string;
  let encoder: Encoder<RgbImage>;
  before(async () => {
    modelsDir = mkdtempSync(path.join(tmpdir(), 'mnv2-'));
    encoder = await loadImageEncoder(modelsDir, { batchSize: 2 });
  });
  after(async () => {
    await encoder.dispose();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('reproduces the TF.js pooled features, head and probabilities within 1e-4', async () => {
    const session = await createSession(path.join(modelsDir, MOBILENET_ONNX_FILE));
    try {
      for (const output of ['features', 'head', 'probs'] as const) {
        const rows = await runMobileNet(session, images, output);
        rows.forEach((row, i) => {
          const diff = maxAbsDiff(row, reference.images[i][output]);
          assert.ok(diff <= 1e-4, `${output} of ${reference.images[i].file}: max abs diff ${diff}`);
        });
      }
    } finally {
      await releaseSession(session);
    }
    const features = await encoder.embedFeatures(images);
    assert.equal(features.length, 3);
    features.forEach((row, i) => {
      assert.equal(row.length, MOBILENET_FEATURE_DIM);
      assert.ok(maxAbsDiff(row, reference.images[i].features) <= 1e-4);
    });
  });

  it('gives the same rows batched as one image at a time', async () => {
    const batched = await encoder.embedFeatures(images); // batches of 2 and 1
    for (let i = 0; i < images.length; i++) {
      const [single] = await encoder.embedFeatures([images[i]]);
      assert.ok(maxAbsDiff(batched[i], single) <= 1e-5, `image ${i}`);
    }
    assert.deepEqual(await encoder.embedFeatures([]), []);
  });

  it('exposes the pretrained head in [out, in] layout and an identity layer', async () => {
    const { head, identity } = mobileNetLayers();
    assert.equal(encoder.layer.name, identity.name);
    assert.equal(encoder.featureDim, head.inDim);
    assert.deepEqual([head.inDim, head.outDim, head.activation], [1280, 256, 'relu']);
    assert.deepEqual([identity.weight[0], identity.weight[1], identity.weight[1281]], [1, 0, 1]);
    // relu(W·x + b) on the pooled features must equal the ONNX dense_1 output.
    const [x] = await encoder.embedFeatures([images[0]]);
    const y = new Float32Array(head.outDim);
    for (let o = 0; o < head.outDim; o++) {
      let s = head.bias[o];
      for (let i = 0; i < head.inDim; i++) s += head.weight[o * head.inDim + i] * x[i];
      y[o] = Math.max(0, s);
    }
    assert.ok(maxAbsDiff(y, reference.images[0].head) <= 1e-4);
  });

  it('builds byte-identical models and reuses an up-to-date build', () => {
    const other = mkdtempSync(path.join(tmpdir(), 'mnv2-'));
    try {
      const a = buildMobileNetV2(other, { force: true });
      assert.equal(a.built, true);
      assert.equal(a.sidecar.sha256, encoder.onnxSha256);
      assert.deepEqual(readFileSync(a.onnxPath), readFileSync(path.join(modelsDir, MOBILENET_ONNX_FILE)));
      assert.equal(buildMobileNetV2(other).built, false);
      writeFileSync(a.onnxPath, 'truncated');
      const c = buildMobileNetV2(other);
      assert.equal(c.built, true, 'a corrupted model file is rebuilt');
      assert.equal(c.sidecar.sha256, a.sidecar.sha256);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});

describe('image preprocessing', () => {
  it('matches TF.js toFloat().div(255) + resizeBilinear(alignCorners) bit for bit', async () => {
    await tf.setBackend('cpu');
    for (const img of images) {
      const expected = tf.tidy(() => {
        const t = tf.tensor3d(Int32Array.from(img.data), [img.height, img.width, 3], 'int32');
        return tf.image.resizeBilinear(t.toFloat().div<tf.Tensor3D>(255), [MOBILENET_SIZE, MOBILENET_SIZE], true).dataSync();
      });
      assert.deepEqual(preprocessImage(img), Float32Array.from(expected));
    }
  });
});

describe('decodeImage', () => {
  it('rejects empty, unknown and truncated bytes with a message naming the problem', () => {
    assert.throws(() => decodeImage(new Uint8Array()), /input is empty/);
    assert.throws(() => decodeImage(new TextEncoder().encode('GIF89a not supported')), /unsupported format.*47 49 46 38/);
    const png = readFileSync(path.join(FIXTURES, 'images', 'red-apple.png'));
    assert.throws(() => decodeImage(png.subarray(0, 60)), /invalid PNG data/);
    const jpg = jpeg.encode({ width: 8, height: 8, data: new Uint8Array(8 * 8 * 4).fill(200) }, 90).data;
    assert.throws(() => decodeImage(jpg.subarray(0, 20)), /invalid JPEG data/);
    const huge = new Uint8Array(png.subarray(0, 33)); // signature + IHDR claiming 100000x100000
    new DataView(huge.buffer).setUint32(16, 100_000);
    new DataView(huge.buffer).setUint32(20, 100_000);
    assert.throws(() => decodeImage(huge), /too large: 100000x100000/);
  });

  it('composites PNG alpha over white', () => {
    // 2x1 RGBA: opaque red, then half-transparent black.
    const png = new PNG({ width: 2, height: 1 });
    png.data = Buffer.from([255, 0, 0, 255, 0, 0, 0, 128]);
    const img = decodeImage(new Uint8Array(PNG.sync.write(png)));
    assert.deepEqual([img.width, img.height], [2, 1]);
    assert.deepEqual([...img.data], [255, 0, 0, 127, 127, 127]);
    // The emoji fixture's transparent corner becomes white.
    const emoji = images[0];
    assert.deepEqual([...emoji.data.subarray(0, 3)], [255, 255, 255]);
  });

  it('decodes JPEG and round-trips encodePng', () => {
    const rgba = new Uint8Array(16 * 8 * 4);
    for (let p = 0; p < 16 * 8; p++) rgba.set([p * 2, 100, 255 - p * 2, 255], p * 4);
    const img = decodeImage(new Uint8Array(jpeg.encode({ width: 16, height: 8, data: rgba }, 95).data));
    assert.deepEqual([img.width, img.height, img.data.length], [16, 8, 16 * 8 * 3]);
    assert.ok(Math.abs(img.data[3 * 20 + 1] - 100) <= 8, `green ≈ 100, got ${img.data[3 * 20 + 1]}`);
    assert.deepEqual(decodeImage(encodePng(img)), img);
  });
});
