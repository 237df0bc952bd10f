/**
 * Jobs: the list (filter by status and kind, as the server lists them; cancel a running one), and
 * one job watched live through its server-sent events (job-watch.ts), with phase k of n,
 * progress, ETA, the log-likelihood trace of a training job, the result, and cancel.
 */
import { useEffect, useState } from 'preact/hooks';
import { enc, get, post, query } from '../api.ts';
import { FINISHED, subscribeJob } from '../job-watch.ts';
import type { Location } from '../router.ts';
import { href } from '../router.ts';
import { queryChoices } from '../query-choices.ts';
import type { Job, Page } from '../types.ts';
import { TrainingCurve } from './training-curve.tsx';
import { duration, ErrorBox, Progress, Section, Show, time, useLoad } from '../ui.tsx';

/** The job, kept current until it finishes (see job-watch.ts). */
export function useJob(id: string | null): { job: Job | null; error: Error | null } {
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    if (id === null) return;
    setJob(null);
    setError(null);
    return subscribeJob(id, setJob, setError);
  }, [id]);
  return { job, error };
}

/** The burn-in a training job was asked for, if any. */
function burnInOf(job: Job): number | null {
  const b = (job.params.config as Record<string, unknown> | undefined)?.burnIn;
  return typeof b === 'number' ? b : null;
}

export function jobLabel(j: Job): string {
  if (FINISHED.has(j.status)) return j.status;
  if (j.status === 'queued') return 'queued';
  const phase = j.phase ? `phase ${j.phase_index} of ${j.phase_count}: ${j.phase}` : 'running';
  const eta = j.eta_ms !== null ? `, about ${duration(j.eta_ms)} left` : '';
  return `${phase}, ${Math.round(100 * j.progress)}%${eta}`;
}

/** Links to what a finished job made. */
function ResultLinks({ job }: { job: Job }) {
  const r = job.result ?? {};
  const prior = r.prior as { id?: string; name?: string; version?: number } | undefined;
  return (
    <ul class="plain">
      {prior?.id && <li>Prior: <a href={href('registry', 'priors', prior.id)}>{prior.name} v{prior.version}</a></li>}
      {job.run_id && <li>Run: <a href={href('registry', 'runs', job.run_id)}>{job.run_id}</a></li>}
    </ul>
  );
}

export function JobView({ id }: { id: string }) {
  const { job, error } = useJob(id);
  const [cancelError, setCancelError] = useState<Error | null>(null);
  if (error) return <ErrorBox error={error} />;
  if (!job) return <p class="muted">Loading…</p>;
  const running = !FINISHED.has(job.status);
  const cancel = async () => {
    setCancelError(null);
    try { await post(`v1/jobs/${enc(job.id)}/cancel`); } catch (err) { setCancelError(err as Error); }
  };
  return (
    <>
      <p class="crumbs"><a href={href('jobs')}>Jobs</a> / {job.id}</p>
      <h1>Job {job.kind} <span class={`status status-${job.status}`} data-status={job.status}>{job.status}</span></h1>
      <Section title="Progress">
        <Progress value={job.status === 'succeeded' ? 1 : job.progress} label={jobLabel(job)} />
        <p aria-live="polite" class="job-phase">{jobLabel(job)}</p>
        <p class="muted">Created {time(job.created_at)}{job.started_at && `, started ${time(job.started_at)}`}{job.finished_at && `, finished ${time(job.finished_at)} (${duration(job.finished_at - (job.started_at ?? job.created_at))})`}</p>
        {running && <button type="button" onClick={cancel}>Cancel job</button>}
        <ErrorBox error={cancelError} />
        {job.error && <div class="error" role="alert">{job.error}</div>}
        {job.status === 'succeeded' && <ResultLinks job={job} />}
      </Section>
      {job.trace.length > 0 && (
        <Section title="Log-likelihood trace">
          <TrainingCurve points={job.trace.map((p) => ({ step: p.step, logLik: p.log_lik }))} burnIn={burnInOf(job)} label={`Training log-likelihood of job ${job.id}`} />
        </Section>
      )}
      <Section title="Parameters and result">
        <pre class="json" tabIndex={0} aria-label="Parameters and result as JSON">{JSON.stringify({ params: job.params, result: job.result }, null, 2)}</pre>
      </Section>
    </>
  );
}

/** A filter over one of the list's enum parameters; free text when the server's choices are unknown. */
function Choice({ label, value, choices, onChange }: { label: string; value: string; choices: string[] | undefined; onChange: (v: string) => void }) {
  return (
    <label>{label}
      {choices
        ? <select value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
          <option value="">any</option>{choices.map((c) => <option key={c} value={c}>{c}</option>)}
        </select>
        : <input type="search" value={value} onChange={(e) => onChange((e.target as HTMLInputElement).value)} />}
    </label>
  );
}

function CancelButton({ job, onDone }: { job: Job; onDone: (err: Error | null) => void }) {
  const [busy, setBusy] = useState(false);
  const cancel = async () => {
    setBusy(true);
    try { await post(`v1/jobs/${enc(job.id)}/cancel`); onDone(null); } catch (err) { onDone(err as Error); } finally { setBusy(false); }
  };
  return <button type="button" class="secondary" disabled={busy} aria-label={`Cancel job ${job.id}`} onClick={cancel}>Cancel</button>;
}

function JobList() {
  const [status, setStatus] = useState('');
  const [kind, setKind] = useState('');
  const [cancelError, setCancelError] = useState<Error | null>(null);
  const choices = useLoad(() => queryChoices('/v1/jobs'), []);
  const jobs = useLoad((s) => get<Page<Job>>(`v1/jobs${query({ status, kind, max_results: 50 })}`, s), [status, kind]);
  useEffect(() => {
    if (!jobs.data?.items.some((j) => !FINISHED.has(j.status))) return;
    const t = setTimeout(jobs.reload, 2000);
    return () => clearTimeout(t);
  }, [jobs.data]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <>
      <h1>Jobs</h1>
      <Section title="Jobs, newest first">
        <div class="filters">
          <Choice label="Status" value={status} choices={choices.data?.status} onChange={setStatus} />
          <Choice label="Kind" value={kind} choices={choices.data?.kind} onChange={setKind} />
        </div>
        <ErrorBox error={cancelError} />
        <Show loaded={jobs}>{(p) => (
          <>
            <table>
              <thead><tr><th>Job</th><th>Kind</th><th>Status</th><th>Progress</th><th>Created</th><th><span class="sr-only">Cancel</span></th></tr></thead>
              <tbody>
                {p.items.map((j) => (
                  <tr key={j.id} data-job={j.id}>
                    <td><a href={href('jobs', j.id)}>{j.id}</a></td><td>{j.kind}</td>
                    <td><span class={`status status-${j.status}`} data-status={j.status}>{j.status}</span></td>
                    <td>{FINISHED.has(j.status) ? '' : jobLabel(j)}</td><td>{time(j.created_at)}</td>
                    <td>{!FINISHED.has(j.status) && <CancelButton job={j} onDone={(err) => { setCancelError(err); jobs.reload(); }} />}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {p.items.length === 0 && <p class="muted">No jobs.</p>}
          </>
        )}</Show>
      </Section>
    </>
  );
}

export function JobsPage({ loc }: { loc: Location }) {
  return loc.parts[1] ? <JobView id={loc.parts[1]} /> : <JobList />;
}
