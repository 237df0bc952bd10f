/**
 * Evaluation reports: one JSON file with every figure (per-episode results left out to keep it
 * small), a Markdown table, and a chart of accuracy ± 95% CI per method and shot count.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { plotBars } from './plot.ts';
import type { EvalResult } from './protocol.ts';

export interface ReportRow extends Omit<EvalResult, 'perEpisode'> {
  readonly shots: number;
}

export interface SuiteReport {
  readonly suite: string;
  readonly trainedOn: string;
  readonly protocol: { nWay: number; queriesPerClass: number; episodes: number; episodeSeed: number };
  readonly createdAt: string;
  readonly methods: Record<string, unknown>;
  readonly baseModel: string;
  readonly rows: readonly ReportRow[];
}

export function toReportRow(result: EvalResult, shots: number): ReportRow {
  const { perEpisode: _, ...rest } = result;
  return { ...rest, shots };
}

const pct = (x: number): string => (100 * x).toFixed(1);

export function toMarkdown(report: SuiteReport): string {
  const { nWay, queriesPerClass, episodes } = report.protocol;
  const lines = [
    `# ${report.suite}: ${nWay}-way meta-test`,
    '',
    `${episodes} episodes per shot count, ${queriesPerClass} queries per class, episode seed ${report.protocol.episodeSeed}; ` +
      `meta-trained on \`${report.trainedOn}\`. Accuracy is the mean over episodes ± 95% CI; NLL and ECE pool all queries; ` +
      'ms is fit + predict per task on cached features.',
    '',
    '| shots | method | accuracy (%) | NLL | ECE | ms / task |',
    '|---:|---|---:|---:|---:|---:|',
  ];
  for (const r of report.rows) {
    lines.push(`| ${r.shots} | ${r.method} | ${pct(r.accuracy)} ± ${pct(r.ci95)} | ${r.nll.toFixed(3)} | ${r.ece.toFixed(3)} | ${r.msPerTask.toFixed(1)} |`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes `<dir>/<suite>.json`, `.md` and `.png`; returns the paths. */
export async function writeSuiteReport(dir: string, report: SuiteReport): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, report.suite);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.md`, toMarkdown(report));
  const png = await plotBars(
    `${report.suite}: ${report.protocol.nWay}-way accuracy (95% CI)`,
    'accuracy (%)',
    report.rows.map((r) => ({
      group: `${r.shots}-shot`, name: r.method,
      value: 100 * r.accuracy, low: 100 * (r.accuracy - r.ci95), high: 100 * (r.accuracy + r.ci95),
    })),
  );
  writeFileSync(`${base}.png`, png);
  return [`${base}.json`, `${base}.md`, `${base}.png`];
}
