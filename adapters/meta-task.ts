/**
 * The training data every meta-learner sees: a `MetaTask` draws episodes (support + query
 * feature rows, labels 0..nWay-1) from one training task. The caller builds the tasks once
 * from cached features (`metaTaskFromLabelled`); MAML/FOMAML/Reptile, MBC and MAP-hierarchical
 * all consume them, and `metaTaskLikelihood` turns one into the `TaskLikelihood` LiFT's
 * sampler takes, so every method trains on the same episodes.
 *
 * task-likelihood.ts has the row-level pieces (`LabelledSet`, `groupByClass`, the episodic draw
 * `drawEpisodeClasses`) but no episode object a meta-learner can split into an inner (support)
 * and outer (query) part; this file adds that and reuses the rest.
 *
 * Episodes return references to the task's own feature rows, so `RowCache` can memoise the
 * base pre-activations W·x + b per row object: each row pays the [out, in] matvec once per
 * layer, however many episodes draw it.
 */
import type { SupportSet } from './adapt.ts';
import { check } from './errors.ts';
import type { LayerSpec, LoraShape } from './lora.ts';
import { episodeLoss, type HeadBatch } from './proto-head.ts';
import { shuffled, type Rng } from './rng.ts';
import type { TaskLikelihood } from './sgld-gibbs.ts';
import { drawEpisodeClasses, groupByClass, type LabelledSet } from './task-likelihood.ts';
import { type RowCache } from './row-cache.ts';
export { createRowCache, sharedRowCache, type RowCache } from './row-cache.ts';

/** One few-shot episode: the support builds prototypes (and drives inner loops), the query is scored. */
export interface Episode {
  readonly support: SupportSet;
  readonly query: LabelledSet;
}

export interface MetaTask {
  readonly id: string;
  /** Classes per episode. */
  readonly nWay: number;
  /** N: examples in the task (scales its likelihood). */
  readonly size: number;
  sampleEpisode(rng: Rng): Episode;
  /** Optional task embedding (normalised mean frozen embedding), for retrieval. */
  readonly embedding?: Float32Array;
  /** Optional: a sample of the task's input rows (e.g. to compute `embedding`). */
  sampleInputs?(count: number, rng: Rng): readonly Float32Array[];
}

export interface MetaEpisodeOptions {
  /** Classes per episode (default: all of the task's classes). */
  readonly nWay?: number;
  readonly shots: number;
  readonly queries: number;
}

/**
 * A MetaTask over labelled feature rows (labels: any integers). Each episode draws `nWay`
 * classes, `shots` support and up to `queries` disjoint query rows per class (a class keeps at
 * least one row for the support).
 */
export function metaTaskFromLabelled(
  id: string, data: LabelledSet, opts: MetaEpisodeOptions, embedding?: Float32Array,
): MetaTask {
  check(data.features.length === data.labels.length,
    () => `task '${id}': expected one label per row, got ${data.labels.length} labels for ${data.features.length} rows`);
  const classes = groupByClass(data.labels);
  check(classes.length >= 2, () => `task '${id}': expected at least 2 classes, got ${classes.length}`);
  const nWay = Math.min(opts.nWay ?? classes.length, classes.length);
  return {
    id, nWay, size: data.features.length, embedding,
    sampleEpisode(rng) {
      const sup: Float32Array[] = [], supY: number[] = [], qry: Float32Array[] = [], qryY: number[] = [];
      for (const { label, support, query } of drawEpisodeClasses(classes, opts, rng)) {
        for (const i of support) { sup.push(data.features[i]); supY.push(label); }
        for (const i of query) { qry.push(data.features[i]); qryY.push(label); }
      }
      return {
        support: { features: sup, labels: Int32Array.from(supY) },
        query: { features: qry, labels: Int32Array.from(qryY) },
      };
    },
    sampleInputs(count, rng) {
      return shuffled(data.features, rng).slice(0, count);
    },
  };
}

/** Packs rows with per-row flags into a HeadBatch. */
function packBatch(
  cache: RowCache, rows: readonly Float32Array[], labels: ArrayLike<number>, nWay: number,
  isSupport: (i: number) => boolean, isQuery: (i: number) => boolean,
): HeadBatch {
  const { inDim, outDim } = cache.layer;
  const n = rows.length;
  const X = new Float32Array(n * inDim), base = new Float32Array(n * outDim);
  rows.forEach((r, i) => {
    X.set(r, i * inDim);
    base.set(cache.base(r), i * outDim);
  });
  return {
    n, X, base, nWay, labels: Int32Array.from(labels),
    isSupport: Uint8Array.from({ length: n }, (_, i) => Number(isSupport(i))),
    isQuery: Uint8Array.from({ length: n }, (_, i) => Number(isQuery(i))),
  };
}

/** Support rows scored leave-one-out against each other (the fine-tuning objective's batch). */
export function supportBatch(cache: RowCache, support: SupportSet, nWay: number): HeadBatch {
  return packBatch(cache, support.features, support.labels, nWay, () => true, () => true);
}

/** Support rows build the prototypes, query rows are scored against them. */
export function episodeBatch(cache: RowCache, episode: Episode, nWay: number): HeadBatch {
  const ns = episode.support.features.length;
  const rows = [...episode.support.features, ...episode.query.features];
  const labels = [...episode.support.labels, ...episode.query.labels];
  return packBatch(cache, rows, labels, nWay, (i) => i < ns, (i) => i >= ns);
}

/** Every row of the episode, scored leave-one-out (Reptile's task loss). */
export function unionBatch(cache: RowCache, episode: Episode, nWay: number): HeadBatch {
  const rows = [...episode.support.features, ...episode.query.features];
  const labels = [...episode.support.labels, ...episode.query.labels];
  return packBatch(cache, rows, labels, nWay, () => true, () => true);
}

/**
 * A MetaTask as LiFT's sampler sees it: mean query log-likelihood of one episode and its
 * gradient in θ (size = N, so the sampler scales it to the task's data).
 */
export function metaTaskLikelihood(task: MetaTask, cache: RowCache, shape: LoraShape, tau: number): TaskLikelihood {
  return {
    size: task.size,
    gradLogLik(theta, rng) {
      const batch = episodeBatch(cache, task.sampleEpisode(rng), task.nWay);
      const out = episodeLoss(cache.layer, shape, theta, batch, { tau, reduction: 'mean' }, new Float64Array(theta.length));
      const grad = out.grad;
      for (let i = 0; i < grad.length; i++) grad[i] = -grad[i];
      return { logLik: -out.loss, grad };
    },
  };
}

/** Reports progress at most ~100 times over `total` units (always at the end). */
export function progressReporter(total: number, onProgress?: (done: number, total: number) => void): (done: number) => void {
  const every = Math.max(1, Math.floor(total / 100));
  return (done) => {
    if (onProgress && (done % every === 0 || done === total)) onProgress(done, total);
  };
}
