/**
 * Backbone features through the registry's feature cache: every example is embedded at most once
 * per base model, whoever asks (benchmarks, training, the server).
 */
import type { Example } from '../benchmarks/types.ts';
import { extractWithCache, type ExtractResult } from '../registry/feature-cache.ts';
import type { RegistryStore } from '../registry/store.ts';
import type { LoadedBackbone } from './backbones.ts';
import { startProgress } from './progress.ts';

/** Features for examples keyed by their content hash (`benchmarks/content-hash.ts`). */
export function extractFeatures(
  store: RegistryStore, backbone: LoadedBackbone<unknown>, examples: readonly Example[],
): Promise<ExtractResult> {
  const { encoder, baseModel } = backbone;
  const items = examples.map((ex) => {
    const input = encoder.modality === 'text' ? ex.text : ex.image;
    if (input === undefined) throw new Error(`example ${ex.hash.slice(0, 12)} has no ${encoder.modality} input for ${encoder.name}`);
    return { hash: ex.hash, input };
  });
  return extractWithCache(store, baseModel.sha256, items, (inputs) => encoder.embedFeatures(inputs));
}

/**
 * Features of many examples (a whole suite), in chunks so progress shows; returns a lookup by
 * example. A second call on the same examples computes nothing.
 */
export async function featureLookup(
  store: RegistryStore, backbone: LoadedBackbone<unknown>, examples: readonly Example[], label = 'features',
): Promise<{ lookup: (ex: Example) => Float32Array; hits: number; misses: number }> {
  const byHash = new Map<string, Float32Array>();
  const chunk = 512;
  const progress = startProgress(label, examples.length);
  let hits = 0, misses = 0;
  for (let start = 0; start < examples.length; start += chunk) {
    const part = examples.slice(start, start + chunk);
    const result = await extractFeatures(store, backbone, part);
    part.forEach((ex, i) => byHash.set(ex.hash, result.features[i]));
    hits += result.hits;
    misses += result.misses;
    progress.update(start + part.length, `${misses} computed, ${hits} cached`);
  }
  progress.stop();
  const lookup = (ex: Example): Float32Array => {
    const row = byHash.get(ex.hash);
    if (!row) throw new Error(`no features for example ${ex.hash.slice(0, 12)}`);
    return row;
  };
  return { lookup, hits, misses };
}
