/**
 * LiFT's posterior predictive judged against its MAP fit, as the reports state it: per shot count
 * (and family), each one's NLL and ECE as a mean over episodes with a 95% CI, and the paired
 * difference posterior − MAP. Both ran on the very same episodes, so the paired CI is the sharper
 * test; the unpaired CIs are what "non-overlapping intervals" is read from.
 */
import { meanWithCi95, type MeanCi } from './metrics.ts';
import type { EpisodeResult } from './protocol.ts';

export interface PosteriorVsMap {
  readonly shots: number;
  readonly family?: string;
  readonly nllMap: MeanCi;
  readonly nllPosterior: MeanCi;
  /** Per episode, posterior − MAP (negative: the posterior is better). */
  readonly nllDiff: MeanCi;
  readonly eceMap: MeanCi;
  readonly ecePosterior: MeanCi;
  readonly eceDiff: MeanCi;
}

function paired(map: readonly EpisodeResult[], posterior: readonly EpisodeResult[], key: 'nll' | 'ece'): MeanCi {
  return meanWithCi95(map.map((e, i) => posterior[i][key] - e[key]));
}

export function posteriorVsMap(map: readonly EpisodeResult[], posterior: readonly EpisodeResult[], shots: number, family?: string): PosteriorVsMap {
  if (map.length !== posterior.length || map.some((e, i) => e.index !== posterior[i].index)) {
    throw new Error('posteriorVsMap: MAP and posterior must run on the same episodes, in the same order');
  }
  return {
    shots,
    ...(family === undefined ? {} : { family }),
    nllMap: meanWithCi95(map.map((e) => e.nll)),
    nllPosterior: meanWithCi95(posterior.map((e) => e.nll)),
    nllDiff: paired(map, posterior, 'nll'),
    eceMap: meanWithCi95(map.map((e) => e.ece)),
    ecePosterior: meanWithCi95(posterior.map((e) => e.ece)),
    eceDiff: paired(map, posterior, 'ece'),
  };
}

const ci = (m: MeanCi): string => `${m.mean.toFixed(3)} ± ${m.ci95.toFixed(3)}`;
const signed = (m: MeanCi): string => `${m.mean >= 0 ? '+' : '−'}${Math.abs(m.mean).toFixed(3)} ± ${m.ci95.toFixed(3)}`;

/** The section of a report's Markdown (empty when the run had not both LiFT rows). */
export function posteriorVsMapMarkdown(rows: readonly PosteriorVsMap[]): string[] {
  if (rows.length === 0) return [];
  const byFamily = rows.some((r) => r.family !== undefined);
  return [
    '', '## LiFT posterior predictive vs LiFT-MAP', '',
    'Per episode (mean ± 95% CI over episodes), and the paired difference posterior − MAP on the same episodes (negative: the posterior is better; ' +
      'a CI that excludes 0 is a real difference). ECE here is per episode (75 queries, so higher than the pooled ECE of the main table).', '',
    `| shots |${byFamily ? ' family |' : ''} NLL MAP | NLL posterior | Δ NLL | ECE MAP | ECE posterior | Δ ECE |`,
    `|---:|${byFamily ? '---|' : ''}---:|---:|---:|---:|---:|---:|`,
    ...rows.map((r) => `| ${r.shots} |${byFamily ? ` ${r.family} |` : ''} ${ci(r.nllMap)} | ${ci(r.nllPosterior)} | ${signed(r.nllDiff)} | ${ci(r.eceMap)} | ${ci(r.ecePosterior)} | ${signed(r.eceDiff)} |`),
  ];
}
