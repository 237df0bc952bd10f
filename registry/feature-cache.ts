/**
 * Cached feature extraction: the backbone runs only for inputs whose (content hash, base model)
 * is not cached yet, once per distinct hash, in batches; results are stored before returning.
 * This is what makes re-fitting and re-evaluating cheap: features are computed once per example.
 */
import { ValidationError } from './errors.ts';
import type { RegistryStore } from './store.ts';

export interface CacheItem<T> {
  /** `exampleHash` of the input. */
  readonly hash: string;
  readonly input: T;
}

export interface ExtractResult {
  /** One row per item, in item order (items with equal hashes share the row). */
  readonly features: Float32Array[];
  /** Distinct hashes served from the cache. */
  readonly hits: number;
  /** Distinct hashes computed by `embed`. */
  readonly misses: number;
}

export interface ExtractOptions {
  /** Inputs per `embed` call. Default 64. */
  readonly batchSize?: number;
}

export async function extractWithCache<T>(
  store: Pick<RegistryStore, 'getFeatures' | 'putFeatures'>,
  baseSha: string,
  items: readonly CacheItem<T>[],
  embed: (inputs: T[]) => Promise<Float32Array[]>,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  const batchSize = options.batchSize ?? 64;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new ValidationError(`batchSize: expected a positive integer, got ${batchSize}`);
  const distinct = new Map<string, T>();
  for (const item of items) if (!distinct.has(item.hash)) distinct.set(item.hash, item.input);
  const hashes = [...distinct.keys()];
  const cached = await store.getFeatures(baseSha, hashes);
  const byHash = new Map<string, Float32Array>();
  const missing: string[] = [];
  hashes.forEach((h, i) => { const f = cached[i]; if (f) byHash.set(h, f); else missing.push(h); });

  for (let start = 0; start < missing.length; start += batchSize) {
    const batch = missing.slice(start, start + batchSize);
    const rows = await embed(batch.map((h) => distinct.get(h) as T));
    if (rows.length !== batch.length) {
      throw new ValidationError(`embed: expected ${batch.length} feature rows, got ${rows.length}`);
    }
    await store.putFeatures(baseSha, batch.map((hash, i) => ({ hash, features: rows[i] })));
    batch.forEach((h, i) => byHash.set(h, rows[i]));
  }
  return {
    features: items.map((item) => byHash.get(item.hash) as Float32Array),
    hits: hashes.length - missing.length,
    misses: missing.length,
  };
}
