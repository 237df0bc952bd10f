/**
 * Features for request inputs: a small in-memory LRU in front of the registry's feature cache,
 * in front of the backbone. Every distinct input runs through the backbone at most once per base
 * model; the observer sees each lookup's hits and misses and each backbone run, which is what the
 * metrics (and the batching test) count.
 */
import { extractWithCache } from '../registry/feature-cache.ts';
import type { RegistryStore } from '../registry/store.ts';
import type { LoadedBackbone } from './backbones.ts';
import type { FeatureItem } from './inputs.ts';
import { LruCache } from './lru.ts';

export interface FeatureObserver {
  /** Distinct inputs served from memory, from the registry cache, and computed by the backbone. */
  featureLookup(memoryHits: number, registryHits: number, misses: number): void;
  /** One backbone call over `inputs` inputs. */
  backboneRun(inputs: number): void;
}

/** A row's key (base-model sha and content hash) and map entry, beside its floats. */
const ROW_OVERHEAD_BYTES = 256;

export class Featurizer {
  private readonly memory: LruCache<string, Float32Array>;

  /** @param capacityBytes the most bytes of feature rows kept in memory (keys included) */
  constructor(private readonly store: RegistryStore, capacityBytes: number, private readonly observer: FeatureObserver) {
    this.memory = new LruCache(capacityBytes, (row) => row.byteLength + ROW_OVERHEAD_BYTES);
  }

  /** One feature row per item, in order (items with the same hash share a row). */
  async features(backbone: LoadedBackbone<unknown>, items: readonly FeatureItem[]): Promise<Float32Array[]> {
    const sha = backbone.baseModel.sha256;
    const found = new Map<string, Float32Array>();
    const missing = new Map<string, FeatureItem>();
    for (const item of items) {
      if (found.has(item.hash) || missing.has(item.hash)) continue;
      const row = this.memory.get(`${sha}:${item.hash}`);
      if (row) found.set(item.hash, row); else missing.set(item.hash, item);
    }
    const memoryHits = found.size;
    let registryHits = 0, misses = 0;
    if (missing.size > 0) {
      const result = await extractWithCache(this.store, sha, [...missing.values()], async (inputs) => {
        this.observer.backboneRun(inputs.length);
        return backbone.encoder.embedFeatures(inputs);
      });
      registryHits = result.hits;
      misses = result.misses;
      [...missing.keys()].forEach((hash, i) => {
        found.set(hash, result.features[i]);
        this.memory.set(`${sha}:${hash}`, result.features[i]);
      });
    }
    this.observer.featureLookup(memoryHits, registryHits, misses);
    return items.map((item) => found.get(item.hash)!);
  }
}
