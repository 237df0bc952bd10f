/**
 * Stored adapters restored into predictors ("heads"), kept in an LRU keyed by content hash.
 * Keying by content, not id or alias, means a moved alias or a re-uploaded adapter can never
 * serve stale predictions: different parameters are a different key.
 */
import type { LayerSpec } from '../adapters/lora.ts';
import { restoreFittedAdapter, type FittedAdapter } from '../adapters/method.ts';
import { ConflictError } from '../registry/errors.ts';
import type { Adapter, AdapterSummary } from '../registry/types.ts';
import { LruCache } from './lru.ts';
import { predictWithSamples, restorePosteriorSamples } from './posterior-samples.ts';

export interface HeadOutput {
  /** Probability rows [inputs][labels]. */
  readonly probs: Float32Array[];
  /** Posterior adapters only: H[p̄] and mutual information per input. */
  readonly entropy?: number[];
  readonly mutualInformation?: number[];
}

export interface AdapterHead {
  readonly summary: AdapterSummary;
  predict(features: readonly Float32Array[]): HeadOutput;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Rebuilds an adapter's predictor; ConflictError when it lacks what prediction needs. */
export function restoreHead(adapter: Adapter, layer: LayerSpec): AdapterHead {
  const { lora_A: A, lora_B: B, prototypes } = adapter.parameters;
  const tau = num(adapter.extra.tau), nWay = num(adapter.extra.nWay) ?? adapter.labels.length;
  if (!A || !B || !prototypes || tau === undefined) {
    throw new ConflictError(`adapter '${adapter.name}' v${adapter.version} (method ${adapter.method}) cannot predict: expected parameters lora_A, lora_B, prototypes and extra.tau, got ${Object.keys(adapter.parameters).join(', ')}${tau === undefined ? ' and no tau' : ''}`);
  }
  if (nWay !== adapter.labels.length) {
    throw new ConflictError(`adapter '${adapter.name}' v${adapter.version}: extra.nWay ${nWay} does not match its ${adapter.labels.length} labels`);
  }
  const parts = { A, B, prototypes, rank: adapter.rank, alpha: adapter.alpha, tau, nWay };
  const map: FittedAdapter = restoreFittedAdapter(layer, parts);
  const samples = num(adapter.extra.posteriorSamples) ?? 0;
  const posterior = samples > 0 ? restorePosteriorSamples(layer, parts, samples, adapter.parameters) : null;
  const { parameters: _, ...summary } = adapter;
  return {
    summary,
    predict: (features) => (posterior ? predictWithSamples(posterior, features) : { probs: map.predict(features) }),
  };
}

export class AdapterHeads {
  private readonly cache: LruCache<string, AdapterHead>;

  constructor(capacity: number) {
    this.cache = new LruCache(capacity);
  }

  /** The cached head for this content, or restores `load()` and caches it. */
  async get(summary: AdapterSummary, layer: LayerSpec, load: () => Promise<Adapter>): Promise<AdapterHead> {
    const cached = this.cache.get(summary.contentHash);
    if (cached && cached.summary.id === summary.id) return cached;
    // Same content under another name/version: reuse the math, report this version.
    const head = cached ? { summary, predict: cached.predict } : restoreHead(await load(), layer);
    this.cache.set(summary.contentHash, head);
    return head;
  }
}
