/**
 * Registry browser: lists of adapters (searchable as in the API), tasks, zoos, priors and base
 * models, and a detail page for each (registry-detail.tsx).
 */
import { useState } from 'preact/hooks';
import { enc, get, query } from '../api.ts';
import type { Location } from '../router.ts';
import { href } from '../router.ts';
import type { Adapter, BaseModel, Items, Page, Prior, Task, Zoo } from '../types.ts';
import { Section, Show, short, time, useLoad } from '../ui.tsx';
import { PriorDetailView } from './prior-detail.tsx';
import { AdapterDetailView, RunDetailView, TaskDetailView, ZooDetailView } from './registry-detail.tsx';

const TABS = [
  { path: 'adapters', title: 'Adapters' },
  { path: 'tasks', title: 'Tasks' },
  { path: 'zoos', title: 'Zoos' },
  { path: 'priors', title: 'Priors' },
  { path: 'base-models', title: 'Base models' },
] as const;

/** Pages through a token-paged list: the tokens seen so far make "previous" possible. */
function usePaging() {
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const token = tokens[tokens.length - 1];
  return {
    token,
    page: tokens.length,
    next: (t: string) => setTokens([...tokens, t]),
    prev: () => setTokens(tokens.slice(0, -1)),
    reset: () => setTokens([undefined]),
  };
}

function Pager({ paging, next }: { paging: ReturnType<typeof usePaging>; next: string | null }) {
  return (
    <div class="pager">
      <button type="button" disabled={paging.page === 1} onClick={paging.prev}>Previous page</button>
      <span>page {paging.page}</span>
      <button type="button" disabled={!next} onClick={() => next && paging.next(next)}>Next page</button>
    </div>
  );
}

