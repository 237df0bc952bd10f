/**
 * Benchmarks: the bundled suites' meta-test reports (reports/*.json, bundled at build time) as
 * interactive charts next to their tables: one colour per method, LiFT highlighted, full names,
 * 95% intervals over episodes; hover a bar or row to pick a method out.
 */
import { useEffect, useState } from 'preact/hooks';
import { Chart, isLift, methodColors } from '../chart.tsx';
import { familyOf, loadMethods, methodLabel } from '../methods.ts';
import type { Location } from '../router.ts';
import { href } from '../router.ts';
import type { MethodInfo } from '../types.ts';
import { num, Section, useLoad } from '../ui.tsx';

interface ReportRow { method: string; shots: number; episodes: number; queries: number; accuracy: number; ci95: number; nll: number; ece: number; msPerTask: number }
interface Report {
  suite: string; trainedOn: string; baseModel: string; createdAt: string;
  protocol: { nWay: number; queriesPerClass: number; episodes: number; episodeSeed: number };
  rows: ReportRow[];
}

const REPORTS = import.meta.glob<Report>('../../../reports/*.json', { import: 'default' });
const reportName = (path: string): string => path.replace(/^.*\//, '').replace(/\.json$/, '');
const NAMES = Object.keys(REPORTS).map(reportName).sort((a, b) => Number(a.includes('-')) - Number(b.includes('-')) || a.localeCompare(b));

const MEASURES = {
  accuracy: { title: 'Accuracy (mean over episodes, 95% CI)', format: '.1%', better: 'higher' },
  nll: { title: 'NLL (pooled over queries)', format: '.3f', better: 'lower' },
  ece: { title: 'Expected calibration error', format: '.3f', better: 'lower' },
  msPerTask: { title: 'Fit + predict ms per task', format: '.1f', better: 'lower' },
} as const;
type Measure = keyof typeof MEASURES;

type Colors = { domain: string[]; range: string[] };

function ShotChart({ rows, measure, colors, label, lift }: { rows: ReportRow[]; measure: Measure; colors: Colors; label: (m: string) => string; lift: (m: string) => boolean }) {
  const m = MEASURES[measure];
  const values = rows.map((r) => ({
    method: label(r.method), value: r[measure], lo: measure === 'accuracy' ? r.accuracy - r.ci95 : null,
    hi: measure === 'accuracy' ? r.accuracy + r.ci95 : null, lift: lift(r.method),
  }));
  const y = { field: 'method', type: 'nominal', sort: null, title: null, axis: { labelLimit: 400 } };
  const layers: object[] = [{
    params: [{ name: 'hover', select: { type: 'point', on: 'pointerover', clear: 'pointerout', fields: ['method'] } }],
    mark: { type: 'bar', strokeWidth: 2.5 },
    encoding: {
      y, x: { field: 'value', type: 'quantitative', title: `${m.title}, ${m.better} is better`, axis: measure === 'accuracy' ? { format: '%' } : {}, scale: { zero: measure !== 'accuracy' } },
      color: { field: 'method', type: 'nominal', scale: colors, legend: null },
      stroke: { condition: { test: 'datum.lift', value: '#000' }, value: null },
      opacity: { condition: { param: 'hover', empty: true, value: 1 }, value: 0.35 },
      tooltip: [{ field: 'method' }, { field: 'value', format: m.format, title: measure }, ...(measure === 'accuracy' ? [{ field: 'lo', format: '.1%', title: 'CI low' }, { field: 'hi', format: '.1%', title: 'CI high' }] : [])],
    },
  }];
  if (measure === 'accuracy') layers.push({ mark: { type: 'errorbar', ticks: true, color: '#222' }, encoding: { y, x: { field: 'lo', type: 'quantitative', title: `${m.title}, ${m.better} is better` }, x2: { field: 'hi' } } });
  return <Chart label={`${m.title} per method`} spec={{ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 'container', data: { values }, layer: layers } as never} />;
}

function ReportView({ report, methods }: { report: Report; methods: MethodInfo[] }) {
  const [measure, setMeasure] = useState<Measure>('accuracy');
  const label = (name: string) => methodLabel(methods.find((m) => m.name === name), name);
  // LiFT's rows: by the server's method table; in an ablation report every row is a LiFT variant
  // and the default configuration is the one highlighted.
  const lift = (name: string) => {
    const info = methods.find((m) => m.name === name);
    return info ? familyOf(info) === 'lift' : isLift(name) || /^default\b/.test(name);
  };
  const order = [...new Set(report.rows.map((r) => r.method))];
  const colors = methodColors(order.map((m) => ({ label: label(m), lift: lift(m) })));
  const shots = [...new Set(report.rows.map((r) => r.shots))].sort((a, b) => a - b);
  const p = report.protocol;
  return (
    <>
      <p class="note">{p.nWay}-way meta-test on <strong>{report.suite}</strong>, meta-trained on <strong>{report.trainedOn}</strong> ({report.baseModel});
        {' '}{p.episodes} episodes per shot count, {p.queriesPerClass} queries per class, episode seed {p.episodeSeed}; every method on the same episodes.
        Accuracy is the mean over episodes ± 95% CI; NLL and ECE pool all queries. Written {new Date(report.createdAt).toLocaleString()}.</p>
      <div class="filters">
        <label>Measure
          <select value={measure} onChange={(e) => setMeasure((e.target as HTMLSelectElement).value as Measure)}>
            {Object.entries(MEASURES).map(([k, v]) => <option key={k} value={k}>{v.title}</option>)}
          </select>
        </label>
      </div>
      {shots.map((k) => {
        const rows = report.rows.filter((r) => r.shots === k);
        const best = Math.max(...rows.map((r) => r.accuracy));
        return (
          <Section key={k} title={`${p.nWay}-way ${k}-shot`}>
            <div class="grid2">
              <ShotChart rows={rows} measure={measure} colors={colors} label={label} lift={lift} />
              <table>
                <caption class="sr-only">{report.suite} {k}-shot results</caption>
                <thead><tr><th>Method</th><th class="num">Accuracy ± 95% CI</th><th class="num">NLL</th><th class="num">ECE</th><th class="num">ms / task</th></tr></thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={r.method} class={lift(r.method) ? 'lift' : ''}>
                      <td><span class="swatch" style={{ background: colors.range[colors.domain.indexOf(label(r.method))] }} aria-hidden="true" />{label(r.method)}</td>
                      <td class="num">{r.accuracy === best ? <strong>{(100 * r.accuracy).toFixed(1)}</strong> : (100 * r.accuracy).toFixed(1)} ± {(100 * r.ci95).toFixed(1)}</td>
                      <td class="num">{num(r.nll)}</td><td class="num">{num(r.ece)}</td><td class="num">{num(r.msPerTask, 1)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </Section>
        );
      })}
    </>
  );
}

export function BenchmarksPage({ loc }: { loc: Location }) {
  const name = loc.parts[1] && NAMES.includes(loc.parts[1]) ? loc.parts[1] : NAMES[0];
  const [report, setReport] = useState<Report | null>(null);
  const methods = useLoad(() => loadMethods().catch(() => []), []);
  useEffect(() => {
    setReport(null);
    const key = Object.keys(REPORTS).find((k) => reportName(k) === name);
    if (key) void REPORTS[key]().then(setReport);
  }, [name]);
  return (
    <>
      <h1>Benchmarks</h1>
      {NAMES.length === 0 ? <p class="muted">No reports were bundled (reports/*.json; npm run eval writes them).</p> : (
        <nav class="tabs" aria-label="Reports">
          {NAMES.map((n) => <a key={n} href={href('benchmarks', n)} aria-current={n === name ? 'page' : undefined}>{n}</a>)}
        </nav>
      )}
      {report && methods.data ? <ReportView report={report} methods={methods.data} /> : NAMES.length > 0 && <p class="muted">Loading…</p>}
    </>
  );
}
