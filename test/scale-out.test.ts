/**
 * Scale-out on loopback: two API servers and two job workers, all separate processes sharing
 * one PostgreSQL registry (a schema of this test's own) and one Redis queue (a key prefix of its
 * own). A task created through server A is fitted by a worker (a job submitted to A), watched and
 * predicted through server B; the worker running the job is killed with SIGKILL mid-fit and the
 * job still completes on the other worker, leaving exactly one adapter version.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Queue } from 'bullmq';
import { queueLocation, QUEUE_NAME } from '../service/queue-runner.ts';
import { REDIS_TEST_URL, registryUrlFor, requireServices } from './store-engines.ts';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Proc { child: ChildProcess; output: string[]; waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray> }

function launch(script: string, args: string[]): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const onLine = (line: string) => {
    output.push(line);
    for (const w of [...waiters]) {
      const m = line.match(w.pattern);
      if (m) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
    }
  };
  for (const stream of [child.stdout!, child.stderr!]) {
    let buffered = '';
    stream.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      lines.forEach(onLine);
    });
  }
  return {
    child, output,
    waitFor: (pattern, ms = 120_000) => {
      const seen = output.map((l) => l.match(pattern)).find(Boolean);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${script}: no line matching ${pattern} in ${ms} ms; output:\n${output.join('\n')}`)), ms);
        waiters.push({ pattern, resolve: (m) => { clearTimeout(timer); resolve(m); } });
      });
    },
  };
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const res = await fetch(base + path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

async function waitForJob(base: string, id: string, until: (j: Json) => boolean, ms = 180_000): Promise<Json> {
  const end = Date.now() + ms;
  for (;;) {
    const { json } = await call(base, 'GET', `/v1/jobs/${id}`);
    if (until(json)) return json;
    if (Date.now() > end) throw new Error(`job ${id}: still ${json.status} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const SUPPORT = {
  animals: ['The dog barked at the cat.', 'A horse galloped across the field.', 'The kitten chased a mouse.'],
  food: ['I ate a bowl of pasta for dinner.', 'Fresh bread and butter for breakfast.', 'She baked a chocolate cake.'],
  sports: ['The striker scored a goal in the final minute.', 'He hit a home run in the ninth inning.', 'The tennis match went to five sets.'],
};

test('two servers and two workers share PostgreSQL and Redis; a worker killed mid-job loses nothing', { timeout: 600_000 }, async (t) => {
  if (!(await requireServices(t, ['postgres', 'redis']))) return;
  const registry = await registryUrlFor('postgres', t);
  const queueUrl = `${REDIS_TEST_URL}/0?prefix=lift-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  const procs: Proc[] = [];
  t.after(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    const { connection, prefix } = queueLocation(queueUrl);
    const queue = new Queue(QUEUE_NAME, { connection, prefix });
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  });

  const serve = () => launch('scripts/serve.ts', ['--port', '0', '--registry', registry, '--queue', queueUrl, '--fit-threads', '1']);
  const work = () => launch('scripts/worker.ts', ['--registry', registry, '--queue', queueUrl, '--lock-ms', '3000']);
  // One server first: it migrates the schema and registers the backbones the others find.
  const serverA = serve();
  procs.push(serverA);
  const a = (await serverA.waitFor(/listening on (http:\/\/[^\s"]+)/))[1];
  const serverB = serve();
  const workers = [work(), work()];
  procs.push(serverB, ...workers);
  const b = (await serverB.waitFor(/listening on (http:\/\/[^\s"]+)/))[1];
  await Promise.all(workers.map((w) => w.waitFor(/"msg":"worker ready"/)));

  const examples = Object.entries(SUPPORT).flatMap(([label, texts]) => texts.map((text) => ({ label, text })));
  assert.equal((await call(a, 'POST', '/v1/tasks', { id: 'topics', examples })).status, 201);
  assert.equal((await call(b, 'GET', '/v1/tasks/topics')).status, 200, 'server B sees the task created through A');

  // A fit long enough to be killed in the middle of.
  const submitted = await call(a, 'POST', '/v1/tasks/topics/fit', { method: 'independent', steps: 2000, rank: 64, name: 'topics-long', job: true });
  assert.equal(submitted.status, 202, JSON.stringify(submitted.json));
  const id = submitted.json.job.id as string;
  // The workers' JSON log lines: {…, "jobId": …, "kind": …, "attempt": …, "msg": "job started"}.
  const started = new RegExp(`"jobId":"${id}","kind":"fit","attempt":1,"msg":"job started"`);
  const first = await Promise.race(workers.map((w) => w.waitFor(started).then(() => w)));
  await waitForJob(b, id, (j) => j.status === 'running');
  first.child.kill('SIGKILL');
  const other = workers.find((w) => w !== first)!;
  await other.waitFor(new RegExp(`"jobId":"${id}","kind":"fit","attempt":\\d+,"msg":"job started"`));
  const done = await waitForJob(b, id, (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status));
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));

  const versions = await call(b, 'GET', '/v1/adapters?name=topics-long');
  assert.deepEqual(versions.json.items.map((v: Json) => v.version), [1], 'one complete version, nothing half-written');
  const predicted = await call(b, 'POST', '/v1/predict', { adapter: { id: done.result.adapter.id }, inputs: [{ text: 'The cat chased a bird.' }, { text: 'We grilled fish for supper.' }] });
  assert.equal(predicted.status, 200, JSON.stringify(predicted.json));
  assert.equal(predicted.json.predictions.length, 2);

  // A second job, submitted through B, is run by the surviving worker.
  const quick = await call(b, 'POST', '/v1/tasks/topics/fit', { method: 'prototypes', name: 'topics-quick', job: true });
  const quickDone = await waitForJob(a, quick.json.job.id, (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status));
  assert.equal(quickDone.status, 'succeeded', JSON.stringify(quickDone.error));
  await other.waitFor(new RegExp(`"jobId":"${quick.json.job.id}","status":"succeeded","msg":"job ended"`));
});
