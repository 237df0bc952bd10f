/**
 * The evaluation protocol: run one few-shot method on a list of episodes and report accuracy
 * (mean over episodes with a 95% CI), pooled NLL and ECE, and fit+predict time per task.
 *
 * Methods see only feature vectors: the caller supplies `features(example)` (the backbone + feature
 * cache), so every method is compared on the same frozen inputs and the same episodes, and the
 * timing covers the method's own work, not feature extraction.
 */
import type { FewShotMethod } from '../adapters/method.ts';
import { createRng } from '../adapters/rng.ts';
import type { Episode } from './episodes.ts';
import {
  accuracy,
  expectedCalibrationError,
  meanWithCi95,
  negativeLogLikelihood,
} from './metrics.ts';
import type { Example } from './types.ts';

/** What the protocol calls: fit on a support set, return one probability row (length nWay) per query. */
export type EvaluatedMethod = Pick<FewShotMethod, 'name' | 'fitPredict'>;

export interface EpisodeResult {
  readonly index: number;
  readonly accuracy: number;
  readonly nll: number;
  /** Expected calibration error over this episode's queries. */
  readonly ece: number;
  /** Wall time of fitPredict, ms. */
  readonly ms: number;
}

export interface EvalResult {
  readonly method: string;
  readonly episodes: number;
  readonly queries: number;
  /** Mean per-episode accuracy in [0, 1]. */
  readonly accuracy: number;
  /** Half-width of its 95% CI, 1.96·sd/√episodes. */
  readonly ci95: number;
  /** Pooled over all queries. */
  readonly nll: number;
  readonly ece: number;
  readonly msPerTask: number;
  readonly perEpisode: readonly EpisodeResult[];
}

export interface EvalOptions {
  /** Seed of the per-episode streams handed to the method (default 0). */
  readonly seed?: number;
}

function checkRows(method: string, episode: Episode, rows: readonly Float32Array[], nWay: number): void {
  const where = `method ${method}, episode ${episode.index}`;
  if (rows.length !== episode.query.length) {
    throw new Error(`${where}: expected ${episode.query.length} probability rows, got ${rows.length}`);
  }
  for (const row of rows) {
    if (row.length !== nWay) throw new Error(`${where}: expected rows of length ${nWay}, got ${row.length}`);
    if (!row.every(Number.isFinite)) throw new Error(`${where}: probability row has non-finite entries`);
  }
}

export function evaluate(
  method: EvaluatedMethod,
  episodes: readonly Episode[],
  features: (ex: Example) => Float32Array,
  options: EvalOptions = {},
): EvalResult {
  if (episodes.length === 0) throw new Error(`evaluate ${method.name}: no episodes`);
  const root = createRng(options.seed ?? 0);
  const allRows: Float32Array[] = [];
  const allLabels: number[] = [];
  const perEpisode: EpisodeResult[] = [];
  for (const episode of episodes) {
    const nWay = episode.classes.length;
    const support = { features: episode.support.map(features), labels: episode.supportLabels };
    const query = episode.query.map(features);
    const rng = root.fork(`${method.name}:episode:${episode.index}`);
    const start = performance.now();
    const rows = method.fitPredict(support, query, nWay, rng);
    const ms = performance.now() - start;
    checkRows(method.name, episode, rows, nWay);
    perEpisode.push({
      index: episode.index,
      accuracy: accuracy(rows, episode.queryLabels),
      nll: negativeLogLikelihood(rows, episode.queryLabels),
      ece: expectedCalibrationError(rows, episode.queryLabels),
      ms,
    });
    allRows.push(...rows);
    allLabels.push(...episode.queryLabels);
  }
  const acc = meanWithCi95(perEpisode.map((e) => e.accuracy));
  return {
    method: method.name,
    episodes: episodes.length,
    queries: allRows.length,
    accuracy: acc.mean,
    ci95: acc.ci95,
    nll: negativeLogLikelihood(allRows, allLabels),
    ece: expectedCalibrationError(allRows, allLabels),
    msPerTask: perEpisode.reduce((a, e) => a + e.ms, 0) / perEpisode.length,
    perEpisode,
  };
}
