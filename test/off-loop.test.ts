/**
 * Fits, comparisons and jobs run off the server's event loop (worker threads): the server keeps
 * answering while a long fit runs; long work can be submitted as a job (202), watched, and
 * cancelled; a domain error raised in a worker thread keeps its HTTP status.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../server/start.ts';
import { DEFAULT_CONFIG } from '../server/config.ts';
import { createLogger } from '../service/log.ts';

let server: RunningServer;
let dir: string;
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json; at: number }> {
  const res = await fetch(server.url + path, {
    method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, at: performance.now() };
}

async function waitForJob(id: string, until: (job: Json) => boolean = (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status)): Promise<Json> {
  for (let i = 0; i < 600; i++) {
    const { json } = await call('GET', `/v1/jobs/${id}`);
    if (until(json)) return json;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not get there`);
}

const texts = {
  animals: ['The dog barked at the cat.', 'A horse galloped across the field.', 'The kitten chased a mouse.'],
  food: ['I ate a bowl of pasta for dinner.', 'Fresh bread and butter for breakfast.', 'She baked a chocolate cake.'],
  sports: ['The striker scored a goal in the final minute.', 'He hit a home run in the ninth inning.', 'The tennis match went to five sets.'],
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lift-offloop-'));
  server = await startServer({ ...DEFAULT_CONFIG, port: 0, registryUrl: join(dir, 'registry.sqlite'), fitThreads: 1 }, { logger: createLogger('silent') });
  const examples = [
    ...Object.entries(texts).flatMap(([label, ts]) => ts.map((text) => ({ label, text }))),
    { label: 'animals', text: 'A cow grazed in the meadow.', split: 'query' }, { label: 'food', text: 'Soup and a sandwich for lunch.', split: 'query' },
    { label: 'sports', text: 'The team won the championship game.', split: 'query' },
  ];
  assert.equal((await call('POST', '/v1/tasks', { id: 'topics', examples })).status, 201);
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('work off the event loop', () => {
  it('answers /healthz while a long fit runs in a worker thread', async () => {
    const fit = call('POST', '/v1/tasks/topics/fit', { method: 'independent', steps: 2000, rank: 16, name: 'long-fit' });
    await new Promise((r) => setTimeout(r, 100));
    const health = await call('GET', '/healthz');
    const fitted = await fit;
    assert.equal(health.status, 200);
    assert.equal(fitted.status, 201, JSON.stringify(fitted.json));
    assert.ok(health.at < fitted.at, 'the health check came back before the fit finished');
    assert.ok(fitted.json.fit_ms > 0);
  });

  it('keeps the status of a domain error raised in the worker thread', async () => {
    const r = await call('POST', '/v1/tasks/topics/fit', { method: 'lift-map' });
    assert.equal(r.status, 409, JSON.stringify(r.json));
    assert.match(r.json.error.message, /prior/);
  });

  it('runs a fit as a job with "job": true: 202, then the stored adapter in the result', async () => {
    const r = await call('POST', '/v1/tasks/topics/fit', { method: 'independent', name: 'async-fit', job: true });
    assert.equal(r.status, 202);
    assert.equal(r.json.job.kind, 'fit');
    const job = await waitForJob(r.json.job.id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    const adapter = await call('GET', `/v1/adapters/${encodeURIComponent(job.result.adapter.id)}`);
    assert.equal(adapter.status, 200);
    assert.equal(adapter.json.name, 'async-fit');
    assert.equal((await call('POST', '/v1/tasks/nope/fit', { method: 'independent', job: true })).status, 404, 'a missing task is refused before queueing');
  });

  it('runs a compare as a job and cancels a long one', async () => {
    const quick = await call('POST', '/v1/tasks/topics/compare', { methods: ['prototypes', 'independent'], job: true });
    assert.equal(quick.status, 202);
    const done = await waitForJob(quick.json.job.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.deepEqual(done.result.rows.map((row: Json) => row.method), ['prototypes', 'independent']);
    assert.ok(done.result.rows.every((row: Json) => row.accuracy >= 0 && row.accuracy <= 1));

    const long = await call('POST', '/v1/tasks/topics/compare', { methods: ['independent', 'independent', 'independent', 'independent'], steps: 2000, rank: 32, job: true });
    await waitForJob(long.json.job.id, (j) => j.status === 'running');
    const cancel = await call('POST', `/v1/jobs/${long.json.job.id}/cancel`);
    assert.equal(cancel.status, 200);
    const ended = await waitForJob(long.json.job.id);
    assert.equal(ended.status, 'cancelled');
  });
});