function AdapterList() {
  const [filter, setFilter] = useState({ name: '', method: '', task_id: '', alias: '' });
  const [applied, setApplied] = useState(filter);
  const paging = usePaging();
  const page = useLoad((s) => get<Page<Adapter>>(`v1/adapters${query({ ...applied, page_token: paging.token, max_results: 25 })}`, s), [applied, paging.token]);
  const field = (k: keyof typeof filter, label: string) => (
    <label>{label}
      <input type="search" value={filter[k]} onInput={(e) => setFilter({ ...filter, [k]: (e.target as HTMLInputElement).value })} />
    </label>
  );
  return (
    <Section title="Adapters">
      <form class="filters" role="search" aria-label="Search adapters" onSubmit={(e) => { e.preventDefault(); paging.reset(); setApplied(filter); }}>
        {field('name', 'Name')}{field('method', 'Method')}{field('task_id', 'Task id')}{field('alias', 'Alias')}
        <button type="submit">Search</button>
      </form>
      <Show loaded={page}>{(p) => (
        <>
          <table>
            <caption class="sr-only">Adapters</caption>
            <thead><tr><th>Name</th><th>Version</th><th>Method</th><th>Task</th><th>Labels</th><th class="wide">Created</th></tr></thead>
            <tbody>
              {p.items.map((a) => (
                <tr key={a.id}>
                  <td><a href={href('registry', 'adapters', a.id)}>{a.name}</a></td>
                  <td>v{a.version}</td><td>{a.method}</td>
                  <td>{a.task_id ? <a href={href('registry', 'tasks', a.task_id)}>{a.task_id}</a> : '—'}</td>
                  <td>{a.labels.join(', ')}</td><td class="wide">{time(a.created_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {p.items.length === 0 && <p class="muted">No adapters match.</p>}
          <Pager paging={paging} next={p.next_page_token} />
        </>
      )}</Show>
    </Section>
  );
}

function TaskList() {
  const [modality, setModality] = useState('');
  const paging = usePaging();
  const page = useLoad((s) => get<Page<Task>>(`v1/tasks${query({ modality, page_token: paging.token, max_results: 25 })}`, s), [modality, paging.token]);
  return (
    <Section title="Tasks" actions={<a class="button" href={href('new-task')}>New task</a>}>
      <div class="filters">
        <label>Modality
          <select value={modality} onChange={(e) => { paging.reset(); setModality((e.target as HTMLSelectElement).value); }}>
            <option value="">any</option><option value="text">text</option><option value="image">image</option>
          </select>
        </label>
      </div>
      <Show loaded={page}>{(p) => (
        <>
          <table>
            <caption class="sr-only">Tasks</caption>
            <thead><tr><th>Id</th><th>Name</th><th>Modality</th><th>Labels</th><th>Support / query</th><th class="wide">Created</th></tr></thead>
            <tbody>
              {p.items.map((t) => (
                <tr key={t.id}>
                  <td><a href={href('registry', 'tasks', t.id)}>{t.id}</a></td><td>{t.name}</td><td>{t.modality}</td>
                  <td>{t.labels.join(', ')}</td><td>{t.example_counts.support ?? 0} / {t.example_counts.query ?? 0}</td><td class="wide">{time(t.created_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {p.items.length === 0 && <p class="muted">No tasks yet.</p>}
          <Pager paging={paging} next={p.next_page_token} />
        </>
      )}</Show>
    </Section>
  );
}

function ZooList() {
  const paging = usePaging();
  const page = useLoad((s) => get<Page<Zoo>>(`v1/zoos${query({ page_token: paging.token, max_results: 25 })}`, s), [paging.token]);
  return (
    <Section title="Zoos">
      <Show loaded={page}>{(p) => (
        <>
          <table>
            <caption class="sr-only">Zoos</caption>
            <thead><tr><th>Name</th><th>Version</th><th>Members</th><th>Description</th><th class="wide">Updated</th></tr></thead>
            <tbody>
              {p.items.map((z) => (
                <tr key={z.name}>
                  <td><a href={href('registry', 'zoos', z.name)}>{z.name}</a></td><td>v{z.version}</td><td>{z.member_count}</td>
                  <td>{z.description ?? ''}</td><td class="wide">{time(z.updated_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {p.items.length === 0 && <p class="muted">No zoos yet: fit an adapter with "promote into zoo", or train one with npm run train.</p>}
          <Pager paging={paging} next={p.next_page_token} />
        </>
      )}</Show>
    </Section>
  );
}

function PriorList() {
  const [name, setName] = useState('');
  const paging = usePaging();
  const page = useLoad((s) => get<Page<Prior>>(`v1/priors${query({ name, page_token: paging.token, max_results: 25 })}`, s), [name, paging.token]);
  return (
    <Section title="Priors">
      <div class="filters">
        <label>Name<input type="search" value={name} onChange={(e) => { paging.reset(); setName((e.target as HTMLInputElement).value); }} /></label>
      </div>
      <Show loaded={page}>{(p) => (
        <>
          <table>
            <caption class="sr-only">Priors</caption>
            <thead><tr><th>Name</th><th>Version</th><th>Components K</th><th>Dimension</th><th>σ²</th><th>Training tasks</th><th class="wide">Created</th></tr></thead>
            <tbody>
              {p.items.map((pr) => (
                <tr key={pr.id}>
                  <td><a href={href('registry', 'priors', pr.id)}>{pr.name}</a></td><td>v{pr.version}</td><td>{pr.k}</td><td>{pr.d}</td>
                  <td>{pr.sigma2}</td><td>{pr.training_task_ids.length}</td><td>{time(pr.created_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {p.items.length === 0 && <p class="muted">No priors yet: train one from a zoo (Zoos tab).</p>}
          <Pager paging={paging} next={p.next_page_token} />
        </>
      )}</Show>
    </Section>
  );
}

function BaseModelList() {
  const models = useLoad((s) => get<Items<BaseModel>>('v1/base-models', s), []);
  return (
    <Section title="Base models">
      <Show loaded={models}>{(m) => (
        <table>
          <caption class="sr-only">Base models</caption>
          <thead><tr><th>Name</th><th>Modality</th><th>Features</th><th>LoRA placement</th><th>sha256</th></tr></thead>
          <tbody>
            {m.items.map((b) => (
              <tr key={b.sha256}>
                <td>{b.name}</td><td>{b.modality}</td><td>{b.feature_dim}</td>
                <td>{b.placement.map((p) => `${p.layer} (${p.in_dim}→${p.out_dim}, ${p.activation})`).join('; ')}</td>
                <td><code title={b.sha256}>{short(b.sha256)}</code></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}</Show>
    </Section>
  );
}

const LISTS = { adapters: AdapterList, tasks: TaskList, zoos: ZooList, priors: PriorList, 'base-models': BaseModelList } as const;

export function RegistryPage({ loc }: { loc: Location }) {
  const [, tab = 'adapters', id] = loc.parts;
  if (id !== undefined) {
    if (tab === 'adapters') return <AdapterDetailView id={id} />;
    if (tab === 'tasks') return <TaskDetailView id={id} />;
    if (tab === 'zoos') return <ZooDetailView name={id} />;
    if (tab === 'priors') return <PriorDetailView id={id} />;
    if (tab === 'runs') return <RunDetailView id={id} />;
  }
  const List = LISTS[tab as keyof typeof LISTS] ?? AdapterList;
  return (
    <>
      <h1>Registry</h1>
      <nav class="tabs" aria-label="Registry lists">
        {TABS.map((t) => <a key={t.path} href={href('registry', t.path)} aria-current={t.path === tab ? 'page' : undefined}>{t.title}</a>)}
      </nav>
      <List />
    </>
  );
}

export const adapterPath = (name: string): string => name.split('/').map(enc).join('/');
