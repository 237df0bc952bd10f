/**
 * Jobs when several servers share one registry without a queue, and the race between a cancel
 * and a job finishing. Real stores (a SQLite file; PostgreSQL when a server answers) and real
 * runners; the handlers are small job kinds whose timing the test controls.
 *
 * - The store: a finished job is final; heartbeats keep a runner's jobs alive; only jobs whose
 *   runner stopped stamping them are failed as stale.
 * - A server starting fails the jobs its own instance left behind, never another live server's;
 *   a stale job (its server gone) is failed by a live server's sweep.
 * - A cancel sent to another server than the one running the job stops it there.
 * - A cancel arriving as a job finishes gives one consistent final state: succeeded with its
 *   result and its work stored, or cancelled with neither, and the run says the same.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ConflictError } from '../registry/errors.ts';
import type { RegistryStore } from '../registry/store.ts';
import type { Job, JsonObject } from '../registry/types.ts';
import { isFinished, LocalJobRunner, type JobHandlers } from '../service/jobs.ts';
import { Runtime } from '../service/runtime.ts';
import { ENGINES, registryUrlFor, storeTest } from './store-engines.ts';

const ERROR = { code: 'INTERRUPTED', message: 'gone' };

storeTest('jobs: a finished job is final; later updates are refused', async (c) => {
  const store = await c.open();
  const job = await store.createJob({ kind: 'fit', params: {} });
  await store.updateJob(job.id, { status: 'running' });
  const done = await store.updateJob(job.id, { status: 'succeeded', result: { adapter: 'a' } });
  await assert.rejects(store.updateJob(job.id, { status: 'cancelled' }), ConflictError);
  await assert.rejects(store.updateJob(job.id, { progress: 0.5 }), ConflictError);
  assert.deepEqual(await store.getJob(job.id), done);
});

storeTest('jobs: heartbeats keep an owner\'s jobs alive; only stale owned jobs are failed', async (c) => {
  // The test clock ticks 1 ms per reading, so "stale for 0 ms" is any earlier heartbeat.
  const store = await c.open();
  const alive = await store.createJob({ kind: 'fit', params: {}, owner: 'host-a:1' });
  const gone = await store.createJob({ kind: 'fit', params: {}, owner: 'host-b:1' });
  const queueJob = await store.createJob({ kind: 'fit', params: {} });
  const finished = await store.createJob({ kind: 'fit', params: {}, owner: 'host-b:1' });
  await store.updateJob(finished.id, { status: 'succeeded' });
  assert.equal(alive.owner, 'host-a:1');
  assert.ok(alive.heartbeatMs !== null && queueJob.heartbeatMs === null);
  assert.deepEqual(await store.failStaleJobs(60_000, ERROR), [], 'nothing is an hour old');
  assert.equal(await store.touchJobs('host-a:1'), 1, 'the finished job of host-b is not touched, nor the queue\'s');
  const touched = await store.getJob(alive.id);
  assert.ok(touched.heartbeatMs! > alive.heartbeatMs!);
  // host-a stamps again; then a heartbeat older than 3 ticks is stale: only host-b's job.
  await store.touchJobs('host-a:1');
  const failed = await store.failStaleJobs(3, ERROR);
  assert.deepEqual(failed.map((j) => [j.id, j.status, j.error?.code]), [[gone.id, 'failed', 'INTERRUPTED']]);
  assert.equal((await store.getJob(alive.id)).status, 'queued');
  assert.equal((await store.getJob(queueJob.id)).status, 'queued', 'a queue\'s job has no owner to go stale');
  assert.equal((await store.getJob(finished.id)).status, 'succeeded');
});

/** A job kind whose handler waits for the test to release it; `committed` records its stored work. */
function gatedHandlers() {
  const gates = new Map<string, () => void>();
  const started = new Set<string>();
  const committed = new Set<string>();
  const handlers: JobHandlers = {
    fit: async (params, ctx) => {
      const key = String(params.key);
      started.add(key);
      await new Promise<void>((resolve) => { gates.set(key, resolve); ctx.signal.addEventListener('abort', () => resolve(), { once: true }); });
      ctx.signal.throwIfAborted();
      committed.add(key);
      // A last progress report, as real handlers make: its store write is still pending when
      // the handler returns, which is when a late cancel used to turn stored work into "cancelled".
      ctx.report({ phase: 'stored', phaseIndex: 1, phaseCount: 1, progress: 1 });
      return { key } satisfies JsonObject;
    },
  };
  return { handlers, gates, started, committed };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const finalState = (store: RegistryStore, id: string) => until(`job ${id} to finish`, async () => {
  const j = await store.getJob(id);
  return isFinished(j) ? j : undefined;
});

/** What a test opened, closed newest first when it ends (before its registry is removed). */
class Opened {
  private readonly closers: (() => Promise<unknown>)[] = [];
  async runtime(url: string): Promise<Runtime> {
    const runtime = await Runtime.open({ registryUrl: url, fitThreads: 0 });
    this.closers.push(() => runtime.close());
    return runtime;
  }
  runner(runtime: Runtime, handlers: JobHandlers, timing = { heartbeatMs: 50, staleMs: 400 }): LocalJobRunner {
    const r = new LocalJobRunner(runtime, handlers, { timing });
    this.closers.push(() => r.close());
    return r;
  }
  async close(): Promise<void> {
    for (const close of this.closers.reverse()) await close();
  }
}

/** Runs `fn` with an `Opened` that is closed before the test's own cleanup (its registry's removal). */
async function withOpened(fn: (o: Opened) => Promise<void>): Promise<void> {
  const opened = new Opened();
  try {
    await fn(opened);
  } finally {
    await opened.close();
  }
}

for (const engine of ENGINES) {
  test(`servers sharing a registry without a queue keep each other's jobs; stale ones are failed [${engine}]`, async (t) => {
    const url = await registryUrlFor(engine, t, { serverOnly: true });
    if (!url) return;
    await withOpened(async (o) => {
    const a = await o.runtime(url);
    const b = await o.runtime(url);
    const gated = gatedHandlers();
    // What a server of instance host:2 left when it died: a running job, no one stamping it.
    const orphan = await a.store.createJob({ kind: 'fit', params: { key: 'orphan' }, owner: 'host:2' });
    await a.store.updateJob(orphan.id, { status: 'running' });
    // What an earlier process of instance host:1 left: a queued job.
    const previous = await a.store.createJob({ kind: 'fit', params: { key: 'previous' }, owner: 'host:1' });

    const serverA = o.runner(a, gated.handlers);
    await serverA.start('host:1');
    assert.equal((await a.store.getJob(previous.id)).status, 'failed', 'its own instance\'s leftovers fail at once');
    assert.equal((await a.store.getJob(previous.id)).error?.code, 'INTERRUPTED');
    assert.equal((await a.store.getJob(orphan.id)).status, 'running', 'another instance\'s job is not failed before it is stale');
    const long = await serverA.submit('fit', { key: 'long' });
    await until('the job to start', async () => gated.started.has('long'));

    const serverB = o.runner(b, gated.handlers);
    await serverB.start('host:3');
    const failedOrphan = await finalState(b.store, orphan.id);
    assert.equal(failedOrphan.status, 'failed');
    assert.match(failedOrphan.error!.message, /stopped answering/);
    // Well past staleMs: A's job is alive because A stamps it.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await b.store.getJob(long.id)).status, 'running', 'server B left server A\'s running job alone');

    // A cancel sent to B reaches the job A runs (through the flag A polls).
    const answer = await serverB.cancel(long.id);
    assert.equal(answer.status, 'running', 'B does not claim a job it does not run');
    const ended = await finalState(b.store, long.id);
    assert.equal(ended.status, 'cancelled');
    assert.equal(gated.committed.has('long'), false);
    });
  });
}

test('a cancel racing a job\'s finish leaves one consistent final state (job, result, stored work and run agree)', async (t) => {
  const url = await registryUrlFor('sqlite', t);
  await withOpened(async (o) => {
  const rt = await o.runtime(url);
  const gated = gatedHandlers();
  const r = o.runner(rt, gated.handlers);
  await r.start('host:1');
  const outcomes = new Map<string, number>();
  // The cancel is sent at many moments around the handler's return: after 0..24 microtasks,
  // after event-loop turns, after a few ms; once with the work released first, once the other way.
  const microtasks = (n: number) => async () => { for (let k = 0; k < n; k++) await Promise.resolve(); };
  const turns = (n: number) => async () => { for (let k = 0; k < n; k++) await nextTurn(); };
  const delays: (() => Promise<unknown>)[] = [
    ...Array.from({ length: 25 }, (_, n) => microtasks(n)), turns(1), turns(2), turns(4),
    () => new Promise((res) => setTimeout(res, 1)), () => new Promise((res) => setTimeout(res, 3)),
  ];
  for (let i = 0; i < delays.length * 2; i++) {
    const key = `race-${i}`;
    const job = await r.submit('fit', { key });
    await until('the job to start', async () => gated.gates.has(key));
    const release = gated.gates.get(key)!;
    const cancel = () => r.cancel(job.id).catch((err: unknown) => {
      assert.ok(err instanceof ConflictError, String(err));
      return null;
    });
    let answer: Job | null;
    if (i % 2 === 0) {
      // The work finishes first, the cancel follows after the delay.
      release();
      await delays[(i / 2) % delays.length]();
      answer = await cancel();
    } else {
      // The cancel is on its way when the work finishes.
      const answering = cancel();
      await delays[((i - 1) / 2) % delays.length]();
      release();
      answer = await answering;
    }
    const final = await finalState(rt.store, job.id);
    outcomes.set(final.status, (outcomes.get(final.status) ?? 0) + 1);
    // The cancel's answer is either still running (the runner will decide) or the final state.
    if (answer && answer.status !== 'running') assert.equal(answer.status, final.status, `${key}: the cancel answered ${answer.status}`);
    const run = await rt.store.getRun(final.runId!);
    if (final.status === 'succeeded') {
      assert.ok(gated.committed.has(key), `${key}: succeeded, so its work is stored`);
      assert.deepEqual(final.result, { key });
      assert.equal(run.status, 'succeeded');
    } else {
      assert.equal(final.status, 'cancelled', `${key}: ${JSON.stringify(final.error)}`);
      assert.equal(gated.committed.has(key), false, `${key}: cancelled, so nothing was stored`);
      assert.equal(final.result, null);
      assert.equal(run.status, 'cancelled');
    }
    // Nothing changes it afterwards.
    await new Promise((res) => setTimeout(res, 20));
    assert.deepEqual(await rt.store.getJob(job.id), final);
  }
  t.diagnostic(`final states: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  });
});
