/**
 * Watching a job until it finishes: its server-sent events (GET /v1/jobs/:id/events), falling
 * back to polling GET /v1/jobs/:id every second when the stream fails.
 */
import { apiUrl, enc, get } from './api.ts';
import type { Job } from './types.ts';

export const FINISHED: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);
const POLL_MS = 1000;

/** Calls `onJob` on every change; returns a function that stops watching. */
export function subscribeJob(id: string, onJob: (job: Job) => void, onError: (err: Error) => void): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const poll = async () => {
    try {
      const j = await get<Job>(`v1/jobs/${enc(id)}`);
      if (stopped) return;
      onJob(j);
      if (!FINISHED.has(j.status)) timer = setTimeout(poll, POLL_MS);
    } catch (err) { if (!stopped) onError(err as Error); }
  };
  const source = typeof EventSource === 'function' ? new EventSource(apiUrl(`v1/jobs/${enc(id)}/events`)) : null;
  if (source) {
    let finished = false;
    source.addEventListener('job', (e) => {
      const j = JSON.parse((e as MessageEvent).data) as Job;
      if (FINISHED.has(j.status)) { finished = true; source.close(); }
      if (!stopped) onJob(j);
    });
    source.onerror = () => { source.close(); if (!stopped && !finished) void poll(); };
  } else void poll();
  return () => { stopped = true; source?.close(); clearTimeout(timer); };
}

/** Resolves with the finished job. */
export function watchJob(id: string, onJob: (job: Job) => void = () => {}): Promise<Job> {
  return new Promise((resolve, reject) => {
    const stop = subscribeJob(id, (j) => {
      onJob(j);
      if (FINISHED.has(j.status)) { stop(); resolve(j); }
    }, (err) => { stop(); reject(err); });
  });
}
