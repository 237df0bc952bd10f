/**
 * The README results table, generated from the committed reports (reports/<suite>.json) and
 * written between the markers in README.md, so the figures people read are the reports'.
 * Per suite, shot count (and family for mixed suites): frozen prototypes, the best competitor
 * (every method that is not LiFT, each at its settings chosen on validation), LiFT-MAP, the LiFT
 * posterior predictive, and LiFT-MAP minus the best competitor.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isLiftRow, methodTitle, type ReportRow, type SuiteReport } from './report.ts';
import { SUITE_NAMES, SUITE_TITLES, type SuiteName } from './suites.ts';

export const RESULTS_BEGIN = '<!-- results:begin (npm run report:readme writes this table from reports/*.json) -->';
export const RESULTS_END = '<!-- results:end -->';

const cell = (r: ReportRow | undefined): string => (r ? `${(100 * r.accuracy).toFixed(1)} ± ${(100 * r.ci95).toFixed(1)}` : '–');

/** +1.2 / −0.4 / ±0.0 (one decimal, the sign of the rounded value). */
function signed(x: number): string {
  const text = Math.abs(x).toFixed(1);
  return Number(text) === 0 ? '±0.0' : `${x > 0 ? '+' : '−'}${text}`;
}

/** The committed full reports, in suite order (suites never evaluated are left out). */
export function readReports(dir: string): SuiteReport[] {
  return SUITE_NAMES.flatMap((name) => {
    const file = path.join(dir, `${name}.json`);
    return existsSync(file) ? [JSON.parse(readFileSync(file, 'utf8')) as SuiteReport] : [];
  });
}

export function resultsTable(reports: readonly SuiteReport[]): string {
  const lines = [
    '| suite (shots) | frozen prototypes | best competitor | LiFT-MAP | LiFT posterior | LiFT-MAP − best competitor |',
    '|---|---:|---|---:|---:|---:|',
  ];
  const stale = reports.filter((r) => r.settings === undefined);
  for (const report of reports) {
    // † marks a report older than the settings tuned on validation (a re-run is due).
    const title = `${SUITE_TITLES[report.suite as SuiteName] ?? report.suite}${report.settings === undefined ? ' †' : ''}`;
    const groups = new Map<string, ReportRow[]>();
    for (const r of report.rows) {
      const key = `${r.family ?? ''}\u0000${r.shots}`;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    for (const rows of groups.values()) {
      const { family, shots } = rows[0];
      const find = (m: string) => rows.find((r) => r.method === m);
      const competitors = rows.filter((r) => !isLiftRow(r.method));
      const best = competitors.reduce<ReportRow | undefined>((b, r) => (b === undefined || r.accuracy > b.accuracy ? r : b), undefined);
      const map = find('lift-map');
      const gap = map && best ? signed(100 * (map.accuracy - best.accuracy)) : '–';
      const label = family === undefined ? `${title} (${shots})` : `${title}: ${SUITE_TITLES[family as SuiteName] ?? family} (${shots})`;
      lines.push(`| ${label} | ${cell(find('prototypes'))} | ${best ? `${methodTitle(best.method)} ${cell(best)}` : '–'} | ${cell(map)} | ${cell(find('lift-posterior'))} | ${gap} |`);
    }
  }
  if (stale.length > 0) {
    lines.push('', `† ${stale.map((r) => r.suite).join(', ')}: report made before settings were chosen on meta-validation (untuned defaults, earlier LiFT); not yet re-run.`);
  }
  return lines.join('\n');
}

/** `readme` with the text between the markers replaced by `table`; throws when a marker is missing. */
export function withResultsTable(readme: string, table: string): string {
  const begin = readme.indexOf(RESULTS_BEGIN);
  const end = readme.indexOf(RESULTS_END);
  if (begin < 0 || end < begin) throw new Error(`README.md: results markers missing ('${RESULTS_BEGIN}' … '${RESULTS_END}')`);
  return `${readme.slice(0, begin + RESULTS_BEGIN.length)}\n${table}\n${readme.slice(end)}`;
}
