/**
 * What goes wrong around a job (a progress write or a heartbeat the store refused) is one JSON
 * line in the log the runner was given, with the job id and the error as fields; a job prints no
 * human progress lines of its own (it reports progress to the store).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JsonObject } from '../registry/types.ts';
import { executeJob, LocalJobRunner, type JobHandlers } from '../service/jobs.ts';
import { createLogger } from '../service/log.ts';
import { startProgress } from '../service/progress.ts';
import { Runtime } from '../service/runtime.ts';

type Line = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A logger whose JSON lines land in `lines`. */
function capturedLog() {
  const lines: Line[] = [];
  return { lines, log: createLogger('info', { write: (s: string) => { lines.push(JSON.parse(s)); } }) };
}

async function inMemoryRuntime(t: { after(fn: () => Promise<void>): void }): Promise<Runtime> {
  const runtime = await Runtime.open({ registryUrl: 'sqlite::memory:', fitThreads: 0 });
  t.after(() => runtime.close());
  return runtime;
}

test('a progress write the store refuses is logged as JSON with the job id; the job still succeeds', async (t) => {
  const runtime = await inMemoryRuntime(t);
  const store = runtime.store;
  const updateJob = store.updateJob.bind(store);
  store.updateJob = async (id, update) => {
    if (update.phase === 'halfway') throw new Error('registry unavailable');
    return updateJob(id, update);
  };
  const handlers: JobHandlers = {
    fit: async (_params, ctx) => {
      ctx.report({ phase: 'halfway', phaseIndex: 1, phaseCount: 1, progress: 0.5 });
      return { done: true } satisfies JsonObject;
    },
  };
  const { lines, log } = capturedLog();
  const job = await store.createJob({ kind: 'fit', params: {} });
  const finished = await executeJob(runtime, handlers, job.id, { log });
  assert.equal(finished.status, 'succeeded');
  const line = lines.find((l) => l.msg === 'job progress not stored');
  assert.ok(line, `no such line in ${JSON.stringify(lines)}`);
  assert.equal(line.level, 'error');
  assert.equal(line.jobId, job.id);
  assert.equal(line.err.message, 'registry unavailable');
  assert.equal(typeof line.err.stack, 'string');
});

test('a heartbeat the store refuses is logged as JSON by the runner', async (t) => {
  const runtime = await inMemoryRuntime(t);
  runtime.store.failStaleJobs = async () => { throw new Error('registry unavailable'); };
  const { lines, log } = capturedLog();
  const runner = new LocalJobRunner(runtime, {}, { log });
  t.after(() => runner.close());
  await runner.start('host:1');
  assert.deepEqual(lines.map((l) => [l.level, l.msg, l.err?.message]), [['error', 'job heartbeat failed', 'registry unavailable']]);
});

test('a job prints no progress lines (its progress goes to the store)', async (t) => {
  const runtime = await inMemoryRuntime(t);
  const handlers: JobHandlers = {
    fit: async () => {
      await Promise.resolve();
      const progress = startProgress('inside a job', 2);
      progress.update(2);
      progress.stop();
      return {};
    },
  };
  const job = await runtime.store.createJob({ kind: 'fit', params: {} });
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => { written.push(String(chunk)); return true; }) as typeof process.stderr.write;
  try {
    assert.equal((await executeJob(runtime, handlers, job.id, { log: capturedLog().log })).status, 'succeeded');
  } finally {
    process.stderr.write = write;
  }
  assert.deepEqual(written, []);
});
