/**
 * Compare as a job over HTTP (real server, temporary registry): `"job": true` answers 202 with the
 * job and its Location, one phase per method, the job's result is the synchronous reply's body
 * (rows with calibration bins), one run records it, and bad requests fail at once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../server/start.ts';
import { DEFAULT_CONFIG } from '../server/config.ts';
import { createLogger } from '../service/log.ts';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

let server: RunningServer;
let dir: string;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json; headers: Headers }> {
  const res = await fetch(server.url + path, {
    method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

const EXAMPLES = [
  ...['The dog barked at the cat.', 'A horse galloped across the field.', 'The kitten chased a mouse.'].map((text) => ({ label: 'animals', text })),
  ...['I ate a bowl of pasta.', 'Fresh bread for breakfast.', 'She baked a chocolate cake.'].map((text) => ({ label: 'food', text })),
  ...['A cow grazed in the meadow.', 'The parrot sat on a branch.'].map((text) => ({ label: 'animals', text, split: 'query' })),
  ...['We had soup for lunch.', 'Pancakes with maple syrup.'].map((text) => ({ label: 'food', text, split: 'query' })),
];

describe('compare as a job', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lift-compare-job-'));
    server = await startServer({ ...DEFAULT_CONFIG, port: 0, registryUrl: `sqlite:${join(dir, 'registry.sqlite')}` }, { logger: createLogger('silent') });
    assert.equal((await call('POST', '/v1/tasks', { id: 'pets-food', examples: EXAMPLES })).status, 201);
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 202 with the job; its result is the synchronous body, with calibration bins', async () => {
    const body = { methods: ['prototypes', 'independent'], steps: 5, seed: 3 };
    const submitted = await call('POST', '/v1/tasks/pets-food/compare', { ...body, job: true });
    assert.equal(submitted.status, 202);
    const id = submitted.json.job.id;
    assert.equal(submitted.headers.get('location'), `/v1/jobs/${id}`);
    assert.equal(submitted.json.job.kind, 'compare');
    const events = (await (await fetch(`${server.url}/v1/jobs/${id}/events`)).text())
      .split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
    const done = events.at(-1);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    const sync = (await call('POST', '/v1/tasks/pets-food/compare', body)).json;
    const strip = (r: Json) => r.rows.map(({ fit_ms: _f, ...row }: Json) => row);
    assert.deepEqual(strip(done.result), strip(sync), 'same rows as the synchronous reply (times aside)');
    assert.equal(done.result.run_id, done.run_id, 'the job run is the compare run');
    for (const row of done.result.rows) {
      const counted = row.calibration.bins.reduce((n: number, b: Json) => n + b.count, 0);
      assert.equal(counted, 4, `${row.method}: every query in one bin`);
      assert.ok(row.calibration.bins.every((b: Json) => b.lo < b.confidence && b.confidence <= b.hi + 1e-9));
      assert.ok(row.calibration.ece >= 0 && row.calibration.ece <= 1);
    }
    const runs = (await call('GET', '/v1/runs?kind=compare&task_id=pets-food')).json.items;
    assert.equal(runs.filter((r: Json) => r.id === done.run_id).length, 1);
    assert.equal(runs.length, 2, 'one run for the job, one for the synchronous call');
    const run = runs.find((r: Json) => r.id === done.run_id);
    assert.equal(run.status, 'succeeded');
    assert.equal(typeof run.metrics.prototypes, 'number');
  });

  it('refuses an unknown task or method at once', async () => {
    const noTask = await call('POST', '/v1/tasks/nope/compare', { methods: ['prototypes'], job: true });
    assert.equal(noTask.status, 404);
    const badMethod = await call('POST', '/v1/tasks/pets-food/compare', { methods: ['prototypes', 'nonsense'], job: true });
    assert.equal(badMethod.status, 400);
    assert.match(badMethod.json.error.message, /methods\[1\]: (method: )?expected one of .*got 'nonsense'/);
    assert.equal((await call('GET', '/v1/jobs?kind=compare')).json.items.length, 1, 'no job was queued for either');
  });
});
