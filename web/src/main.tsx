/**
 * The console shell: navigation, the API-key control, the 401 banner, and the page for the
 * current hash route.
 */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, getApiKey, onUnauthorized, setApiKey } from './api.ts';
import { BenchmarksPage } from './pages/benchmarks.tsx';
import { ComparePage } from './pages/compare.tsx';
import { JobsPage } from './pages/jobs.tsx';
import { NewTaskPage } from './pages/new-task.tsx';
import { PredictPage } from './pages/predict.tsx';
import { RegistryPage } from './pages/registry.tsx';
import { href, useLocation } from './router.ts';
import './style.css';

const PAGES = [
  { path: 'registry', title: 'Registry', page: RegistryPage },
  { path: 'new-task', title: 'New task', page: NewTaskPage },
  { path: 'compare', title: 'Fit & compare', page: ComparePage },
  { path: 'predict', title: 'Predict', page: PredictPage },
  { path: 'jobs', title: 'Jobs', page: JobsPage },
  { path: 'benchmarks', title: 'Benchmarks', page: BenchmarksPage },
] as const;

function KeyControl({ refused }: { refused: ApiError | null }) {
  const [key, setKey] = useState(getApiKey());
  const [draft, setDraft] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const update = () => setKey(getApiKey());
    window.addEventListener('api-key-changed', update);
    return () => window.removeEventListener('api-key-changed', update);
  }, []);
  useEffect(() => { if (refused) input.current?.focus(); }, [refused]);
  const save = (e: Event) => {
    e.preventDefault();
    setApiKey(draft.trim());
    setDraft('');
  };
  if (key && !refused) {
    return (
      <div class="key">
        <span>API key set</span>
        <button type="button" class="link" onClick={() => setApiKey(null)}>Forget key</button>
      </div>
    );
  }
  return (
    <form class="key" onSubmit={save}>
      <label for="api-key">API key</label>
      <input id="api-key" ref={input} type="password" autoComplete="off" value={draft}
        onInput={(e) => setDraft((e.target as HTMLInputElement).value)} placeholder="if the server has one" />
      <button type="submit">Use key</button>
    </form>
  );
}

function App() {
  const loc = useLocation();
  const [refused, setRefused] = useState<ApiError | null>(null);
  // When a read was refused, a new key remounts the page so it reads again; after a refused
  // change it does not, so a filled-in form survives entering the key.
  const readRefused = useRef(false);
  const [keyGeneration, setKeyGeneration] = useState(0);
  useEffect(() => onUnauthorized((err, read) => { readRefused.current = read; setRefused(err); }), []);
  useEffect(() => {
    const changed = () => {
      setRefused(null);
      if (readRefused.current) setKeyGeneration((g) => g + 1);
      readRefused.current = false;
    };
    window.addEventListener('api-key-changed', changed);
    return () => window.removeEventListener('api-key-changed', changed);
  }, []);
  const current = PAGES.find((p) => p.path === loc.parts[0]) ?? PAGES[0];
  useEffect(() => { document.title = `${current.title} · LiFT zoo`; }, [current]);
  const Page = current.page;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <header>
        <a class="brand" href={href('registry')}>LiFT zoo</a>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}><a href={href(p.path)} aria-current={p === current ? 'page' : undefined}>{p.title}</a></li>
            ))}
          </ul>
        </nav>
        <KeyControl refused={refused} />
      </header>
      {refused && (
        <div class="banner" role="alert">
          The server refused the request: {refused.message}. Enter the API key to continue.
        </div>
      )}
      <main id="main" tabIndex={-1}>
        <Page key={keyGeneration} loc={loc} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
