/**
 * Tuning as a job (POST /v1/tune): the same work as `npm run tune`, run by the server's job
 * runner in its job thread. A real server on a temporary registry with a small stored prior
 * (no training); two validation episodes per shot count of the Brown suite keep it short.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { priorName } from '../registry/artifact-names.ts';
import { startServer, type RunningServer } from '../server/start.ts';
import { DEFAULT_CONFIG } from '../server/config.ts';
import { createLogger } from '../service/log.ts';
import { insertTestPrior } from './test-prior.ts';

let server: RunningServer;
let dir: string;
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const res = await fetch(server.url + path, {
    method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lift-tune-job-'));
  server = await startServer({ ...DEFAULT_CONFIG, port: 0, registryUrl: `sqlite:${join(dir, 'registry.sqlite')}`, fitThreads: 1 }, { logger: createLogger('silent') });
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('tune as a job', () => {
  it('refuses an unknown suite or method with 400 before queueing', async () => {
    const suite = await call('POST', '/v1/tune', { suite: 'nope' });
    assert.equal(suite.status, 400);
    assert.match(suite.json.error.message, /suite/);
    const method = await call('POST', '/v1/tune', { suite: 'brown', methods: ['no-such-method'] });
    assert.equal(method.status, 400);
    assert.match(method.json.error.message, /methods/);
  });

  it('fails the job with the reason when the suite has no prior', async () => {
    const r = await call('POST', '/v1/tune', { suite: 'brown', methods: ['prototypes'], episodes: 2 });
    assert.equal(r.status, 202);
    const job = await finished(r.json.job.id);
    assert.equal(job.status, 'failed');
    assert.match(job.error.message, /no prior lift\/brown/);
  });

  it('tunes on validation episodes and stores the choices as the job\'s result and run', async () => {
    await insertTestPrior(server.context.runtime.store, priorName('brown'));
    const r = await call('POST', '/v1/tune', { suite: 'brown', methods: ['prototypes'], episodes: 2 });
    assert.equal(r.status, 202);
    assert.equal(r.json.job.kind, 'tune');
    const job = await finished(r.json.job.id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.equal(job.result.suite, 'brown');
    assert.equal(job.result.split, 'val');
    assert.deepEqual(Object.keys(job.result.choices), ['prototypes']);
    const shots = Object.keys(job.result.choices.prototypes);
    assert.ok(shots.length > 0);
    assert.ok(job.result.results.every((g: Json) => g.method === 'prototypes' && g.accuracy >= 0 && g.accuracy <= 1));
    const run = await call('GET', `/v1/runs/${job.run_id}`);
    assert.equal(run.json.kind, 'tune');
    assert.equal(run.json.status, 'succeeded');
    assert.equal(run.json.metrics.grid_points, job.result.results.length);
  });
});

async function finished(id: string): Promise<Json> {
  for (let i = 0; i < 1200; i++) {
    const { json } = await call('GET', `/v1/jobs/${id}`);
    if (['succeeded', 'failed', 'cancelled'].includes(json.status)) return json;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not finish`);
}
