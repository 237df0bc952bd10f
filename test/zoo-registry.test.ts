import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import type { RegistryStore } from '../registry/store.ts';
import { storeTest, type EngineCase } from './store-engines.ts';
import { applyMigrations, MIGRATIONS } from '../registry/migrations.ts';
import { ConflictError, NotFoundError, ValidationError } from '../registry/errors.ts';
import type { AdapterInput, BaseModelInput } from '../registry/types.ts';

const D = 4, R = 1;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const base = (name: string): BaseModelInput => ({
  name, modality: 'text', sha256: sha(name), featureDim: D,
  placement: [{ layer: 'tanh_layer_0', inDim: D, outDim: D, activation: 'tanh' }],
});

async function openStore(c: EngineCase): Promise<RegistryStore> {
  const store = await c.open();
  await store.registerBaseModel(base('use-lite'));
  await store.registerBaseModel(base('other'));
  return store;
}

async function adapter(store: RegistryStore, name: string, taskId: string, baseModel = 'use-lite', fill = 0.1): Promise<string> {
  const input: AdapterInput = {
    name, method: 'independent', baseModel, taskId, labels: ['a', 'b'], rank: R, alpha: R,
    parameters: { lora_A: new Float32Array(R * D).fill(fill), lora_B: new Float32Array(D * R).fill(fill) }, extra: { tau: 10 },
  };
  return (await store.createAdapterVersion(input)).value.id;
}

const emb = (v: number) => new Float32Array(D).fill(v);

storeTest('zoos: each change is a new version; old versions keep their members; same task replaces', async (c) => {
  const store = await openStore(c);
  const a1 = await adapter(store, 't1.independent', 't1');
  const a2 = await adapter(store, 't2.independent', 't2');
  const a1b = await adapter(store, 't1.independent', 't1', 'use-lite', 0.2);
  assert.equal((await store.createZoo({ name: 'tickets', baseModel: 'use-lite' })).created, true);
  assert.equal((await store.createZoo({ name: 'tickets', baseModel: 'use-lite' })).created, false);
  await assert.rejects(store.createZoo({ name: 'tickets', baseModel: 'other' }), ConflictError);
  await assert.rejects(store.createZoo({ name: 'Bad Name', baseModel: 'use-lite' }), ValidationError);

  const c1 = await store.changeZooMembers('tickets', [{ adapterId: a1, taskId: 't1', embedding: emb(1) }, { adapterId: a2, taskId: 't2', embedding: emb(2) }]);
  assert.deepEqual([c1.version, c1.changed, c1.added.length], [1, true, 2]);
  const same = await store.changeZooMembers('tickets', [{ adapterId: a1, taskId: 't1', embedding: emb(1) }]);
  assert.deepEqual([same.version, same.changed], [1, false]);
  const c2 = await store.changeZooMembers('tickets', [{ adapterId: a1b, taskId: 't1', embedding: emb(3) }]);
  assert.deepEqual([c2.version, c2.replaced], [2, [a1]]);
  assert.deepEqual((await store.listZooMembers('tickets', 1)).map((m) => m.adapterId), [a1, a2]);
  const latest = await store.listZooMembers('tickets');
  assert.deepEqual(latest.map((m) => m.adapterId), [a2, a1b]);
  assert.deepEqual(Array.from(latest[1].embedding), [3, 3, 3, 3]);
  const c3 = await store.changeZooMembers('tickets', [], [a2]);
  assert.deepEqual([c3.version, c3.zoo.memberCount], [3, 1]);
  assert.deepEqual((await store.listZooVersions('tickets')).map((v) => [v.version, v.memberCount, v.note]),
    [[3, 1, 'removed 1'], [2, 2, 'added 1, replaced 1'], [1, 2, 'added 2']]);
  await assert.rejects(store.listZooMembers('tickets', 4), NotFoundError);
  await assert.rejects(store.changeZooMembers('tickets', [], [a2]), NotFoundError);

  const foreign = await adapter(store, 'x.independent', 'x', 'other');
  await assert.rejects(store.changeZooMembers('tickets', [{ adapterId: foreign, taskId: 'x', embedding: emb(1) }]), ConflictError);
  await assert.rejects(store.changeZooMembers('tickets', [{ adapterId: 'nope', taskId: 'x', embedding: emb(1) }]), NotFoundError);
  assert.equal((await store.getZoo('tickets')).version, 3, 'a failed change writes no version');
  assert.deepEqual((await store.listZoos()).items.map((z) => z.name), ['tickets']);
  await store.deleteZoo('tickets');
  await assert.rejects(store.getZoo('tickets'), NotFoundError);
  await store.close();
});

