/**
 * Stored adapters restored into predictors ("heads"), kept in an LRU keyed by content hash and
 * bounded by the heads' bytes (a rank-1000 head is megabytes, a rank-4 one kilobytes).
 * Keying by content, not id or alias, means a moved alias or a re-uploaded adapter can never
 * serve stale predictions: different parameters are a different key.
 */
import type { LayerSpec } from '../adapters/lora.ts';
import { restoreFittedAdapter, type FittedAdapter } from '../adapters/method.ts';
import { HEAD_TENSORS, readHeadSettings } from '../registry/adapter-head.ts';
import { ConflictError } from '../registry/errors.ts';
import type { Adapter, AdapterSummary } from '../registry/types.ts';
import { LruCache } from './lru.ts';
import { predictWithSamples, restorePosteriorSamples } from './posterior-samples.ts';
import { adapterSummary } from '../registry/types.ts';

export interface HeadOutput {
  /** Probability rows [inputs][labels]. */
  readonly probs: Float32Array[];
  /** Posterior adapters only: H[p̄] and mutual information per input. */
  readonly entropy?: number[];
  readonly mutualInformation?: number[];
}

export interface AdapterHead {
  readonly summary: AdapterSummary;
  /** Estimated memory the restored head holds, in bytes. */
  readonly bytes: number;
  predict(features: readonly Float32Array[]): HeadOutput;
}

/** What an adapter without a task head (e.g. imported from elsewhere) needs before it can predict. */
export function noHeadMessage(a: AdapterSummary): string {
  return `adapter '${a.name}' v${a.version} has no task head (class prototypes and τ computed from a task's support set), so it cannot predict yet; attach it to a task first: POST /v1/adapters/${a.id}/attach {"task_id": "<task>"}`;
}

/** Rebuilds an adapter's predictor; ConflictError when it lacks what prediction needs. */
export function restoreHead(adapter: Adapter, layer: LayerSpec): AdapterHead {
  const { lora_A: A, lora_B: B, [HEAD_TENSORS.prototypes]: prototypes } = adapter.parameters;
  let head;
  try {
    head = readHeadSettings(adapter.extra, adapter.labels);
  } catch (err) {
    throw new ConflictError(`adapter '${adapter.name}' v${adapter.version}: ${(err as Error).message}`);
  }
  if (A && B && (!prototypes || head === null)) throw new ConflictError(noHeadMessage(adapter));
  if (!A || !B || !prototypes || head === null) {
    throw new ConflictError(`adapter '${adapter.name}' v${adapter.version} (method ${adapter.method}) cannot predict: expected parameters lora_A, lora_B, prototypes and extra.tau, got ${Object.keys(adapter.parameters).join(', ')}${head === null ? ' and no tau' : ''}`);
  }
  const parts = { A, B, prototypes, rank: adapter.rank, alpha: adapter.alpha, tau: head.tau, nWay: head.nWay };
  const map: FittedAdapter = restoreFittedAdapter(layer, parts);
  const posterior = head.posteriorSamples > 0 ? restorePosteriorSamples(layer, parts, head.posteriorSamples, adapter.parameters) : null;
  const summary = adapterSummary(adapter);
  return {
    summary,
    bytes: headBytes(adapter.parameters),
    predict: (features) => (posterior ? predictWithSamples(posterior, features) : { probs: map.predict(features) }),
  };
}

/**
 * A restored head keeps the stored tensors and a working copy of them (θ in one buffer, the
 * prototypes widened to float64), so about twice the stored bytes, plus the summary.
 */
const HEAD_OVERHEAD_BYTES = 4096;
function headBytes(parameters: Readonly<Record<string, Float32Array>>): number {
  return HEAD_OVERHEAD_BYTES + 2 * Object.values(parameters).reduce((sum, t) => sum + t.byteLength, 0);
}

export class AdapterHeads {
  private readonly cache: LruCache<string, AdapterHead>;

  /** @param capacityBytes the most estimated bytes of restored heads kept in memory */
  constructor(capacityBytes: number) {
    this.cache = new LruCache(capacityBytes, (head) => head.bytes);
  }

  /** Estimated bytes of the heads kept. */
  get bytes(): number {
    return this.cache.weight;
  }

  /** The cached head for this content, or restores `load()` and caches it. */
  async get(summary: AdapterSummary, layer: LayerSpec, load: () => Promise<Adapter>): Promise<AdapterHead> {
    const cached = this.cache.get(summary.contentHash);
    if (cached && cached.summary.id === summary.id) return cached;
    // Same content under another name/version: reuse the math, report this version.
    const head = cached ? { summary, bytes: cached.bytes, predict: cached.predict } : restoreHead(await load(), layer);
    this.cache.set(summary.contentHash, head);
    return head;
  }
}
