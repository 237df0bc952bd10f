/**
 * Fit and compare: pick a task and methods (grouped by family as the server reports them), run
 * the comparison as a job with live progress, and see accuracy with 95% intervals, NLL and fit
 * time per method, one colour per method with LiFT highlighted. For the chosen row: its
 * reliability diagram, and fitting that method as a stored adapter (name, alias, zoo).
 */
import { useEffect, useState } from 'preact/hooks';
import { enc, get, post, query } from '../api.ts';
import { Chart, isLift, methodColors } from '../chart.tsx';
import { familyOf, groupMethods, loadMethods, methodLabel } from '../methods.ts';
import type { Location } from '../router.ts';
import { href } from '../router.ts';
import { wilson95 } from '../stats.ts';
import type { CompareResult, CompareRow, FitResult, MethodInfo, Page, Task } from '../types.ts';
import { ErrorBox, num, pct, Progress, Section, Show, useLoad } from '../ui.tsx';
import { runCompare } from '../compare-run.ts';
import { ReliabilityDiagram } from './reliability.tsx';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export function TaskPicker({ value, onChange, label = 'Task' }: { value: string; onChange: (id: string) => void; label?: string }) {
  const tasks = useLoad((s) => get<Page<Task>>(`v1/tasks${query({ max_results: 1000 })}`, s), []);
  return (
    <label>{label}
      <select value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        <option value="">choose a task…</option>
        {(tasks.data?.items ?? []).map((t) => <option key={t.id} value={t.id}>{t.id} ({t.modality}, {t.labels.length} labels)</option>)}
        {value && tasks.data && !tasks.data.items.some((t) => t.id === value) && <option value={value}>{value}</option>}
      </select>
    </label>
  );
}

function MethodPicker({ methods, selected, onChange }: { methods: MethodInfo[]; selected: Set<string>; onChange: (s: Set<string>) => void }) {
  const toggle = (name: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(name); else next.delete(name);
    onChange(next);
  };
  return (
    <div class="method-groups">
      {groupMethods(methods).map((g) => (
        <fieldset key={g.family} class={g.family === 'lift' ? 'lift' : ''}>
          <legend>{g.title}</legend>
          <div class="checks">
            {g.methods.map((m) => (
              <label key={m.name}>
                <input type="checkbox" checked={selected.has(m.name)} onChange={(e) => toggle(m.name, (e.target as HTMLInputElement).checked)} />
                <span>{methodLabel(m, m.name)}</span>
              </label>
            ))}
          </div>
        </fieldset>
      ))}
    </div>
  );
}

interface Row extends CompareRow { label: string; lo: number | null; hi: number | null; lift: boolean }

function rowsOf(result: CompareResult, methods: MethodInfo[]): Row[] {
  return result.rows.map((r) => {
    const info = methods.find((m) => m.name === r.method);
    const ci = r.accuracy === null ? null : wilson95(r.accuracy, result.query_size);
    return { ...r, label: methodLabel(info, r.method), lo: ci?.lo ?? null, hi: ci?.hi ?? null, lift: info ? familyOf(info) === 'lift' : isLift(r.method) };
  });
}

