import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { openRegistry } from '../registry/open.ts';
import type { SqlRegistryStore } from '../registry/sql-store.ts';
import { storeTest } from './store-engines.ts';
import { applyMigrations, configureConnection, SCHEMA_VERSION } from '../registry/migrations.ts';
import { contentHash, exampleHash, packTensor, packTensors, unpackTensor, unpackTensors } from '../registry/blobs.ts';
import { extractWithCache } from '../registry/feature-cache.ts';
import { AlreadyExistsError, ConflictError, NotFoundError, ValidationError } from '../registry/errors.ts';
import type { AdapterInput, BaseModelInput } from '../registry/types.ts';

const D = 8, R = 2;
const SHA = createHash('sha256').update('onnx bytes v1').digest('hex');
const BASE: BaseModelInput = {
  name: 'use-lite', modality: 'text', sha256: SHA, featureDim: D,
  placement: [{ layer: 'tanh_layer_0', inDim: D, outDim: D, activation: 'tanh' }],
};

function tempDb(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'lift-registry-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'registry.db');
}


function ramp(n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (i - n / 2) * scale);
}

function adapterInput(overrides: Partial<AdapterInput> = {}): AdapterInput {
  return {
    name: 'wordnet-nouns', method: 'lift-map', baseModel: 'use-lite', taskId: 'nouns', labels: ['a', 'b', 'c'],
    rank: R, alpha: 4, parameters: { lora_A: ramp(R * D, 0.1), lora_B: ramp(D * R, 0.01) },
    extra: { tau: 10 }, metrics: { acc: 0.7 }, trainingConfig: { steps: 50 }, ...overrides,
  };
}

const texts = (labels: string[], split: 'support' | 'query') => labels.map((label, i) => ({ label, split, text: `${split} example ${i} of ${label}` }));

test('tensor blobs round-trip bit-exactly, including NaN payloads, -0 and subnormals', async () => {
  const bits = new Uint32Array([0x7fc00001, 0x80000000, 0x00000001, 0x3f800000, 0xff800000]);
  const values = new Float32Array(bits.buffer);
  assert.deepEqual(new Uint32Array(unpackTensor(packTensor(values)).buffer), bits);
  const map = unpackTensors(packTensors({ b: ramp(3, 1), a: values }));
  assert.deepEqual(Object.keys(map).sort(), ['a', 'b']);
  assert.deepEqual(new Uint32Array(map.a.buffer), bits);
  assert.deepEqual(packTensors({ a: values, b: ramp(3, 1) }), packTensors({ b: ramp(3, 1), a: values }));
  assert.throws(() => unpackTensor(packTensors({ a: values })), ValidationError);
});

test('contentHash ignores key order and survives a JSON round trip, but sees every tensor bit', async () => {
  const t = ramp(4, 0.5);
  const h = contentHash({ x: 1, y: [true, null, 'z'], t });
  assert.equal(contentHash({ t, y: [true, null, 'z'], x: 1 }), h);
  assert.equal(contentHash({ a: 0, b: undefined }), contentHash(JSON.parse(JSON.stringify({ a: -0, b: undefined }))));
  const changed = t.slice();
  changed[2] = Math.fround(changed[2] + 1e-6);
  assert.notEqual(contentHash({ x: 1, y: [true, null, 'z'], t: changed }), h);
  assert.notEqual(contentHash({ x: '1' }), contentHash({ x: 1 }));
  assert.throws(() => contentHash({ x: NaN }), ValidationError);
  assert.notEqual(exampleHash({ text: 'ab' }), exampleHash({ image: new TextEncoder().encode('ab') }));
});

