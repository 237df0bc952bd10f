/**
 * Registry detail pages: an adapter (versions, aliases, lineage graph, PEFT download), a task
 * (examples, paged), a zoo (members, versions, train a prior) and a run; a prior's page is
 * prior-detail.tsx.
 */
import { useState } from 'preact/hooks';
import { call, enc, get, post, query } from '../api.ts';
import { href, navigate } from '../router.ts';
import type { Adapter, AdapterDetail, Alias, Example, Items, Job, Lineage, Page, Prior, Run, Task, Zoo, ZooMember, ZooVersion } from '../types.ts';
import { ErrorBox, Facts, imageSrc, Section, short, Show, time, useLoad } from '../ui.tsx';
import { LineageGraph } from './lineage.tsx';

/** The files of a PEFT export (docs/peft.md): PEFT's LoRA, then the head. */
const PEFT_FILES = ['adapter_config.json', 'adapter_model.safetensors', 'lift_head.json', 'lift_head.safetensors'];

const namePath = (name: string): string => name.split('/').map(enc).join('/');

function AliasForm({ adapter, onDone }: { adapter: AdapterDetail; onDone: () => void }) {
  const [alias, setAlias] = useState('');
  const [version, setVersion] = useState(String(adapter.version));
  const [error, setError] = useState<Error | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await call('PUT', `v1/adapter-names/${namePath(adapter.name)}/-/aliases/${enc(alias)}`, { body: { version: Number(version) } });
      setAlias('');
      onDone();
    } catch (err) { setError(err as Error); }
  };
  return (
    <form class="inline" onSubmit={submit} aria-label="Set alias">
      <label>Alias<input required value={alias} pattern="[A-Za-z][A-Za-z0-9_\-]*" onInput={(e) => setAlias((e.target as HTMLInputElement).value)} /></label>
      <label>Version<input type="number" min={1} required value={version} onInput={(e) => setVersion((e.target as HTMLInputElement).value)} /></label>
      <button type="submit">Set alias</button>
      <ErrorBox error={error} />
    </form>
  );
}

export function AdapterDetailView({ id }: { id: string }) {
  const adapter = useLoad((s) => get<AdapterDetail>(`v1/adapters/${enc(id)}`, s), [id]);
  const lineage = useLoad((s) => get<Lineage>(`v1/adapters/${enc(id)}/lineage`, s), [id]);
  const name = adapter.data?.name;
  const versions = useLoad((s) => (name ? get<Page<Adapter>>(`v1/adapters${query({ name, max_results: 100 })}`, s) : Promise.resolve(null)), [name]);
  const aliases = useLoad((s) => (name ? get<Items<Alias>>(`v1/adapter-names/${namePath(name)}/-/aliases`, s) : Promise.resolve(null)), [name]);
  const priorId = adapter.data?.parents.prior_id;
  const prior = useLoad((s) => (priorId ? get<Prior>(`v1/priors/${enc(priorId)}`, s) : Promise.resolve(null)), [priorId]);
  return (
    <Show loaded={adapter}>{(a) => (
      <>
        <p class="crumbs"><a href={href('registry', 'adapters')}>Adapters</a> / {a.name}</p>
        <h1>{a.name} <span class="muted">v{a.version}</span></h1>
        <div class="grid2">
          <Section title="Adapter">
            <Facts rows={[
              ['id', a.id], ['method', a.method], ['labels', a.labels.join(', ')], ['rank / alpha', `${a.rank} / ${a.alpha}`],
              ['task', a.task_id], ['aliases of this version', a.aliases.join(', ') || '—'], ['content hash', short(a.content_hash)],
              ['created', time(a.created_ms)], ['metrics', a.metrics], ['training config', a.training_config],
              ['parameters', Object.entries(a.parameters).map(([k, v]) => `${k}: ${v.length}`).join(', ')],
            ]} />
            <div class="actions">
              {a.task_id && <a class="button" href={href('registry', 'tasks', a.task_id)}>Task</a>}
              <a class="button" href={`${href('predict')}?adapter=${enc(a.id)}`}>Predict with it</a>
              {PEFT_FILES.map((file) => <a class="button" href={`v1/adapters/${enc(a.id)}/peft/${file}`} download={file}>Download {file}</a>)}
            </div>
          </Section>
          <Section title="Lineage">
            <Show loaded={lineage}>{(l) => <LineageGraph lineage={l} adapterId={a.id} zoo={(prior.data?.config.zoo as string | undefined) ?? null} />}</Show>
          </Section>
        </div>
        <div class="grid2">
          <Section title="Versions">
            <Show loaded={versions}>{(v) => (
              <table>
                <thead><tr><th>Version</th><th>Method</th><th>Created</th></tr></thead>
                <tbody>
                  {(v?.items ?? []).map((x) => (
                    <tr key={x.id}><td>{x.id === a.id ? <strong>v{x.version} (this)</strong> : <a href={href('registry', 'adapters', x.id)}>v{x.version}</a>}</td><td>{x.method}</td><td>{time(x.created_ms)}</td></tr>
                  ))}
                </tbody>
              </table>
            )}</Show>
          </Section>
          <Section title="Aliases">
            <Show loaded={aliases}>{(al) => (
              <ul class="plain">
                {(al?.items ?? []).map((x) => <li key={x.alias}><strong>{x.alias}</strong> → v{x.version} <span class="muted">({time(x.updated_ms)})</span></li>)}
                {al?.items.length === 0 && <li class="muted">No aliases.</li>}
              </ul>
            )}</Show>
            <AliasForm adapter={a} onDone={() => { aliases.reload(); adapter.reload(); }} />
          </Section>
        </div>
      </>
    )}</Show>
  );
}