function CompareCharts({ rows }: { rows: Row[] }) {
  const ok = rows.filter((r) => r.accuracy !== null);
  if (ok.length === 0) return null;
  const colors = methodColors(ok);
  const values = ok.map((r) => ({ method: r.label, accuracy: r.accuracy, lo: r.lo, hi: r.hi, nll: r.nll, fit_ms: r.fit_ms, lift: r.lift }));
  const y = { field: 'method', type: 'nominal', sort: null, title: null, axis: { labelLimit: 400 } };
  const color = { field: 'method', type: 'nominal', scale: colors, legend: null };
  const stroke = { condition: { test: 'datum.lift', value: '#000' }, value: null };
  const base = { $schema: SCHEMA, width: 'container', data: { values } };
  return (
    <div class="grid3">
      <Chart label="Accuracy per method with 95% intervals" spec={{ ...base, title: 'Accuracy (95% CI)', layer: [
        { mark: { type: 'bar', strokeWidth: 2 }, encoding: { y, x: { field: 'accuracy', type: 'quantitative', axis: { format: '%' }, scale: { domain: [0, 1] }, title: 'accuracy' }, color, stroke,
          tooltip: [{ field: 'method' }, { field: 'accuracy', format: '.1%' }, { field: 'lo', format: '.1%', title: 'CI low' }, { field: 'hi', format: '.1%', title: 'CI high' }] } },
        { mark: { type: 'errorbar', ticks: true, color: '#222' }, encoding: { y, x: { field: 'lo', type: 'quantitative', title: 'accuracy' }, x2: { field: 'hi' } } },
      ] } as never} />
      <Chart label="Negative log-likelihood per method" spec={{ ...base, title: 'NLL (lower is better)', mark: { type: 'bar', strokeWidth: 2 },
        encoding: { y, x: { field: 'nll', type: 'quantitative', title: 'NLL' }, color, stroke, tooltip: [{ field: 'method' }, { field: 'nll', format: '.3f' }] } } as never} />
      <Chart label="Fit time per method" spec={{ ...base, title: 'Fit + predict time (ms)', mark: { type: 'bar', strokeWidth: 2 },
        encoding: { y, x: { field: 'fit_ms', type: 'quantitative', title: 'ms' }, color, stroke, tooltip: [{ field: 'method' }, { field: 'fit_ms', format: '.1f', title: 'ms' }] } } as never} />
    </div>
  );
}

function FitFromResult({ task, row, methods, queries }: { task: string; row: Row; methods: MethodInfo[]; queries: number }) {
  const method = row.method;
  const [name, setName] = useState('');
  const [alias, setAlias] = useState('');
  const [zoo, setZoo] = useState('');
  const [fit, setFit] = useState<FitResult | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => { setFit(null); setError(null); }, [task, method]);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await post<FitResult>(`v1/tasks/${enc(task)}/fit`, { method, ...(name ? { name } : {}), ...(alias ? { alias } : {}), ...(zoo ? { zoo } : {}) });
      setFit(r);
    } catch (err) { setError(err as Error); } finally { setBusy(false); }
  };
  const info = methods.find((m) => m.name === method);
  return (
    <Section title={`${methodLabel(info, method)}: calibration, and fit it`}>
      {row.calibration && <ReliabilityDiagram calibration={row.calibration} queries={queries} title={`Reliability of ${method} on the query set`} />}
      <h3>Fit and store it as an adapter</h3>
      <form class="inline" onSubmit={submit} aria-label="Fit from the result">
        <label>Adapter name<input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} placeholder={`default: ${task}/${method}`} /></label>
        <label>Alias<input value={alias} onInput={(e) => setAlias((e.target as HTMLInputElement).value)} placeholder="e.g. prod" /></label>
        <label>Promote into zoo<input value={zoo} onInput={(e) => setZoo((e.target as HTMLInputElement).value)} placeholder="optional" /></label>
        <button type="submit" disabled={busy}>Fit adapter</button>
      </form>
      {busy && <Progress value={null} label="fitting" />}
      <ErrorBox error={error} />
      {fit && (
        <p role="status" class="ok">
          {fit.created ? 'Stored' : 'Already stored:'} <a href={href('registry', 'adapters', fit.adapter.id)}>{fit.adapter.name} v{fit.adapter.version}</a>
          {fit.alias && <> with alias <strong>{fit.alias.alias}</strong></>} in {Math.round(fit.fit_ms)} ms
          {fit.support_accuracy !== null && <>, support accuracy {pct(fit.support_accuracy)}</>}.{' '}
          <a href={`${href('predict')}?adapter=${enc(fit.adapter.id)}`}>Predict with it</a>
        </p>
      )}
    </Section>
  );
}