test('opening migrates in a transaction, sets WAL and foreign keys, and refuses newer schemas', async (t) => {
  const path = tempDb(t);
  await (await openRegistry(`sqlite:${path}`)).close();
  const db = new Database(path);
  configureConnection(db);
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  await assert.rejects(openRegistry(`sqlite:${path}`), /newer than this build/);

  const scratch = new Database(':memory:');
  assert.throws(() => applyMigrations(scratch, ['CREATE TABLE ok (x)', 'CREATE TABLE half (x); SELECT nonsense FROM missing']));
  assert.equal(scratch.pragma('user_version', { simple: true }), 1, 'first migration kept, failed one rolled back');
  assert.deepEqual(scratch.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").all(), []);
});

storeTest('base models: idempotent on identical content, conflict on a changed sha under the same name', async (c) => {
  const store = await c.open();
  assert.equal((await store.registerBaseModel(BASE)).created, true);
  const again = await store.registerBaseModel(BASE);
  assert.equal(again.created, false);
  assert.equal((await store.getBaseModel(SHA)).name, 'use-lite');
  assert.deepEqual((await store.getBaseModel('use-lite')).placement, BASE.placement);
  const otherSha = createHash('sha256').update('onnx bytes v2').digest('hex');
  await assert.rejects(store.registerBaseModel({ ...BASE, sha256: otherSha }), ConflictError);
  await assert.rejects(store.registerBaseModel({ ...BASE, featureDim: 16 }), ConflictError);
  assert.equal((await store.registerBaseModel({ ...BASE, name: 'use-lite@2', sha256: otherSha })).created, true);
  assert.equal((await store.listBaseModels()).length, 2);
  await assert.rejects(store.getBaseModel('nope'), NotFoundError);
  await assert.rejects(store.registerBaseModel({ ...BASE, name: 'x', sha256: 'abc' }), ValidationError);
  await store.close();
});

storeTest('tasks: examples deduplicated, contradictions rejected, and a failed write leaves nothing behind', async (c) => {
  const store = await c.open();
  await store.registerBaseModel(BASE);
  const support = texts(['a', 'b', 'c'], 'support');
  const task = await store.createTask({ id: 'nouns', modality: 'text', baseModel: 'use-lite', labels: ['a', 'b', 'c'], examples: [...support, support[0]] });
  assert.deepEqual(task.exampleCounts, { support: 3 });
  assert.equal(task.baseModelSha, SHA);

  const bad = [...texts(['a'], 'query'), { label: 'b', split: 'query' as const, text: support[0].text }];
  await assert.rejects(store.createTask({ id: 'verbs', modality: 'text', baseModel: SHA, labels: ['a', 'b'], examples: [{ label: 'z', split: 'support', text: 'x' }] }), /expected one of the task's labels/);
  await assert.rejects(store.getTask('verbs'), NotFoundError, 'task row rolled back with its examples');
  await assert.rejects(store.addExamples('nouns', bad), /same content already in task/);
  assert.deepEqual((await store.getTask('nouns')).exampleCounts, { support: 3 }, 'the valid first query example was rolled back too');

  assert.deepEqual(await store.addExamples('nouns', [...texts(['a', 'b'], 'query'), support[1]]), { added: 2, skipped: 1 });
  assert.deepEqual((await store.listExamples('nouns', 'query')).map((e) => e.label), ['a', 'b']);
  assert.equal((await store.listExamples('nouns'))[0].hash, exampleHash({ text: support[0].text }));
  await assert.rejects(store.createTask({ id: 'nouns', modality: 'text', baseModel: SHA, labels: ['a'] }), AlreadyExistsError);
  await assert.rejects(store.createTask({ id: 'img', modality: 'image', baseModel: SHA, labels: ['a'] }), /expected a image model/);
  await assert.rejects(store.createTask({ id: 'Bad Slug', modality: 'text', baseModel: SHA, labels: ['a'] }), ValidationError);
  await assert.rejects(store.createTask({ id: 'dup', modality: 'text', baseModel: SHA, labels: ['a', 'a'] }), /distinct labels/);
  await store.close();
});

storeTest('createTasks writes all tasks or none, and replaces in the same transaction', async (c) => {
  const store = await c.open();
  await store.registerBaseModel(BASE);
  const task = (id: string, labels = ['a', 'b']) => ({ id, modality: 'text' as const, baseModel: SHA, labels, examples: texts(labels, 'support') });
  await store.createTask(task('kept'));
  await assert.rejects(store.createTasks([task('one'), task('kept')]), AlreadyExistsError);
  await assert.rejects(store.getTask('one'), NotFoundError, 'the first task was rolled back');
  await assert.rejects(store.createTasks([task('two'), { ...task('bad'), examples: [{ label: 'z', split: 'support', text: 'x' }] }]), ValidationError);
  await assert.rejects(store.getTask('two'), NotFoundError);
  const created = await store.createTasks([task('three'), task('kept', ['x', 'y', 'z'])], { replace: true });
  assert.deepEqual(created.map((t) => t.id), ['three', 'kept']);
  assert.deepEqual((await store.getTask('kept')).labels, ['x', 'y', 'z']);
  await assert.rejects(store.createTasks([task('four'), task('bad slug!')], { replace: true }), ValidationError);
  assert.deepEqual((await store.getTask('kept')).labels, ['x', 'y', 'z'], 'a failed replace leaves the old task');
  await assert.rejects(store.getTask('four'), NotFoundError);
  await store.close();
});

storeTest('listTasks pages with opaque tokens and filters', async (c) => {
  const store = await c.open();
  await store.registerBaseModel(BASE);
  for (const id of ['t3', 't1', 't5', 't2', 't4']) await store.createTask({ id, modality: 'text', baseModel: SHA, labels: ['x'] });
  const seen: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await store.listTasks({ modality: 'text' }, token, 2);
    seen.push(...page.items.map((x) => x.id));
    token = page.nextPageToken;
    pages++;
  } while (token);
  assert.deepEqual(seen, ['t1', 't2', 't3', 't4', 't5']);
  assert.equal(pages, 3);
  assert.equal((await store.listTasks({}, undefined, 5)).nextPageToken, undefined, 'exactly max rows: no next page');
  assert.equal((await store.listTasks({ modality: 'image' })).items.length, 0);
  await assert.rejects(store.listTasks({}, 'not-a-token'), ValidationError);
  await assert.rejects(store.listTasks({}, undefined, 0), ValidationError);
  await store.close();
});

storeTest('feature cache: put/get in order with hit and miss counters; a bad row stores nothing', async (c) => {
  const store = await c.open();
  await store.registerBaseModel(BASE);
  const [h1, h2, h3] = ['one', 'two', 'three'].map((text) => exampleHash({ text }));
  await store.putFeatures(SHA, [{ hash: h1, features: ramp(D, 1) }, { hash: h2, features: ramp(D, 2) }]);
  const got = await store.getFeatures(SHA, [h2, h3, h1]);
  assert.deepEqual(got[0], ramp(D, 2));
  assert.equal(got[1], undefined);
  assert.deepEqual(got[2], ramp(D, 1));
  assert.deepEqual(await store.getCacheStats(), { hits: 2, misses: 1 });
  await assert.rejects(store.putFeatures(SHA, [{ hash: h3, features: ramp(D, 3) }, { hash: h1, features: ramp(D + 1, 1) }]), /expected 8 values, got 9/);
  assert.equal((await store.getFeatures(SHA, [h3]))[0], undefined, 'first entry of the failed batch was rolled back');
  await assert.rejects(store.putFeatures(createHash('sha256').update('other').digest('hex'), [{ hash: h3, features: ramp(D, 3) }]), NotFoundError);
  await store.close();
});

storeTest('extractWithCache embeds each distinct miss once, in batches; a second pass embeds nothing', async (c) => {
  const store = await c.open();
  await store.registerBaseModel(BASE);
  const inputs = ['alpha', 'beta', 'gamma', 'alpha', 'delta', 'epsilon'];
  const items = inputs.map((text) => ({ hash: exampleHash({ text }), input: text }));
  const calls: string[][] = [];
  const embed = async (batch: string[]) => {
    calls.push(batch);
    return batch.map((s) => Float32Array.from({ length: D }, (_, i) => s.length + i));
  };
  const first = await extractWithCache(store, SHA, items, embed, { batchSize: 2 });
  assert.deepEqual(calls, [['alpha', 'beta'], ['gamma', 'delta'], ['epsilon']]);
  assert.equal(first.misses, 5);
  assert.equal(first.hits, 0);
  assert.deepEqual(first.features[3], first.features[0]);
  assert.equal(first.features[4][0], 'delta'.length);

  calls.length = 0;
  const second = await extractWithCache(store, SHA, items, embed);
  assert.equal(calls.length, 0);
  assert.deepEqual({ hits: second.hits, misses: second.misses }, { hits: 5, misses: 0 });
  assert.deepEqual(second.features, first.features);
  await assert.rejects(extractWithCache(store, SHA, [{ hash: exampleHash({ text: 'new' }), input: 'new' }], async () => []), /expected 1 feature rows, got 0/);
  await store.close();
});

storeTest('adapters: identical re-upload is idempotent, changed content gets a new version and hash, aliases move', async (c) => {
  const store = await c.open();
  await store.registerBaseModel(BASE);
  const v1 = await store.createAdapterVersion(adapterInput());
  assert.equal(v1.created, true);
  assert.equal(v1.value.version, 1);
  const again = await store.createAdapterVersion(adapterInput({ metrics: { acc: 0.9 }, trainingConfig: { steps: 99 } }));
  assert.equal(again.created, false, 'metrics and config are not identity');
  assert.equal(again.value.id, v1.value.id);
  assert.deepEqual(again.value.metrics, { acc: 0.7 }, 'stored version is never mutated');

  const b2 = ramp(D * R, 0.01);
  b2[0] += 0.5;
  const v2 = (await store.createAdapterVersion(adapterInput({ parameters: { lora_A: ramp(R * D, 0.1), lora_B: b2 } }))).value;
  assert.equal(v2.version, 2);
  assert.notEqual(v2.contentHash, v1.value.contentHash);
  const v3 = (await store.createAdapterVersion(adapterInput({ extra: { tau: 20 } }))).value;
  assert.equal(v3.version, 3, 'a changed temperature changes predictions, so it is new content');

  assert.equal((await store.setAlias('wordnet-nouns', 'production', 1)).version, 1);
  assert.equal((await store.getByAlias('wordnet-nouns', 'production')).contentHash, v1.value.contentHash);
  await store.setAlias('wordnet-nouns', 'production', 2);
  const prod = await store.getByAlias('wordnet-nouns', 'production');
  assert.equal(prod.version, 2);
  assert.deepEqual(prod.parameters.lora_B, b2);
  assert.deepEqual((await store.searchAdapters({ alias: 'production' })).items.map((a) => a.version), [2]);
  assert.equal((await store.getLatestAdapterVersion('wordnet-nouns')).version, 3);
  await assert.rejects(store.setAlias('wordnet-nouns', 'production', 9), NotFoundError);
  await assert.rejects(store.setAlias('wordnet-nouns', '7', 1), ValidationError);
  await store.deleteAlias('wordnet-nouns', 'production');
  await assert.rejects(store.getByAlias('wordnet-nouns', 'production'), NotFoundError);
  await assert.rejects(store.deleteAlias('wordnet-nouns', 'production'), NotFoundError);
  assert.equal((await store.getAdapterVersion('wordnet-nouns', 1)).version, 1);
  await store.close();
});

storeTest('adapters: shapes are checked against the base model placement; search filters and pages', async (c) => {
  const store = await c.open();
  await store.registerBaseModel(BASE);
  await assert.rejects(store.createAdapterVersion(adapterInput({ parameters: { lora_A: ramp(R * D, 1), lora_B: ramp(D * R + 1, 1) } })), /expected 8x2 = 16 values \(rank 2/);
  await assert.rejects(store.createAdapterVersion(adapterInput({ parameters: { lora_A: ramp(R * D, 1) } })), /parameters.lora_B/);
  await assert.rejects(store.createAdapterVersion(adapterInput({ parameters: { lora_A: ramp(R * D, 1), lora_B: new Float32Array(D * R).fill(NaN) } })), /finite/);
  await assert.rejects(store.createAdapterVersion(adapterInput({ parents: { adapterIds: ['ad_missing'] } })), NotFoundError);
  assert.equal((await store.searchAdapters()).items.length, 0, 'failed creations left nothing');
  for (let i = 0; i < 5; i++) {
    await store.createAdapterVersion(adapterInput({ name: `zoo-${i}`, method: i % 2 ? 'lora' : 'maml', taskId: `task-${i}`, alpha: 1 + i }));
  }
  assert.deepEqual((await store.searchAdapters({ method: 'lora' })).items.map((a) => a.name), ['zoo-1', 'zoo-3']);
  assert.deepEqual((await store.searchAdapters({ taskId: 'task-4' })).items.map((a) => a.name), ['zoo-4']);
  const p1 = await store.searchAdapters({}, undefined, 3);
  const p2 = await store.searchAdapters({}, p1.nextPageToken, 3);
  assert.deepEqual([...p1.items, ...p2.items].map((a) => a.name), ['zoo-0', 'zoo-1', 'zoo-2', 'zoo-3', 'zoo-4']);
  assert.equal(p2.nextPageToken, undefined);
  assert.equal('parameters' in p1.items[0], false, 'search returns summaries');
  await store.close();
});

storeTest('lineage follows adapter parents and the prior', async (c) => {
  const store = await c.open();
  await store.registerBaseModel(BASE);
  const prior = (await store.createPrior({ name: 'lift', baseModel: SHA, weights: Float32Array.of(1), means: ramp(32, 0.1), variances: new Float32Array(32).fill(0.5), sigma2: 0.1, beta2: 1, seed: 1 })).value;
  const a = (await store.createAdapterVersion(adapterInput({ name: 'fit-a', parents: { priorId: prior.id } }))).value;
  const b = (await store.createAdapterVersion(adapterInput({ name: 'fit-b', alpha: 8 }))).value;
  const fused = (await store.createAdapterVersion(adapterInput({ name: 'fused', method: 'retriever-fusion', alpha: 2, parents: { adapterIds: [a.id, b.id] } }))).value;
  assert.deepEqual(fused.parents, { adapterIds: [a.id, b.id], priorId: null });
  const lineage = await store.getLineage(fused.id);
  assert.deepEqual(lineage.nodes.map((n) => [n.kind, n.name, n.depth]), [['adapter', 'fused', 0], ['adapter', 'fit-a', 1], ['prior', 'lift', 2], ['adapter', 'fit-b', 1]]);
  assert.deepEqual(lineage.edges.map((e) => `${e.childId}->${e.parentId}`).sort(), [`${a.id}->${prior.id}`, `${fused.id}->${a.id}`, `${fused.id}->${b.id}`].sort());
  await assert.rejects(store.getLineage('ad_nope'), NotFoundError);
  await store.close();
});

storeTest('deleting a task cascades to its examples; adapters fitted on it keep working', async (c) => {
  const store = await c.open();
  await store.registerBaseModel(BASE);
  await store.createTask({ id: 'nouns', modality: 'text', baseModel: SHA, labels: ['a', 'b', 'c'], examples: texts(['a', 'b', 'c'], 'support') });
  const adapter = (await store.createAdapterVersion(adapterInput())).value;
  await store.deleteTask('nouns');
  await assert.rejects(store.getTask('nouns'), NotFoundError);
  assert.equal(Number((await (store as SqlRegistryStore).db.get<{ n: number }>('SELECT COUNT(*) AS n FROM examples'))!.n), 0, 'examples cascaded');
  const kept = await store.getAdapter(adapter.id);
  assert.equal(kept.taskId, 'nouns');
  assert.deepEqual(kept.parameters.lora_A, ramp(R * D, 0.1));
  await assert.rejects(store.deleteTask('nouns'), NotFoundError);
  await store.close();
});

storeTest('priors: validated shapes, idempotent versions, latest per base model, newest-first paging', async (c) => {
  const store = await c.open();
  await store.registerBaseModel(BASE);
  const input = { name: 'lift-k2', baseModel: 'use-lite', weights: Float32Array.of(0.3, 0.7), means: ramp(2 * 32, 0.01), variances: new Float32Array(64).fill(0.2), sigma2: 0.05, beta2: 1, seed: 7, trainingTaskIds: ['t1', 't2'], config: { K: 2 } };
  const p1 = await store.createPrior(input);
  assert.equal(p1.created, true);
  assert.deepEqual([p1.value.k, p1.value.d], [2, 32]);
  assert.equal((await store.createPrior({ ...input, config: { K: 2, note: 'rerun' } })).created, false);
  const p2 = (await store.createPrior({ ...input, sigma2: 0.1 })).value;
  assert.equal(p2.version, 2);
  assert.equal((await store.getLatestPrior(SHA)).id, p2.id);
  assert.deepEqual((await store.getPrior(p1.value.id)).means, input.means);
  assert.equal((await store.getPriorVersion('lift-k2', 1)).id, p1.value.id);
  const page = await store.listPriors({ baseModelSha: SHA }, undefined, 1);
  assert.equal(page.items[0].id, p2.id);
  assert.equal((await store.listPriors({}, page.nextPageToken, 1)).items[0].id, p1.value.id);
  await assert.rejects(store.createPrior({ ...input, means: ramp(63, 1) }), /expected K\*D values with K = 2, got 63/);
  await assert.rejects(store.createPrior({ ...input, variances: new Float32Array(64) }), /positive/);
  await assert.rejects(store.getLatestPrior(SHA, 'other'), NotFoundError);
  await store.close();
});

storeTest('runs: created running, finished once, listed newest first with filters', async (c) => {
  const store = await c.open();
  const r1 = await store.createRun({ kind: 'train', config: { K: 2 } });
  const r2 = await store.createRun({ kind: 'eval', id: 'eval-1' });
  assert.equal(r1.status, 'running');
  const done = await store.finishRun(r1.id, { status: 'succeeded', metrics: { nll: 0.4 } });
  assert.equal(done.status, 'succeeded');
  assert.ok(done.finishedMs! > done.startedMs);
  await assert.rejects(store.finishRun(r1.id, { status: 'failed' }), ConflictError);
  await assert.rejects(store.createRun({ kind: 'eval', id: 'eval-1' }), AlreadyExistsError);
  await assert.rejects(store.createRun({ kind: 'bake' as never }), /expected one of train, tune, eval, compare, fit/);
  assert.deepEqual((await store.listRuns()).items.map((r) => r.id), [r2.id, r1.id]);
  assert.deepEqual((await store.listRuns({ status: 'running' })).items.map((r) => r.id), ['eval-1']);
  await assert.rejects(store.finishRun('nope', { status: 'failed' }), NotFoundError);
  await store.close();
});

storeTest('reopening the registry keeps everything', async (c) => {
  const store = await c.open();
  await store.registerBaseModel(BASE);
  const task = await store.createTask({ id: 'nouns', modality: 'text', baseModel: SHA, labels: ['a', 'b', 'c'], metadata: { source: 'wordnet' }, examples: texts(['a', 'b', 'c'], 'support') });
  const h = exampleHash({ text: 'cached' });
  await store.putFeatures(SHA, [{ hash: h, features: ramp(D, 3) }]);
  const adapter = (await store.createAdapterVersion(adapterInput())).value;
  await store.setAlias(adapter.name, 'prod', 1);
  const prior = (await store.createPrior({ name: 'lift', baseModel: SHA, weights: Float32Array.of(1), means: ramp(32, 0.1), variances: new Float32Array(32).fill(0.5), sigma2: 0.1, beta2: 1, seed: 1 })).value;
  const run = await store.finishRun((await store.createRun({ kind: 'fit' })).id, { status: 'succeeded', metrics: { ms: 12 } });
  const examples = await store.listExamples('nouns');
  await store.close();

  const reopened = await c.open();
  assert.deepEqual(await reopened.getTask('nouns'), task);
  assert.deepEqual(await reopened.listExamples('nouns'), examples);
  assert.deepEqual((await reopened.getFeatures(SHA, [h]))[0], ramp(D, 3));
  assert.deepEqual(await reopened.getByAlias(adapter.name, 'prod'), adapter);
  assert.deepEqual(await reopened.getPrior(prior.id), prior);
  assert.deepEqual(await reopened.getRun(run.id), run);
  assert.equal((await reopened.createAdapterVersion(adapterInput())).created, false, 'content hash recomputed from stored data matches');
  await reopened.close();

  if (c.engine !== 'sqlite') return;
  const reader = await c.open({ readonly: true });
  assert.equal((await reader.getAdapter(adapter.id)).contentHash, adapter.contentHash);
  await assert.rejects(reader.createRun({ kind: 'eval' }), /readonly/);
  await reader.close();
});