const EXAMPLES_PER_PAGE = 20;

export function TaskDetailView({ id }: { id: string }) {
  const task = useLoad((s) => get<Task>(`v1/tasks/${enc(id)}`, s), [id]);
  const [split, setSplit] = useState('');
  const [page, setPage] = useState(0);
  const examples = useLoad((s) => get<Items<Example>>(`v1/tasks/${enc(id)}/examples${query({ split })}`, s), [id, split]);
  const adapters = useLoad((s) => get<Page<Adapter>>(`v1/adapters${query({ task_id: id, max_results: 50 })}`, s), [id]);
  return (
    <Show loaded={task}>{(t) => (
      <>
        <p class="crumbs"><a href={href('registry', 'tasks')}>Tasks</a> / {t.id}</p>
        <h1>{t.name}</h1>
        <div class="grid2">
          <Section title="Task">
            <Facts rows={[['id', t.id], ['modality', t.modality], ['labels', t.labels.join(', ')],
              ['support / query examples', `${t.example_counts.support ?? 0} / ${t.example_counts.query ?? 0}`], ['created', time(t.created_ms)]]} />
            <div class="actions">
              <a class="button" href={`${href('compare')}?task=${enc(t.id)}`}>Fit &amp; compare</a>
              <a class="button" href={`${href('predict')}?task=${enc(t.id)}`}>Predict</a>
            </div>
          </Section>
          <Section title="Adapters of this task">
            <Show loaded={adapters}>{(p) => (
              <ul class="plain">
                {p.items.map((a) => <li key={a.id}><a href={href('registry', 'adapters', a.id)}>{a.name} v{a.version}</a> <span class="muted">{a.method}</span></li>)}
                {p.items.length === 0 && <li class="muted">None yet.</li>}
              </ul>
            )}</Show>
          </Section>
        </div>
        <Section title="Examples">
          <div class="filters">
            <label>Split
              <select value={split} onChange={(e) => { setPage(0); setSplit((e.target as HTMLSelectElement).value); }}>
                <option value="">all</option><option value="support">support</option><option value="query">query</option>
              </select>
            </label>
          </div>
          <Show loaded={examples}>{(ex) => {
            const pages = Math.max(1, Math.ceil(ex.items.length / EXAMPLES_PER_PAGE));
            const shown = ex.items.slice(page * EXAMPLES_PER_PAGE, (page + 1) * EXAMPLES_PER_PAGE);
            return (
              <>
                <table>
                  <thead><tr><th>Label</th><th>Split</th><th>Input</th></tr></thead>
                  <tbody>
                    {shown.map((e) => (
                      <tr key={e.hash + e.split}>
                        <td>{e.label}</td><td>{e.split}</td>
                        <td>{e.text ?? (e.image_base64 ? <img class="thumb" src={imageSrc(e.image_base64)} alt={`example labelled ${e.label}`} /> : '')}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <div class="pager">
                  <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>Previous page</button>
                  <span>page {page + 1} of {pages} ({ex.items.length} examples)</span>
                  <button type="button" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>Next page</button>
                </div>
              </>
            );
          }}</Show>
        </Section>
      </>
    )}</Show>
  );
}

function TrainPriorForm({ zoo }: { zoo: Zoo }) {
  const [cfg, setCfg] = useState({ steps: '2000', burnIn: '500', K: '4' });
  const [error, setError] = useState<Error | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const { job } = await post<{ job: Job }>('v1/priors', { zoo: zoo.name, config: { steps: Number(cfg.steps), burnIn: Number(cfg.burnIn), K: Number(cfg.K) } });
      navigate(href('jobs', job.id));
    } catch (err) { setError(err as Error); }
  };
  const field = (k: keyof typeof cfg, label: string) => (
    <label>{label}<input type="number" min={0} required value={cfg[k]} onInput={(e) => setCfg({ ...cfg, [k]: (e.target as HTMLInputElement).value })} /></label>
  );
  return (
    <form class="inline" onSubmit={submit} aria-label="Train a prior">
      {field('steps', 'SGLD steps')}{field('burnIn', 'Burn-in steps')}{field('K', 'Mixture components K')}
      <button type="submit">Train prior (job)</button>
      <ErrorBox error={error} />
    </form>
  );
}

export function ZooDetailView({ name }: { name: string }) {
  const zoo = useLoad((s) => get<Zoo & { versions: ZooVersion[] }>(`v1/zoos/${enc(name)}`, s), [name]);
  const members = useLoad((s) => get<{ items: ZooMember[]; version: number }>(`v1/zoos/${enc(name)}/members`, s), [name]);
  const priors = useLoad((s) => get<Page<Prior>>(`v1/priors${query({ name: `lift/${name}` })}`, s), [name]);
  const runs = useLoad((s) => get<Page<Run>>(`v1/runs${query({ zoo: name, max_results: 20 })}`, s), [name]);
  return (
    <Show loaded={zoo}>{(z) => (
      <>
        <p class="crumbs"><a href={href('registry', 'zoos')}>Zoos</a> / {z.name}</p>
        <h1>Zoo {z.name} <span class="muted">v{z.version}</span></h1>
        <div class="grid2">
          <Section title="Zoo">
            <Facts rows={[['description', z.description], ['members', z.member_count], ['base model', short(z.base_model_sha256)], ['updated', time(z.updated_ms)]]} />
            <h3>Train a LiFT prior from this zoo</h3>
            <TrainPriorForm zoo={z} />
          </Section>
          <Section title="Priors trained from it">
            <Show loaded={priors}>{(p) => (
              <ul class="plain">
                {p.items.map((pr) => <li key={pr.id}><a href={href('registry', 'priors', pr.id)}>{pr.name} v{pr.version}</a> <span class="muted">K={pr.k}, {time(pr.created_ms)}</span></li>)}
                {p.items.length === 0 && <li class="muted">None yet.</li>}
              </ul>
            )}</Show>
            <h3>Runs</h3>
            <Show loaded={runs}>{(p) => (
              <ul class="plain">
                {p.items.map((r) => <li key={r.id}><a href={href('registry', 'runs', r.id)}>{r.name}</a> <span class="muted">{r.kind}, {r.status}</span></li>)}
                {p.items.length === 0 && <li class="muted">None yet.</li>}
              </ul>
            )}</Show>
          </Section>
        </div>
        <Section title={`Members (v${members.data?.version ?? z.version})`}>
          <Show loaded={members}>{(m) => (
            <table>
              <thead><tr><th>Adapter</th><th>Method</th><th>Task</th><th>Labels</th><th>Added in</th></tr></thead>
              <tbody>
                {m.items.map((x) => (
                  <tr key={x.adapter.id}>
                    <td><a href={href('registry', 'adapters', x.adapter.id)}>{x.adapter.name} v{x.adapter.version}</a></td><td>{x.adapter.method}</td>
                    <td>{x.task_id ? <a href={href('registry', 'tasks', x.task_id)}>{x.task_id}</a> : '—'}</td><td>{x.labels.join(', ')}</td><td>v{x.added_version}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}</Show>
        </Section>
        <Section title="Versions">
          <table>
            <thead><tr><th>Version</th><th>Members</th><th>Note</th><th>Created</th></tr></thead>
            <tbody>{z.versions.map((v) => <tr key={v.version}><td>v{v.version}</td><td>{v.member_count}</td><td>{v.note ?? ''}</td><td>{time(v.created_ms)}</td></tr>)}</tbody>
          </table>
        </Section>
      </>
    )}</Show>
  );
}

export function RunDetailView({ id }: { id: string }) {
  const run = useLoad((s) => get<Run>(`v1/runs/${enc(id)}`, s), [id]);
  return (
    <Show loaded={run}>{(r) => (
      <>
        <h1>Run {r.name}</h1>
        <Section title="Run">
          <Facts rows={[['id', r.id], ['kind', r.kind], ['status', r.status], ['started', time(r.started_ms)], ['duration (ms)', r.duration_ms],
            ['params', r.params], ['metrics', r.metrics], ['refs', r.refs], ['code version', r.code_version], ['error', r.error]]} />
        </Section>
      </>
    )}</Show>
  );
}