export function ComparePage({ loc }: { loc: Location }) {
  const [task, setTask] = useState(loc.params.get('task') ?? '');
  const methods = useLoad(() => loadMethods(), []);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [steps, setSteps] = useState('');
  const [seed, setSeed] = useState('0');
  const [progress, setProgress] = useState<{ value: number | null; label: string } | null>(null);
  const [result, setResult] = useState<CompareResult | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [chosen, setChosen] = useState<string | null>(null);
  useEffect(() => {
    if (!methods.data || selected.size) return;
    setSelected(new Set(methods.data.filter((m) => familyOf(m) !== 'meta-learned').map((m) => m.name)));
  }, [methods.data]); // eslint-disable-line react-hooks/exhaustive-deps
  const run = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setResult(null);
    setChosen(null);
    setProgress({ value: null, label: 'starting' });
    try {
      const body = { methods: [...selected], seed: Number(seed), ...(steps ? { steps: Number(steps) } : {}) };
      const r = await runCompare(task, body, setProgress);
      setResult(r);
      const best = r.rows.filter((x) => x.accuracy !== null).sort((a, b) => (b.accuracy ?? 0) - (a.accuracy ?? 0))[0];
      setChosen(best?.method ?? null);
    } catch (err) { setError(err as Error); } finally { setProgress(null); }
  };
  const rows = result && methods.data ? rowsOf(result, methods.data) : [];
  const chosenRow = rows.find((r) => r.method === chosen);
  return (
    <>
      <h1>Fit &amp; compare</h1>
      <Section title="Compare methods on a task">
        <form onSubmit={run}>
          <div class="filters">
            <TaskPicker value={task} onChange={setTask} />
            <label>Fine-tuning steps<input type="number" min={0} max={2000} value={steps} onInput={(e) => setSteps((e.target as HTMLInputElement).value)} placeholder="server default" /></label>
            <label>Seed<input type="number" min={0} value={seed} onInput={(e) => setSeed((e.target as HTMLInputElement).value)} /></label>
          </div>
          <Show loaded={methods}>{(m) => <MethodPicker methods={m} selected={selected} onChange={setSelected} />}</Show>
          <div class="actions"><button type="submit" disabled={!task || selected.size === 0 || progress !== null}>Run comparison</button></div>
        </form>
        {progress && <><Progress value={progress.value} label={progress.label} /><p aria-live="polite">{progress.label}</p></>}
        <ErrorBox error={error} />
      </Section>
      {result && (
        <Section title={`Results on ${result.task_id}`}>
          <p class="note">{result.support_size} support and {result.query_size} query examples ({result.query_source === 'task' ? "the task's query split" : 'supplied queries'}).
            Accuracy intervals are Wilson 95% intervals over the {result.query_size} queries. Run <a href={href('registry', 'runs', result.run_id)}>{result.run_id}</a>.</p>
          <CompareCharts rows={rows} />
          <table class="compare-table">
            <thead><tr><th>Choose</th><th>Method</th><th class="num">Accuracy</th><th class="num">95% CI</th><th class="num">NLL</th><th class="num">Fit ms</th><th>Note</th></tr></thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.method} class={r.lift ? 'lift' : ''}>
                  <td><input type="radio" name="chosen" aria-label={`Choose ${r.label}`} checked={chosen === r.method} disabled={r.accuracy === null} onChange={() => setChosen(r.method)} /></td>
                  <td>{r.label}</td><td class="num">{pct(r.accuracy)}</td>
                  <td class="num">{r.lo === null ? '—' : `${pct(r.lo)}–${pct(r.hi)}`}</td><td class="num">{num(r.nll)}</td>
                  <td class="num">{num(r.fit_ms, 1)}</td><td>{r.error ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      )}
      {result && chosenRow && methods.data && <FitFromResult task={result.task_id} row={chosenRow} methods={methods.data} queries={result.query_size} />}
    </>
  );
}