storeTest('jobs: queued -> running -> finished with stamped times, appended trace, newest-first paging', async (c) => {
  const store = await openStore(c);
  const j1 = await store.createJob({ kind: 'train-prior', params: { zoo: 'z' } });
  const j2 = await store.createJob({ kind: 'compare', params: {} });
  assert.deepEqual([j1.status, j1.startedMs, j1.progress], ['queued', null, 0]);
  const r = await store.updateJob(j1.id, { status: 'running', phase: 'SGLD-Gibbs', phaseIndex: 3, phaseCount: 4, progress: 0.5, etaMs: 1200.4, trace: [{ step: 10, log_lik: -3 }] });
  assert.ok(r.startedMs !== null && r.finishedMs === null);
  assert.equal(r.etaMs, 1200);
  const r2 = await store.updateJob(j1.id, { trace: [{ step: 20, log_lik: -2 }], progress: 7 });
  assert.deepEqual(r2.trace.map((p) => p.step), [10, 20]);
  assert.equal(r2.progress, 1, 'progress is clamped to 0..1');
  const done = await store.updateJob(j1.id, { status: 'succeeded', result: { prior: 'p' } });
  assert.ok(done.finishedMs! >= done.startedMs!);
  assert.deepEqual(done.result, { prior: 'p' });
  assert.equal((await store.requestJobCancel(j2.id)).cancelRequested, true);
  const page = await store.listJobs({}, undefined, 1);
  assert.deepEqual(page.items.map((j) => j.id), [j2.id]);
  assert.deepEqual((await store.listJobs({}, page.nextPageToken, 1)).items.map((j) => j.id), [j1.id]);
  assert.deepEqual((await store.listJobs({ kind: 'train-prior' })).items.map((j) => j.id), [j1.id]);
  await assert.rejects(store.createJob({ kind: 'bake' as never, params: {} }), ValidationError);
  await assert.rejects(store.getJob('nope'), NotFoundError);
  await store.close();
});

storeTest('runs: refs merge at finish and filter by zoo, prior, adapter and task', async (c) => {
  const store = await openStore(c);
  const a = await store.createRun({ kind: 'train', name: 'train-prior', config: { steps: 10 }, refs: { zoo: { name: 'z', version: 2 }, task_ids: ['t1'] }, codeVersion: 'abc' });
  const b = await store.createRun({ kind: 'compare', refs: { task_ids: ['t2'] } });
  await store.finishRun(a.id, { status: 'succeeded', metrics: { loss: 1 }, refs: { prior_ids: ['p1'], task_ids: ['t1', 't3'] } });
  await store.finishRun(b.id, { status: 'cancelled', error: 'job cancelled' });
  const got = await store.getRun(a.id);
  assert.deepEqual(got.refs, { zoo: { name: 'z', version: 2 }, task_ids: ['t1', 't3'], prior_ids: ['p1'] });
  assert.equal(got.codeVersion, 'abc');
  assert.equal((await store.getRun(b.id)).error, 'job cancelled');
  const ids = async (filter: Parameters<RegistryStore['listRuns']>[0]) => (await store.listRuns(filter)).items.map((r) => r.id);
  assert.deepEqual(await ids({ zoo: 'z' }), [a.id]);
  assert.deepEqual(await ids({ priorId: 'p1' }), [a.id]);
  assert.deepEqual(await ids({ taskId: 't2' }), [b.id]);
  assert.deepEqual(await ids({ taskId: 't3', kind: 'train' }), [a.id]);
  assert.deepEqual(await ids({ status: 'cancelled' }), [b.id]);
  assert.deepEqual(await ids({ adapterId: 'none' }), []);
  await store.close();
});

test('migration 2 keeps runs written by schema 1', () => {
  const db = new Database(':memory:');
  applyMigrations(db, MIGRATIONS.slice(0, 1));
  db.prepare("INSERT INTO runs (id, kind, config, status, started_ms, finished_ms, metrics) VALUES ('r1', 'eval', '{}', 'succeeded', 1, 2, '{\"acc\":1}')").run();
  applyMigrations(db);
  const row = db.prepare('SELECT * FROM runs').get() as Record<string, unknown>;
  assert.deepEqual([row.id, row.kind, row.name, row.metrics, row.refs], ['r1', 'eval', 'eval', '{"acc":1}', '{}']);
  db.close();
});
