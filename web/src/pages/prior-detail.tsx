/**
 * A LiFT prior: its mixture (weights of the live components, the ones pruning removed), what
 * training measured about the chain, the training curve with burn-in marked, and the run and zoo
 * that made it. Facts come from GET /v1/priors/:id (`diagnostics`, and the training `config`).
 */
import { enc, get } from '../api.ts';
import { Chart } from '../chart.tsx';
import { href } from '../router.ts';
import type { Prior, PriorDiagnostics } from '../types.ts';
import { Facts, num, Section, Show, time, useLoad } from '../ui.tsx';
import { TrainingCurve } from './training-curve.tsx';

interface Component { readonly component: string; readonly weight: number; readonly state: 'live' | 'pruned' }

/** Live components by weight, then the ones training asked for and pruned (weight 0). */
function components(d: PriorDiagnostics): Component[] {
  const live = d.weights.map((weight, k) => ({ component: `k=${k + 1}`, weight, state: 'live' as const }));
  const pruned = Array.from({ length: Math.max(0, d.components_asked - d.weights.length) }, (_, i) => ({
    component: `pruned ${i + 1}`, weight: 0, state: 'pruned' as const,
  }));
  return [...live, ...pruned];
}

function MixtureWeights({ prior, d }: { prior: Prior; d: PriorDiagnostics }) {
  const rows = components(d);
  return (
    <>
      <p>{d.components_live} live of {d.components_asked} asked{d.separation !== null && <>; closest means {num(d.separation, 2)} prior spreads apart</>}.</p>
      <Chart label={`Mixture weights of ${prior.name}`} spec={{
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 'container', height: 160,
        data: { values: rows }, mark: 'bar',
        encoding: {
          x: { field: 'component', type: 'nominal', sort: null, title: 'component', axis: { labelAngle: 0 } },
          y: { field: 'weight', type: 'quantitative', title: 'weight α_k', scale: { domain: [0, 1] } },
          color: { field: 'state', type: 'nominal', scale: { domain: ['live', 'pruned'], range: ['#1f4e79', '#8c959f'] }, title: null },
          tooltip: [{ field: 'component' }, { field: 'weight', format: '.4f' }, { field: 'state' }],
        },
      } as never} />
      <table><thead><tr><th>Component</th><th class="num">Weight</th><th>State</th></tr></thead>
        <tbody>{rows.map((r) => <tr key={r.component} data-component={r.state}><td>{r.component}</td><td class="num">{num(r.weight, 4)}</td><td>{r.state}</td></tr>)}</tbody></table>
      <p class="note">Training starts with K components; online EM removes a component whose weight falls to nothing, so the
        live ones are those that still explain some of the zoo's adapters.</p>
    </>
  );
}

function ChainFacts({ d, sigma2 }: { d: PriorDiagnostics; sigma2: number }) {
  return (
    <Facts rows={[
      ['θ spread √(mean ‖θᵢ − φ‖²)', num(d.theta_spread, 4)], ['expected spread √(D·σ²)', num(d.expected_spread, 4)],
      ['ESS of φ (min / median)', `${num(d.ess_phi_min, 1)} / ${num(d.ess_phi_median, 1)}`], ['ESS of the spread', num(d.ess_spread, 1)],
      ['component variance / σ²', num(d.variance_over_sigma2, 3)], ['σ²', sigma2], ['temperature', d.temperature],
    ]} />
  );
}

export function PriorDetailView({ id }: { id: string }) {
  const prior = useLoad((s) => get<Prior>(`v1/priors/${enc(id)}`, s), [id]);
  return (
    <Show loaded={prior}>{(p) => {
      const d = p.diagnostics;
      const trace = Array.isArray(p.config.logLikTrace) ? (p.config.logLikTrace as number[]) : [];
      const steps = Number(p.config.steps ?? trace.length);
      const burnIn = typeof p.config.burnIn === 'number' ? p.config.burnIn : null;
      const runId = typeof p.config.run_id === 'string' ? p.config.run_id : null;
      const zoo = typeof p.config.zoo === 'string' ? p.config.zoo : null;
      return (
        <>
          <p class="crumbs"><a href={href('registry', 'priors')}>Priors</a> / {p.name}</p>
          <h1>Prior {p.name} <span class="muted">v{p.version}</span></h1>
          <div class="grid2">
            <Section title="Prior">
              <Facts rows={[
                ['id', p.id], ['mixture components K', p.k], ['live components', d?.components_live ?? 'not recorded'], ['dimension D', p.d],
                ['σ² (task spread)', p.sigma2], ['β² (hyper-prior)', p.beta2], ['training tasks', p.training_task_ids.length],
                ['kept samples', p.config.kept], ['seed', p.seed], ['created', time(p.created_ms)],
              ]} />
              <p>
                {runId ? <>Made by run <a href={href('registry', 'runs', runId)}>{runId}</a></> : 'Made outside a recorded run (npm run train).'}
                {zoo && <> from zoo <a href={href('registry', 'zoos', zoo)}>{zoo}</a>{p.config.zoo_version ? ` v${String(p.config.zoo_version)}` : ''}</>}
              </p>
            </Section>
            <Section title="Mixture weights">
              {d ? <MixtureWeights prior={p} d={d} /> : <p class="muted">This prior was stored before training recorded its mixture diagnostics.</p>}
            </Section>
          </div>
          <Section title="Training curve">
            {trace.length > 0
              ? <TrainingCurve points={trace.map((logLik, i) => ({ step: Math.round(((i + 1) * steps) / trace.length), logLik }))} burnIn={burnIn} label={`Training log-likelihood of ${p.name}`} />
              : <p class="muted">No trace stored with this prior.</p>}
          </Section>
          {d && (
            <Section title="Chain diagnostics">
              <ChainFacts d={d} sigma2={p.sigma2} />
              <p class="note">Most directions of θ are not pinned down by a task's few examples, so a chain that samples the model
                spreads the task adapters θᵢ about φ by about √(D·σ²); a spread far below it means they collapsed onto φ. An effective
                sample size (ESS) of a few means the chain mixed slowly and the prior rests on few independent draws.</p>
            </Section>
          )}
          <Section title="Training tasks">
            <p>{p.training_task_ids.slice(0, 200).map((t, i) => <span key={t}>{i > 0 && ', '}<a href={href('registry', 'tasks', t)}>{t}</a></span>)}
              {p.training_task_ids.length > 200 && ` … and ${p.training_task_ids.length - 200} more`}</p>
          </Section>
        </>
      );
    }}</Show>
  );
}
