/**
 * The text backbone reproduces the original USE-lite TF.js model: the tokeniser id for id, and
 * the converted ONNX graph's `pooled` and final embedding within 1e-4 of reference outputs that
 * scripts/make-text-fixture.ts computed once with the package's own TF.js runtime.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeWeights } from '../backbone/tfjs-weights.ts';
import { loadTokenizer } from '../backbone/tokenizer.ts';
import { buildUseLite, loadTextEncoder, planBatches, type UseLiteEncoder } from '../backbone/use-lite.ts';

interface FixtureSentence { text: string; ids: number[]; pooled: number[]; embedding: number[] }
const FIXTURE = JSON.parse(
  readFileSync(join(import.meta.dirname, 'fixtures', 'use-lite-reference.json'), 'utf8'),
) as { sentences: FixtureSentence[] };
const MODELS_DIR = join(import.meta.dirname, '..', 'models');
const TEXTS = FIXTURE.sentences.map((s) => s.text);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length');
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('tfjs weights', () => {
  it('decodes float32, int32, float16 and uint8-quantised entries laid back to back', () => {
    const bytes = new Uint8Array(4 * 2 + 4 + 2 * 2 + 3);
    const view = new DataView(bytes.buffer);
    view.setFloat32(0, 1.5, true);
    view.setFloat32(4, -2.25, true);
    view.setInt32(8, -7, true);
    view.setUint16(12, 0x3c00, true); // 1.0 in half precision
    view.setUint16(14, 0xc100, true); // -2.5
    bytes.set([0, 10, 255], 16);
    const manifest = [{
      paths: ['shard'],
      weights: [
        { name: 'f', shape: [2], dtype: 'float32' },
        { name: 'i', shape: [], dtype: 'int32' },
        { name: 'h', shape: [2], dtype: 'float32', quantization: { dtype: 'float16' as const } },
        { name: 'q', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8' as const, min: -1, scale: 0.5 } },
      ],
    }];
    const w = decodeWeights(manifest, bytes);
    assert.deepEqual([...w.get('f')!.data], [1.5, -2.25]);
    assert.deepEqual([...w.get('i')!.data], [-7]);
    assert.deepEqual([...w.get('h')!.data], [1, -2.5]);
    assert.deepEqual([...w.get('q')!.data], [-1, 4, 126.5]);
    assert.throws(() => decodeWeights(manifest, bytes.subarray(0, 18)), /needs bytes/);
  });
});

describe('tokenizer', () => {
  it('reproduces the original ids for every fixture sentence', () => {
    const tokenizer = loadTokenizer();
    for (const s of FIXTURE.sentences) assert.deepEqual(tokenizer.encode(s.text), s.ids, s.text);
  });

  it('maps the empty string to no tokens and collapses runs of unknown symbols', () => {
    const tokenizer = loadTokenizer();
    assert.deepEqual(tokenizer.encode(''), []);
    const ids = tokenizer.encode('😀😀😀 ok');
    assert.equal(ids.filter((id) => id === 0).length, 1, `one unknown id for the emoji run: ${ids}`);
  });
});

describe('use-lite ONNX encoder', () => {
  let encoder: UseLiteEncoder;
  before(async () => { encoder = await loadTextEncoder(MODELS_DIR); });
  after(async () => { await encoder.dispose(); });

  it('clips to the model maximum of 128 tokens, like the original graph', () => {
    const long = FIXTURE.sentences.find((s) => s.ids.length > 128);
    assert.ok(long, 'fixture has a sentence over 128 tokens');
    assert.deepEqual(encoder.tokenize(long.text), long.ids.slice(0, 128));
  });

  it('matches the TF.js pooled features and embeddings within 1e-4 (one padded batch)', async () => {
    const out = await encoder.embedBoth(TEXTS);
    let pooledDiff = 0;
    let embeddingDiff = 0;
    FIXTURE.sentences.forEach((s, i) => {
      pooledDiff = Math.max(pooledDiff, maxAbsDiff(out.pooled[i], s.pooled));
      embeddingDiff = Math.max(embeddingDiff, maxAbsDiff(out.embedding[i], s.embedding));
    });
    assert.ok(pooledDiff <= 1e-4, `pooled max diff ${pooledDiff}`);
    assert.ok(embeddingDiff <= 1e-4, `embedding max diff ${embeddingDiff}`);
    const features = await encoder.embedFeatures(TEXTS);
    assert.equal(features.length, TEXTS.length);
    features.forEach((row, i) => {
      assert.equal(row.length, encoder.featureDim);
      assert.deepEqual(row, out.pooled[i]);
    });
  });

  it('gives each sentence the same outputs alone as padded in a batch, in input order', async () => {
    const batched = await encoder.embedBoth(TEXTS);
    for (let i = 0; i < TEXTS.length; i++) {
      const single = await encoder.embedBoth([TEXTS[i]]);
      assert.ok(maxAbsDiff(single.pooled[0], batched.pooled[i]) <= 1e-5, `pooled ${i}`);
      assert.ok(maxAbsDiff(single.embedding[0], batched.embedding[i]) <= 1e-5, `embedding ${i}`);
    }
    const reversed = await encoder.embedFeatures([...TEXTS].reverse());
    reversed.reverse().forEach((row, i) => assert.ok(maxAbsDiff(row, batched.pooled[i]) <= 1e-5, `order ${i}`));
    const small = await loadTextEncoder(MODELS_DIR, { batchSize: 2, maxBatchTokens: 64, intraOpNumThreads: 1 });
    try {
      const rows = await small.embedFeatures(TEXTS);
      rows.forEach((row, i) => assert.ok(maxAbsDiff(row, batched.pooled[i]) <= 1e-5, `small batches ${i}`));
    } finally {
      await small.dispose();
    }
  });

  it('exposes tanh_layer_0 as W [out, in] with embedding = normalize(tanh(W·pooled + b))', async () => {
    const { layer } = encoder;
    assert.deepEqual([layer.name, layer.inDim, layer.outDim, layer.activation, layer.normalize], ['tanh_layer_0', 512, 512, 'tanh', true]);
    assert.equal(encoder.featureDim, layer.inDim);
    const out = await encoder.embedBoth(TEXTS);
    out.pooled.forEach((x, n) => {
      const z = new Float64Array(layer.outDim);
      for (let o = 0; o < layer.outDim; o++) {
        let s = layer.bias[o];
        for (let i = 0; i < layer.inDim; i++) s += layer.weight[o * layer.inDim + i] * x[i];
        z[o] = Math.tanh(s);
      }
      const norm = Math.hypot(...z);
      assert.ok(maxAbsDiff(z.map((v) => v / norm), out.embedding[n]) <= 1e-5, `sentence ${n}`);
    });
  });

  it('embeds the empty string to finite values and a unit embedding', async () => {
    const [pooled] = await encoder.embedFeatures(['']);
    const [embedding] = await encoder.embedFinal(['']);
    assert.ok(pooled.every(Number.isFinite) && embedding.every(Number.isFinite));
    assert.ok(Math.abs(Math.hypot(...embedding) - 1) < 1e-5);
  });
});

describe('batch planning', () => {
  it('covers every row once, shortest first, within the row and padded-token caps', () => {
    const lengths = [30, 2, 2, 128, 5, 0, 17, 17, 3, 60];
    const batches = planBatches(lengths, 3, 64);
    assert.deepEqual(batches.flat().sort((a, b) => a - b), lengths.map((_, i) => i));
    const flatLengths = batches.flat().map((r) => lengths[r]);
    assert.deepEqual(flatLengths, [...flatLengths].sort((a, b) => a - b));
    for (const rows of batches) {
      assert.ok(rows.length <= 3, `rows ${rows}`);
      const padded = rows.length * Math.max(...rows.map((r) => lengths[r]));
      assert.ok(rows.length === 1 || padded <= 64, `padded ${padded} for ${rows}`);
    }
    assert.deepEqual(batches.at(-1), [3], 'the 128-token row runs alone');
  });
});

describe('use-lite build', () => {
  it('is deterministic: two builds give the same bytes and sha256, and a rebuild is skipped', async () => {
    const dirs = [mkdtempSync(join(tmpdir(), 'use-lite-a-')), mkdtempSync(join(tmpdir(), 'use-lite-b-'))];
    try {
      const [a, b] = [await buildUseLite(dirs[0]), await buildUseLite(dirs[1])];
      assert.ok(a.built && b.built);
      assert.match(a.sha256, /^[0-9a-f]{64}$/);
      assert.equal(a.sha256, b.sha256);
      assert.ok(readFileSync(a.onnxPath).equals(readFileSync(b.onnxPath)));
      const again = await buildUseLite(dirs[0]);
      assert.equal(again.built, false);
      assert.equal(again.sha256, a.sha256);
    } finally {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });
});
