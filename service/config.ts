/**
 * Settings of the service layer (registry, models, input limits, caches, fits and jobs, the
 * prediction batcher) with their flags and environment variables. The server adds its own
 * (server/config.ts) and builds one typed object from both, so no other module reads `process.env`.
 * docs/api.md lists every setting; keep the two in sync.
 */
import path from 'node:path';
import { DEFAULT_MODELS_DIR } from './backbones.ts';
import { defaultFitThreads } from './fitter.ts';

export interface ServiceConfig {
  /** Registry URL: `sqlite:<path>` (or a bare path) or `postgres://…` (registry/open.ts). */
  readonly registryUrl: string;
  /** Directory holding the converted ONNX backbones. */
  readonly modelsDir: string;
  /** Most examples or inputs one request may carry. */
  readonly maxInputs: number;
  /** Longest accepted text, in characters. */
  readonly maxTextLength: number;
  /** Longest accepted image side, in pixels (checked from the header, before decoding). */
  readonly maxImageSide: number;
  /** Largest accepted image, width x height. */
  readonly maxImagePixels: number;
  /** Decoded image bytes (width x height x 3, summed) one request may produce. */
  readonly maxDecodedBytes: number;
  /** How long the prediction batcher waits for more requests before running, in ms. */
  readonly batchWindowMs: number;
  /** The batcher runs at once when this many inputs are queued. */
  readonly maxBatchInputs: number;
  /** Bytes of restored adapters kept in memory (keyed by content hash; estimated per adapter). */
  readonly adapterCacheBytes: number;
  /** Bytes of feature rows kept in memory in front of the registry's feature cache. */
  readonly featureCacheBytes: number;
  /** Worker threads for fits, comparisons and jobs (0: on the event loop, for debugging only). */
  readonly fitThreads: number;
  /** Job queue: null runs jobs in this process's worker threads; `redis://…` queues them for `npm run worker` processes. */
  readonly queueUrl: string | null;
  /** Largest fit/compare work (steps x rank x examples x methods) answered within a request. */
  readonly maxInlineWork: number;
  /** Largest such work one job may run. */
  readonly maxJobWork: number;
  /** Largest LoRA rank a PEFT import may carry. */
  readonly maxImportRank: number;
}

export const DEFAULT_SERVICE_CONFIG: ServiceConfig = {
  registryUrl: `sqlite:${path.resolve(import.meta.dirname, '..', 'data', 'registry.sqlite')}`,
  modelsDir: DEFAULT_MODELS_DIR,
  maxInputs: 256,
  maxTextLength: 2000,
  maxImageSide: 2048,
  maxImagePixels: 2048 * 2048,
  maxDecodedBytes: 64 * 1024 * 1024,
  batchWindowMs: 2,
  maxBatchInputs: 256,
  adapterCacheBytes: 256 * 1024 * 1024,
  featureCacheBytes: 64 * 1024 * 1024,
  fitThreads: defaultFitThreads(),
  queueUrl: null,
  maxInlineWork: 500_000,
  maxJobWork: 20_000_000,
  maxImportRank: 64,
};

/** Byte sizes: plain integers or with a kb / mb suffix (1024-based). */
export function parseByteSize(value: string, field: string): number {
  const m = /^(\d+)\s*(b|kb|mb)?$/i.exec(value.trim());
  if (!m) throw new Error(`${field}: expected a size like 1048576, 512kb or 10mb, got '${value}'`);
  const unit = (m[2] ?? 'b').toLowerCase();
  return Number(m[1]) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1);
}

export function parseIntSetting(value: string, field: string, min: number): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${field}: expected an integer >= ${min}, got '${value}'`);
  return n;
}

function parseQueueUrl(value: string): string | null {
  if (value === '') return null;
  if (!/^rediss?:\/\//.test(value)) throw new Error(`queue: expected redis://host:port[/db], got '${value.replace(/\/\/[^@/]*@/, '//…@')}'`);
  return value;
}

/** How a setting is given: flag, environment variable, parser. */
export interface SettingSource {
  readonly flag: string;
  readonly help: string;
  readonly env: string;
  readonly parse: (v: string) => unknown;
}

