/**
 * Content identity of adapters and priors. What goes into the hash is exactly what changes
 * predictions: for an adapter that includes `extra` (e.g. the head temperature τ or stored
 * prototypes) besides parameters, method, rank/alpha, base model and the ordered label set;
 * metrics, training config, lineage and names do not, so re-uploading the same weights with
 * fresh metrics is still recognised as the same adapter.
 */
import { createHash } from 'node:crypto';
import { contentHash, type Hashable } from './blobs.ts';
import type { JsonObject } from './types.ts';

export interface AdapterIdentity {
  readonly method: string;
  readonly rank: number;
  readonly alpha: number;
  readonly baseModelSha: string;
  readonly labels: readonly string[];
  readonly parameters: Readonly<Record<string, Float32Array>>;
  readonly extra: JsonObject;
}

export function adapterContentHash(a: AdapterIdentity): string {
  return contentHash({
    kind: 'adapter', method: a.method, rank: a.rank, alpha: a.alpha, baseModelSha: a.baseModelSha,
    labels: a.labels, parameters: a.parameters, extra: a.extra as Hashable, // validated as JSON by the store
  });
}

export interface PriorIdentity {
  readonly baseModelSha: string;
  readonly k: number;
  readonly d: number;
  readonly weights: Float32Array;
  readonly means: Float32Array;
  readonly variances: Float32Array;
  readonly sigma2: number;
  readonly beta2: number;
}

export function priorContentHash(p: PriorIdentity): string {
  return contentHash({
    kind: 'prior', baseModelSha: p.baseModelSha, k: p.k, d: p.d, weights: p.weights, means: p.means,
    variances: p.variances, sigma2: p.sigma2, beta2: p.beta2,
  });
}

/** Deterministic id of a stored version: prefix + 24 hex of sha256(kind, name, version, hash). */
export function versionId(prefix: 'ad' | 'pr', name: string, version: number, hash: string): string {
  const digest = createHash('sha256').update(`${prefix}\0${name}\0${version}\0${hash}`).digest('hex');
  return `${prefix}_${digest.slice(0, 24)}`;
}
