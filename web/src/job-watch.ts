/**
 * Watching a job until it finishes: its server-sent events (GET /v1/jobs/:id/events), read with
 * fetch rather than EventSource because EventSource cannot send the API key, falling back to
 * polling GET /v1/jobs/:id every second when the stream fails.
 */
import { callRaw, enc, get } from './api.ts';
import type { Job } from './types.ts';

export const FINISHED: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);
const POLL_MS = 1000;

/** Reads `event: job` messages from the job's event stream until the server ends it. */
async function streamJob(id: string, signal: AbortSignal, onJob: (job: Job) => void): Promise<void> {
  const res = await callRaw('GET', `v1/jobs/${enc(id)}/events`, { signal, accept: 'text/event-stream' });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    // Messages end with a blank line; each has an `event:` line and `data:` lines.
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const message = buffer.slice(0, end).split('\n');
      buffer = buffer.slice(end + 2);
      const data = message.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (message.includes('event: job') && data !== '') onJob(JSON.parse(data) as Job);
    }
  }
}

/** Calls `onJob` on every change; returns a function that stops watching. */
export function subscribeJob(id: string, onJob: (job: Job) => void, onError: (err: Error) => void): () => void {
  let stopped = false;
  let finished = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const poll = async () => {
    try {
      const j = await get<Job>(`v1/jobs/${enc(id)}`);
      if (stopped) return;
      onJob(j);
      if (!FINISHED.has(j.status)) timer = setTimeout(poll, POLL_MS);
    } catch (err) { if (!stopped) onError(err as Error); }
  };
  const stream = new AbortController();
  const fallBack = () => { if (!stopped && !finished) void poll(); };
  streamJob(id, stream.signal, (j) => {
    if (FINISHED.has(j.status)) finished = true;
    if (!stopped) onJob(j);
  }).then(fallBack, fallBack);
  return () => { stopped = true; stream.abort(); clearTimeout(timer); };
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