/** Setting name -> (flag, environment variable, parser). */
export const SERVICE_SETTINGS = {
  registryUrl: { flag: '--registry <url>', help: 'registry: sqlite:<path> (or a bare path) or postgres://…', env: 'LIFT_REGISTRY', parse: (v: string) => v },
  modelsDir: { flag: '--models-dir <dir>', help: 'directory of the converted ONNX backbones', env: 'LIFT_MODELS_DIR', parse: (v: string) => v },
  maxInputs: { flag: '--max-inputs <n>', help: 'most examples or inputs per request', env: 'LIFT_MAX_INPUTS', parse: (v: string) => parseIntSetting(v, 'max inputs', 1) },
  maxTextLength: { flag: '--max-text-length <n>', help: 'longest accepted text, in characters', env: 'LIFT_MAX_TEXT_LENGTH', parse: (v: string) => parseIntSetting(v, 'max text length', 1) },
  maxImageSide: { flag: '--max-image-side <px>', help: 'largest accepted image side, in pixels', env: 'LIFT_MAX_IMAGE_SIDE', parse: (v: string) => parseIntSetting(v, 'max image side', 1) },
  maxImagePixels: { flag: '--max-image-pixels <n>', help: 'most pixels of one accepted image', env: 'LIFT_MAX_IMAGE_PIXELS', parse: (v: string) => parseIntSetting(v, 'max image pixels', 1) },
  maxDecodedBytes: { flag: '--max-decoded-bytes <size>', help: 'decoded image bytes one request may need (bytes, or with kb / mb)', env: 'LIFT_MAX_DECODED_BYTES', parse: (v: string) => parseByteSize(v, 'max decoded bytes') },
  batchWindowMs: { flag: '--batch-window-ms <ms>', help: 'how long the prediction batcher waits for more requests', env: 'LIFT_BATCH_WINDOW_MS', parse: (v: string) => parseIntSetting(v, 'batch window', 0) },
  maxBatchInputs: { flag: '--max-batch-inputs <n>', help: 'inputs that make the batcher run at once', env: 'LIFT_MAX_BATCH_INPUTS', parse: (v: string) => parseIntSetting(v, 'max batch inputs', 1) },
  adapterCacheBytes: { flag: '--adapter-cache <size>', help: 'memory for restored adapters (bytes, or with kb / mb)', env: 'LIFT_ADAPTER_CACHE', parse: (v: string) => parseByteSize(v, 'adapter cache') },
  featureCacheBytes: { flag: '--feature-cache <size>', help: 'memory for feature rows in front of the registry cache (bytes, or with kb / mb)', env: 'LIFT_FEATURE_CACHE', parse: (v: string) => parseByteSize(v, 'feature cache') },
  maxInlineWork: { flag: '--max-inline-work <n>', help: 'largest fit or compare work (steps x rank x examples x methods) answered within a request', env: 'LIFT_MAX_INLINE_WORK', parse: (v: string) => parseIntSetting(v, 'max inline work', 1) },
  maxJobWork: { flag: '--max-job-work <n>', help: 'largest such work one job may run', env: 'LIFT_MAX_JOB_WORK', parse: (v: string) => parseIntSetting(v, 'max job work', 1) },
  maxImportRank: { flag: '--max-import-rank <r>', help: 'largest LoRA rank a PEFT import may have', env: 'LIFT_MAX_IMPORT_RANK', parse: (v: string) => parseIntSetting(v, 'max import rank', 1) },
  fitThreads: { flag: '--fit-threads <n>', help: 'worker threads for fits, comparisons and jobs (0: on the event loop, for debugging only)', env: 'LIFT_FIT_THREADS', parse: (v: string) => parseIntSetting(v, 'fit threads', 0) },
  queueUrl: { flag: '--queue <url>', help: 'redis://… to queue jobs for `npm run worker` processes (default: in-process worker threads)', env: 'LIFT_QUEUE', parse: parseQueueUrl },
} as const satisfies Record<keyof ServiceConfig, SettingSource>;
