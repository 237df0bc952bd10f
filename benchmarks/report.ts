/**
 * Evaluation reports: one JSON file with every figure (per-episode results left out to keep it
 * small), a Markdown table, and a chart of accuracy ± 95% CI per method and shot count. Methods
 * appear under their full names; LiFT's rows are bold in the table and outlined in the chart;
 * each method keeps one colour, never shared with another.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { METHOD_NAMES, METHOD_TABLE, type MethodName } from '../adapters/method-table.ts';
import { plotBars } from './plot.ts';
import { posteriorVsMapMarkdown, type PosteriorVsMap } from './posterior-vs-map.ts';
import type { EvalResult } from './protocol.ts';

export interface ReportRow extends Omit<EvalResult, 'perEpisode'> {
  readonly shots: number;
  /** Mixed-family suites: the member suite the episodes came from. */
  readonly family?: string;
}

/** The settings a method ran with at one shot count, and where they came from. */
export interface MethodSettings {
  /** 'val': chosen by `npm run tune` on meta-validation; 'default': no tuned choice was recorded. */
  readonly source: 'val' | 'default';
  /** What was chosen (empty: the method's defaults or, for the MAML family, its own inner loop). */
  readonly options: Readonly<Record<string, number | string>>;
  /** The settings as resolved by the method factory. */
  readonly config: Readonly<Record<string, unknown>>;
}

export interface SuiteReport {
  readonly suite: string;
  /** The episodes' split: meta-test for reports, val for ablations (default test). */
  readonly split?: 'val' | 'test';
  readonly trainedOn: string;
  readonly protocol: { nWay: number; queriesPerClass: number; episodes: number; episodeSeed: number };
  readonly createdAt: string;
  readonly methods: Record<string, unknown>;
  readonly baseModel: string;
  readonly rows: readonly ReportRow[];
  /** The LiFT prior the prior-based rows used, with what its chain measured (registry metadata). */
  readonly prior?: { readonly id: string; readonly name: string; readonly version: number; readonly diagnostics: Readonly<Record<string, unknown>> | null };
  /** LiFT posterior predictive vs LiFT-MAP on the same episodes, per shot count (and family). */
  readonly posteriorVsMap?: readonly PosteriorVsMap[];
  /** Where the settings came from (tuned file and its command), or why defaults were used. */
  readonly settings?: { readonly file: string | null; readonly command: string | null; readonly note: string; readonly perMethod: Readonly<Record<string, Readonly<Record<string, MethodSettings>>>> };
}

export function toReportRow(result: EvalResult, shots: number, family?: string): ReportRow {
  const { perEpisode: _, ...rest } = result;
  return family === undefined ? { ...rest, shots } : { ...rest, shots, family };
}

const isMethod = (name: string): name is MethodName => Object.hasOwn(METHOD_TABLE, name);

/** A method's full name for people (the table's title), or the row name as is (ablation variants). */
export const methodTitle = (name: string): string => (isMethod(name) ? METHOD_TABLE[name].title : name);

/** LiFT's own rows (highlighted): the table's prior-based methods. */
export const isLiftRow = (name: string): boolean => isMethod(name) && METHOD_TABLE[name].needsPrior;

/**
 * 20 distinct colours (Tableau 20): a method of the table always gets the colour of its position
 * in the table, other rows (ablation variants) the next free ones in order; more than 20 names
 * would have to repeat, so that throws.
 */
const PALETTE = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac',
  '#a0cbe8', '#ffbe7d', '#ff9d9a', '#86bcb6', '#8cd17d', '#f1ce63', '#d4a6c8', '#fabfd2', '#d7b5a6', '#79706e',
];

export function methodColours(names: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<number>();
  for (const n of names) {
    if (!isMethod(n)) continue;
    const i = METHOD_NAMES.indexOf(n);
    out.set(n, PALETTE[i]);
    used.add(i);
  }
  const free = PALETTE.map((_, i) => i).filter((i) => !used.has(i));
  for (const n of names) {
    if (out.has(n)) continue;
    const i = free.shift();
    if (i === undefined) throw new Error(`report: more than ${PALETTE.length} methods; colours would repeat`);
    out.set(n, PALETTE[i]);
  }
  return out;
}

const pct = (x: number): string => (100 * x).toFixed(1);

/** Chosen options for people: `steps 30, lr 0.01, λ 0.1`; {} for the MAML family is its own loop. */
export function describeSettings(s: MethodSettings): string {
  const c = s.config;
  const parts = Object.entries(s.options).map(([k, v]) => `${k === 'priorScale' ? 'λ' : k} ${v}`);
  if (Object.keys(s.options).length === 0 && typeof c.optimizer === 'string' && c.steps !== undefined) {
    parts.push(`own inner loop as meta-trained (${c.steps} ${c.optimizer} steps, lr ${c.lr})`);
  }
  return `${parts.join(', ') || 'no settings'}${s.source === 'default' ? ' (default: not tuned)' : ''}`;
}

