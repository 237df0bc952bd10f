/**
 * Feature cache: backbone outputs keyed by (base model sha256, example content hash).
 * Keyed by content, not by task, so the same text in two tasks is embedded once, and keyed by the
 * exact ONNX sha so features from a different build can never be served.
 */
import { packTensor, unpackTensor } from '../blobs.ts';
import { ValidationError } from '../errors.ts';
import type { CacheStats, FeatureEntry } from '../types.ts';
import { SHA256_PATTERN, requireFloat32, requireString } from '../validate.ts';
import { getBaseModel } from './base-models.ts';
import { inTransaction, type StoreContext } from './connection.ts';

/** SQLite's default limit on bound parameters is 32766 (PostgreSQL's 65535); stay far below both. */
const LOOKUP_CHUNK = 500;

export interface FeatureCounters { hits: number; misses: number }

export async function getFeatures(ctx: StoreContext, counters: FeatureCounters, baseSha: string, hashes: readonly string[]): Promise<(Float32Array | undefined)[]> {
  const found = new Map<string, Float32Array>();
  const distinct = [...new Set(hashes)];
  for (let start = 0; start < distinct.length; start += LOOKUP_CHUNK) {
    const chunk = distinct.slice(start, start + LOOKUP_CHUNK);
    const sql = `SELECT hash, data FROM features WHERE base_model_sha = ? AND hash IN (${chunk.map(() => '?').join(',')})`;
    for (const row of await ctx.sql.all<{ hash: string; data: Uint8Array }>(sql, [baseSha, ...chunk])) {
      found.set(row.hash, unpackTensor(row.data));
    }
  }
  const out = hashes.map((h) => found.get(h));
  const hits = out.filter((f) => f !== undefined).length;
  counters.hits += hits;
  counters.misses += out.length - hits;
  return out;
}

export async function putFeatures(ctx: StoreContext, baseSha: string, entries: readonly FeatureEntry[]): Promise<void> {
  const base = await getBaseModel(ctx, requireString(baseSha, 'baseSha', SHA256_PATTERN));
  const rows = entries.map((e, i) => {
    requireString(e?.hash, `entries[${i}].hash`, SHA256_PATTERN);
    const features = requireFloat32(e.features, `entries[${i}].features`, base.featureDim);
    if (!features.every(Number.isFinite)) throw new ValidationError(`entries[${i}].features: expected finite values, got NaN/Infinity`);
    return [e.hash, features.length, packTensor(features)] as const;
  });
  await inTransaction(ctx, 'features', async (tx) => {
    const now = tx.now();
    for (const [hash, dim, data] of rows) {
      await tx.sql.run('INSERT INTO features (base_model_sha, hash, dim, data, created_ms) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (base_model_sha, hash) DO UPDATE SET dim = excluded.dim, data = excluded.data, created_ms = excluded.created_ms',
      [base.sha256, hash, dim, data, now]);
    }
  });
}

export function snapshotCounters(counters: FeatureCounters): CacheStats {
  return { hits: counters.hits, misses: counters.misses };
}
