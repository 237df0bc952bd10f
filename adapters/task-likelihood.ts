/**
 * A training task's likelihood as SGLD-Gibbs sees it: episodic minibatches over cached
 * features. Each call draws up to `nWay` of the task's classes, `shots` support rows per class
 * (they build the prototypes) and up to `queries` disjoint query rows (they are scored), and
 * returns the mean query log-likelihood and its gradient in θ (unscaled; the sampler scales by
 * the task's size). A class with a single example only serves as a prototype.
 */
import { check } from './errors.ts';
import { packRows } from './linalg.ts';
import type { LayerSpec, LoraShape } from './lora.ts';
import { sharedRowCache } from './row-cache.ts';
import { episodeLoss, type HeadBatch } from './proto-head.ts';
import { shuffled, type Rng } from './rng.ts';
import type { TaskLikelihood } from './sgld-gibbs.ts';

/** Labelled feature rows of one task (labels are the task's own class ids, any integers). */
export interface LabelledSet {
  readonly features: readonly Float32Array[];
  readonly labels: Int32Array;
}

export interface EpisodeOptions {
  /** Classes per episode (default: all of the task's classes). */
  readonly nWay?: number;
  readonly shots: number;
  readonly queries: number;
  readonly tau: number;
}

/** Cached rows of a task: X [n, in] and base = W·x + b [n, out]. */
export interface CachedRows {
  readonly n: number;
  readonly X: Float32Array;
  readonly base: Float32Array;
}

export function cacheRows(layer: LayerSpec, features: readonly Float32Array[]): CachedRows {
  const X = packRows(features, layer.inDim);
  const cache = sharedRowCache(layer);
  const base = new Float32Array(features.length * layer.outDim);
  features.forEach((row, i) => base.set(cache.base(row), i * layer.outDim));
  return { n: features.length, X, base };
}

/** A HeadBatch of selected rows (copies them into contiguous buffers). */
export function gatherBatch(
  rows: CachedRows, shape: LoraShape, pick: readonly number[], labels: readonly number[],
  isSupport: readonly boolean[], isQuery: readonly boolean[], nWay: number,
): HeadBatch {
  const n = pick.length;
  const X = new Float32Array(n * shape.inDim);
  const base = new Float32Array(n * shape.outDim);
  for (let i = 0; i < n; i++) {
    X.set(rows.X.subarray(pick[i] * shape.inDim, (pick[i] + 1) * shape.inDim), i * shape.inDim);
    base.set(rows.base.subarray(pick[i] * shape.outDim, (pick[i] + 1) * shape.outDim), i * shape.outDim);
  }
  return {
    n, X, base, nWay, labels: Int32Array.from(labels),
    isSupport: Uint8Array.from(isSupport, Number), isQuery: Uint8Array.from(isQuery, Number),
  };
}

/** Row indices per class, classes in ascending label order. */
export function groupByClass(labels: Int32Array): number[][] {
  const byClass = new Map<number, number[]>();
  labels.forEach((y, i) => {
    const list = byClass.get(y) ?? [];
    list.push(i);
    byClass.set(y, list);
  });
  return [...byClass.keys()].sort((a, b) => a - b).map((y) => byClass.get(y)!);
}

/** One drawn class of an episode: its episode label and disjoint support / query row indices. */
export interface EpisodeClassDraw {
  readonly label: number;
  readonly support: readonly number[];
  readonly query: readonly number[];
}

/**
 * Draws up to `nWay` classes (episode labels 0..), `shots` support and up to `queries` disjoint
 * query rows per class; a class keeps at least one row for the support.
 */
export function drawEpisodeClasses(
  classes: readonly (readonly number[])[], opts: Pick<EpisodeOptions, 'nWay' | 'shots' | 'queries'>, rng: Rng,
): EpisodeClassDraw[] {
  const nWay = Math.min(opts.nWay ?? classes.length, classes.length);
  const chosen = shuffled(classes.map((_, c) => c), rng).slice(0, nWay);
  return chosen.map((c, label) => {
    const members = shuffled(classes[c], rng);
    const nSupport = Math.min(opts.shots, Math.max(1, members.length - 1));
    const nQuery = Math.min(opts.queries, members.length - nSupport);
    return { label, support: members.slice(0, nSupport), query: members.slice(nSupport, nSupport + nQuery) };
  });
}

/** Draws one episode (support/query split, never overlapping). */
export function drawEpisode(rows: CachedRows, shape: LoraShape, classes: number[][], opts: EpisodeOptions, rng: Rng): HeadBatch {
  const draws = drawEpisodeClasses(classes, opts, rng);
  const pick: number[] = [], labels: number[] = [], sup: boolean[] = [], qry: boolean[] = [];
  for (const { label, support, query } of draws) {
    [...support, ...query].forEach((row, i) => {
      pick.push(row);
      labels.push(label);
      sup.push(i < support.length);
      qry.push(i >= support.length);
    });
  }
  return gatherBatch(rows, shape, pick, labels, sup, qry, draws.length);
}

/** The task likelihood callback of one training task. */
export function episodicTaskLikelihood(
  layer: LayerSpec, shape: LoraShape, data: LabelledSet, opts: EpisodeOptions,
): TaskLikelihood {
  check(data.features.length === data.labels.length,
    () => `task: expected one label per feature row, got ${data.labels.length} labels for ${data.features.length} rows`);
  const classes = groupByClass(data.labels);
  check(classes.length >= 2, () => `task: expected at least 2 classes, got ${classes.length}`);
  const rows = cacheRows(layer, data.features);
  const headOpts = { tau: opts.tau, reduction: 'mean' as const };
  return {
    size: rows.n,
    gradLogLik(theta, rng) {
      const batch = drawEpisode(rows, shape, classes, opts, rng);
      const out = episodeLoss(layer, shape, theta, batch, headOpts, new Float64Array(theta.length));
      const grad = out.grad;
      for (let i = 0; i < grad.length; i++) grad[i] = -grad[i];
      return { logLik: -out.loss, grad };
    },
  };
}
