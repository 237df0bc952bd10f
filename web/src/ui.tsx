/** Small shared pieces: loading state of an API read, error box, tables, times and numbers. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.ts';

export interface Loaded<T> { data: T | null; error: Error | null; loading: boolean; reload: () => void }

/** Runs `load` now and whenever a dependency changes; aborts the previous read. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: Error | null; loading: boolean }>({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true, error: null }));
    load(ctl.signal).then(
      (data) => { if (!ctl.signal.aborted) setState({ data, error: null, loading: false }); },
      (error: Error) => { if (!ctl.signal.aborted) setState({ data: null, error, loading: false }); },
    );
    return () => ctl.abort();
  }, [...deps, tick]); // eslint-disable-line react-hooks/exhaustive-deps
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function ErrorBox({ error }: { error: Error | null | undefined }) {
  if (!error) return null;
  const status = error instanceof ApiError ? `${error.status} ${error.code}: ` : '';
  return <div class="error" role="alert">{status}{error.message}</div>;
}

export function Show<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => ComponentChildren }) {
  if (loaded.error) return <ErrorBox error={loaded.error} />;
  if (loaded.data === null) return <p class="muted" aria-live="polite">Loading…</p>;
  return <>{children(loaded.data)}</>;
}

/** A definition list of facts; objects shown as JSON. */
export function Facts({ rows }: { rows: [string, unknown][] }) {
  return (
    <dl class="facts">
      {rows.map(([k, v]) => (
        <div key={k}><dt>{k}</dt><dd>{typeof v === 'object' && v !== null ? <code>{JSON.stringify(v)}</code> : String(v ?? '—')}</dd></div>
      ))}
    </dl>
  );
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="card" aria-label={title}>
      <div class="card-head"><h2>{title}</h2>{actions}</div>
      {children}
    </section>
  );
}

export const time = (ms: number | null | undefined): string => (ms ? new Date(ms).toLocaleString() : '—');
export const pct = (x: number | null | undefined, digits = 1): string => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(digits)}%`);
export const num = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits));
export const short = (id: string): string => (id.length > 14 ? `${id.slice(0, 14)}…` : id);

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  return s < 90 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** A labelled progress bar (role progressbar) with the job's phase k of n and ETA. */
export function Progress({ value, label }: { value: number | null; label: string }) {
  const v = value === null ? null : Math.max(0, Math.min(1, value));
  return (
    <div class="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100}
      aria-valuenow={v === null ? undefined : Math.round(v * 100)} aria-valuetext={label}>
      <div class={v === null ? 'bar indeterminate' : 'bar'} style={v === null ? undefined : { width: `${v * 100}%` }} />
    </div>
  );
}

/** Data-URL of a stored image example. */
export function imageSrc(base64: string): string {
  return base64.startsWith('data:') ? base64 : `data:image/${base64.startsWith('/9j/') ? 'jpeg' : 'png'};base64,${base64}`;
}