export function toMarkdown(report: SuiteReport): string {
  const { nWay, queriesPerClass, episodes } = report.protocol;
  const byFamily = report.rows.some((r) => r.family !== undefined);
  const lines = [
    `# ${report.suite}: ${nWay}-way ${report.split === 'val' ? 'meta-validation' : 'meta-test'}`,
    '',
    `${episodes} episodes per shot count${byFamily ? ' and family' : ''}, ${queriesPerClass} queries per class, episode seed ${report.protocol.episodeSeed}; ` +
      `meta-trained on \`${report.trainedOn}\`; every method on the same episodes. Accuracy is the mean over episodes ± 95% CI; NLL and ECE pool all queries; ` +
      'ms is fit + predict per task on cached features. LiFT rows in bold.',
    '',
    `| shots |${byFamily ? ' family |' : ''} method | accuracy (%) | NLL | ECE | ms / task |`,
    `|---:|${byFamily ? '---|' : ''}---|---:|---:|---:|---:|`,
  ];
  for (const r of report.rows) {
    const name = isLiftRow(r.method) ? `**${methodTitle(r.method)}**` : methodTitle(r.method);
    lines.push(`| ${r.shots} |${byFamily ? ` ${r.family} |` : ''} ${name} | ${pct(r.accuracy)} ± ${pct(r.ci95)} | ${r.nll.toFixed(3)} | ${r.ece.toFixed(3)} | ${r.msPerTask.toFixed(1)} |`);
  }
  lines.push(...posteriorVsMapMarkdown(report.posteriorVsMap ?? []));
  if (report.prior) lines.push(...priorMarkdown(report.prior));
  if (report.settings) {
    const s = report.settings;
    lines.push('', '## Settings', '', s.note, '', '| method | shots | settings |', '|---|---:|---|');
    for (const [method, perShots] of Object.entries(s.perMethod)) {
      for (const [shots, st] of Object.entries(perShots)) lines.push(`| ${methodTitle(method)} | ${shots} | ${describeSettings(st)} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const num = (v: unknown, digits: number): string => (typeof v === 'number' ? v.toFixed(digits) : '–');

/** What the prior's chain measured (adapters/lift.ts ChainDiagnostics), for people. */
function priorMarkdown(p: NonNullable<SuiteReport['prior']>): string[] {
  const d = p.diagnostics;
  const weights = Array.isArray(d?.weights) ? d.weights.map((w) => num(w, 3)).join(', ') : '–';
  const chain = d === null
    ? 'Its chain diagnostics were not recorded (trained before they were kept).'
    : `Chain: θ_i spread around φ ${num(d.thetaSpread, 2)} against √(Dσ²) = ${num(d.expectedSpread, 2)}; ` +
      `effective sample size of φ (8 random projections) min ${num(d.essPhiMin, 1)}, median ${num(d.essPhiMedian, 1)}, of the spread ${num(d.essSpread, 1)}; ` +
      `live components ${d.componentsLive} of ${d.componentsAsked} asked (weights ${weights}; smallest separation ${num(d.separation, 2)}); ` +
      `component variance / σ² ${num(d.varianceOverSigma2, 3)}; temperature ${d.temperature}.`;
  return ['', '## LiFT prior', '', `\`${p.name}\` v${p.version} (${p.id}). ${chain}`];
}

/** Writes `<dir>/<suite>.json`, `.md` and `.png`; returns the paths. */
export async function writeSuiteReport(dir: string, report: SuiteReport): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, report.suite);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.md`, toMarkdown(report));
  const names = [...new Set(report.rows.map((r) => r.method))];
  const colours = methodColours(names);
  const png = await plotBars(
    `${report.suite}: ${report.protocol.nWay}-way ${report.split === 'val' ? 'val ' : ''}accuracy (95% CI)`,
    'accuracy (%)',
    report.rows.map((r) => ({
      group: r.family === undefined ? `${r.shots}-shot` : `${r.family} ${r.shots}-shot`, name: methodTitle(r.method),
      value: 100 * r.accuracy, low: 100 * (r.accuracy - r.ci95), high: 100 * (r.accuracy + r.ci95),
      colour: colours.get(r.method)!, highlight: isLiftRow(r.method),
    })),
  );
  writeFileSync(`${base}.png`, png);
  return [`${base}.json`, `${base}.md`, `${base}.png`];
}
