/**
 * The whole flow over HTTP against the real server (ephemeral port, temporary SQLite file, the
 * real ONNX backbones): create tasks (JSON, JSONL, images) -> fit with several methods -> predict
 * -> compare -> export -> import -> identical predictions; aliases, browsing, lineage, retrieval,
 * cross-adapter batching (observed in /metrics), graceful shutdown.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../server/start.ts';
import { DEFAULT_CONFIG } from '../server/config.ts';
import { createLogger } from '../service/log.ts';
import { insertTestPrior } from './test-prior.ts';

let server: RunningServer;
let dir: string;

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Json; text: string; bytes: Buffer }> {
  const res = await fetch(server.url + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString('utf8');
  let json: Json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text, bytes };
}

async function metric(name: string): Promise<number> {
  const { text } = await call('GET', '/metrics');
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

const SUPPORT = {
  animals: ['The dog barked at the cat.', 'A horse galloped across the field.', 'The kitten chased a mouse.'],
  food: ['I ate a bowl of pasta for dinner.', 'Fresh bread and butter for breakfast.', 'She baked a chocolate cake.'],
  sports: ['The striker scored a goal in the final minute.', 'He hit a home run in the ninth inning.', 'The tennis match went to five sets.'],
};
const QUERY = [
  { label: 'animals', text: 'A cow grazed in the meadow next to the sheep.' },
  { label: 'food', text: 'We had soup and a sandwich for lunch.' },
  { label: 'sports', text: 'The basketball team won the championship game.' },
  { label: 'animals', text: 'The parrot sat on the branch with the owl.' },
];

function taskBody(id: string) {
  return {
    id,
    examples: [
      ...Object.entries(SUPPORT).flatMap(([label, texts]) => texts.map((text) => ({ label, text }))),
      ...QUERY.map((q) => ({ ...q, split: 'query' })),
    ],
  };
}

/** The shared small test prior (test/test-prior.ts). */
const insertPrior = (): Promise<string> => insertTestPrior(server.context.runtime.store);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lift-server-'));
  server = await startServer({ ...DEFAULT_CONFIG, port: 0, registryUrl: join(dir, 'registry.sqlite'), batchWindowMs: 25 }, { logger: createLogger('silent') });
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('server: operations', () => {
  it('answers liveness, readiness and serves an OpenAPI document with the routes', async () => {
    assert.equal((await call('GET', '/healthz')).status, 200);
    const ready = await call('GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.json.backbones_loaded, true);
    const doc = (await call('GET', '/openapi.json')).json;
    assert.equal(doc.openapi, '3.1.0');
    for (const p of ['/v1/tasks', '/v1/tasks/{id}/fit', '/v1/predict', '/v1/retrieve', '/v1/adapters/import']) assert.ok(doc.paths[p], p);
    assert.ok(doc.paths['/v1/tasks/{id}/fit'].post.requestBody.content['application/json'].schema.properties.method);
  });
});

describe('server: task -> fit -> predict -> compare -> export -> import', () => {
  const ids: Record<string, string> = {};
  let priorId: string;

  before(async () => { priorId = await insertPrior(); });

  it('creates a text task and lists and gets it', async () => {
    const created = await call('POST', '/v1/tasks', taskBody('topics'));
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.json.labels, ['animals', 'food', 'sports']);
    assert.deepEqual(created.json.example_counts, { support: 9, query: 4 });
    const got = await call('GET', '/v1/tasks/topics');
    assert.equal(got.json.id, 'topics');
    const listed = await call('GET', '/v1/tasks?max_results=10');
    assert.ok(listed.json.items.some((t: Json) => t.id === 'topics'));
  });

  it('fits prototypes, independent, lift-map and lift-posterior adapters', async () => {
    for (const method of ['prototypes', 'independent', 'lift-map', 'lift-posterior']) {
      const res = await call('POST', '/v1/tasks/topics/fit', { method, ...(method === 'independent' ? { alias: 'prod' } : {}) });
      assert.equal(res.status, 201, `${method}: ${res.text}`);
      assert.equal(res.json.adapter.method, method);
      assert.ok(res.json.fit_ms >= 0);
      assert.ok(res.json.support_accuracy >= 2 / 3, `${method} support accuracy ${res.json.support_accuracy}`);
      ids[method] = res.json.adapter.id;
    }
    const again = await call('POST', '/v1/tasks/topics/fit', { method: 'independent' });
    assert.equal(again.status, 200, 'identical refit returns the stored version');
    assert.equal(again.json.created, false);
    assert.equal(again.json.adapter.id, ids.independent);
    const lineage = await call('GET', `/v1/adapters/${ids['lift-map']}/lineage`);
    assert.ok(lineage.json.nodes.some((n: Json) => n.kind === 'prior' && n.id === priorId), 'lift-map adapter descends from the prior');
  });

  it('predicts by id, by name + alias and by task default, with probabilities over the labels', async () => {
    const inputs = QUERY.map((q) => ({ text: q.text }));
    const byId = await call('POST', '/v1/predict', { adapter: { id: ids.independent }, inputs });
    assert.equal(byId.status, 200, byId.text);
    const byAlias = await call('POST', '/v1/predict', { adapter: { name: 'topics.independent', alias: 'prod' }, inputs });
    assert.deepEqual(byAlias.json.predictions, byId.json.predictions);
    const byTask = await call('POST', '/v1/predict', { adapter: { task: 'topics' }, inputs });
    assert.equal(byTask.json.adapter.id, ids['lift-posterior'], 'default = latest fitted');
    for (const p of byId.json.predictions) {
      const sum = Object.values(p.probabilities as Record<string, number>).reduce((s, v) => s + v, 0);
      assert.ok(Math.abs(sum - 1) < 1e-4, `probabilities sum to ${sum}`);
      assert.equal(p.uncertainty, undefined);
    }
    const correct = byId.json.predictions.filter((p: Json, i: number) => p.label === QUERY[i].label).length;
    assert.ok(correct >= 3, `independent adapter got ${correct}/4 clear queries`);
  });

  it('reports uncertainty for LiFT posterior adapters', async () => {
    const res = await call('POST', '/v1/predict', { adapter: { id: ids['lift-posterior'] }, inputs: [{ text: QUERY[0].text }, { text: 'qwxz vbnm' }] });
    assert.equal(res.status, 200, res.text);
    for (const p of res.json.predictions) {
      assert.ok(p.uncertainty.entropy >= p.uncertainty.mutual_information, 'entropy >= mutual information');
      assert.ok(p.uncertainty.mutual_information >= 0);
      assert.ok(p.uncertainty.entropy <= Math.log(3) + 1e-6);
    }
  });

  it('compares methods side by side on the task query split', async () => {
    const res = await call('POST', '/v1/tasks/topics/compare', { methods: ['prototypes', 'independent', 'lift-map'] });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.query_size, 4);
    assert.deepEqual(res.json.rows.map((r: Json) => r.method), ['prototypes', 'independent', 'lift-map']);
    for (const row of res.json.rows) {
      assert.ok(row.accuracy >= 0.5, `${row.method} accuracy ${row.accuracy}`);
      assert.ok(row.nll > 0 && Number.isFinite(row.nll));
      assert.ok(row.fit_ms >= 0);
    }
    const supplied = await call('POST', '/v1/tasks/topics/compare', { methods: ['prototypes'], query: [{ label: 'food', text: 'Pizza with cheese and tomato.' }] });
    assert.equal(supplied.json.query_source, 'request');
    assert.equal(supplied.json.query_size, 1);
  });

  it('exports PEFT files and imports them into an adapter that predicts identically', async () => {
    for (const method of ['independent', 'lift-posterior']) {
      const exported = await call('GET', `/v1/adapters/${ids[method]}/peft`);
      assert.equal(exported.status, 200);
      assert.equal(exported.json['adapter_config.json'].peft_type, 'LORA');
      const raw = await call('GET', `/v1/adapters/${ids[method]}/peft/adapter_model.safetensors`);
      assert.deepEqual(raw.bytes, Buffer.from(exported.json['adapter_model.safetensors'], 'base64'));
      const imported = await call('POST', '/v1/adapters/import', { ...exported.json, name: `imported/${method}` });
      assert.equal(imported.status, 201, imported.text);
      assert.notEqual(imported.json.adapter.id, ids[method]);
      const inputs = QUERY.map((q) => ({ text: q.text }));
      const a = await call('POST', '/v1/predict', { adapter: { id: ids[method] }, inputs });
      const b = await call('POST', '/v1/predict', { adapter: { name: `imported/${method}` }, inputs });
      const byName = await call('GET', `/v1/adapter-names/imported/${method}`);
      assert.equal(byName.json.id, imported.json.adapter.id, 'a name with "/" works unescaped in the path');
      assert.equal((await call('GET', `/v1/adapter-names/imported%2F${method}`)).json.id, imported.json.adapter.id);
      assert.deepEqual(b.json.predictions, a.json.predictions, `${method}: imported adapter predicts identically`);
      const reimport = await call('POST', '/v1/adapters/import', exported.json);
      assert.equal(reimport.json.created, false, 'same name + content is the same version');
    }
  });

  it('moves aliases without serving stale predictions, and browses adapters with paging', async () => {
    const v2 = await call('POST', '/v1/tasks/topics/fit', { method: 'independent', seed: 1, steps: 60, lr: 0.01 });
    assert.equal(v2.json.adapter.version, 2);
    const moved = await call('PUT', '/v1/adapter-names/topics.independent/-/aliases/prod', { version: 2 });
    assert.equal(moved.status, 200, moved.text);
    const inputs = [{ text: QUERY[1].text }];
    const viaAlias = await call('POST', '/v1/predict', { adapter: { name: 'topics.independent', alias: 'prod' }, inputs });
    const viaV2 = await call('POST', '/v1/predict', { adapter: { id: v2.json.adapter.id }, inputs });
    assert.equal(viaAlias.json.adapter.version, 2);
    assert.deepEqual(viaAlias.json.predictions, viaV2.json.predictions);
    const page1 = await call('GET', '/v1/adapters?task_id=topics&max_results=2');
    assert.equal(page1.json.items.length, 2);
    assert.ok(page1.json.next_page_token);
    const page2 = await call('GET', `/v1/adapters?task_id=topics&max_results=2&page_token=${encodeURIComponent(page1.json.next_page_token)}`);
    assert.ok(page2.json.items.length >= 1);
    const prod = await call('GET', '/v1/adapters?alias=prod');
    assert.deepEqual(prod.json.items.map((a: Json) => a.version), [2]);
    assert.equal((await call('GET', '/v1/adapter-names/topics.independent?alias=prod')).json.version, 2);
    assert.equal((await call('GET', '/v1/adapter-names/topics.independent?version=1')).json.version, 1);
    assert.deepEqual((await call('GET', '/v1/adapter-names/topics.independent/-/aliases')).json.items.map((a: Json) => [a.alias, a.version]), [['prod', 2]]);
    assert.equal((await call('GET', `/v1/adapter-names/${ids.independent}/-/aliases`)).status, 404, 'an id is not a name');
    assert.equal((await call('GET', '/v1/adapter-names/topics.independent')).status, 200);
    assert.equal((await call('GET', '/v1/adapters/topics.independent')).status, 404, 'a name is not an id');
    assert.equal((await call('DELETE', '/v1/adapter-names/topics.independent/-/aliases/prod')).status, 204);
    assert.equal((await call('POST', '/v1/predict', { adapter: { name: 'topics.independent', alias: 'prod' }, inputs })).status, 404);
    const detail = await call('GET', `/v1/adapters/${ids.independent}`);
    assert.ok(detail.json.parameters.lora_A.length > 0);
    assert.equal((await call('GET', '/v1/priors')).json.items[0].id, priorId);
    assert.equal((await call('GET', '/v1/base-models')).json.items.length, 2);
  });

  it('batches concurrent predictions for different adapters: one backbone pass per distinct input', async () => {
    const adapters = [ids.prototypes, ids.independent, ids['lift-map'], ids['lift-posterior']];
    const inputs = [{ text: 'A brand new sentence about zebras.' }, { text: 'Another unseen sentence about noodles.' }];
    const embeddedBefore = await metric('lift_backbone_inputs_total');
    const batchesBefore = await metric('lift_predict_batches_total');
    const results = await Promise.all(adapters.flatMap((id) => [0, 1].map(() => call('POST', '/v1/predict', { adapter: { id }, inputs }))));
    assert.ok(results.every((r) => r.status === 200));
    assert.equal(await metric('lift_backbone_inputs_total') - embeddedBefore, 2, 'backbone ran once per distinct input');
    const batches = await metric('lift_predict_batches_total') - batchesBefore;
    assert.ok(batches < results.length, `8 requests ran in ${batches} batch(es)`);
    const perAdapter = (await call('GET', '/metrics')).text;
    assert.match(perAdapter, new RegExp(`lift_adapter_predictions_total\\{adapter="${ids['lift-map']}"\\}`));
  });

  it('creates tasks from the JSONL task-file format, as a body or a field', async () => {
    const lines = [
      { task: 'Mood Check', split: 'support', label: 'happy', text: 'What a wonderful day!' },
      { task: 'Mood Check', split: 'support', label: 'sad', text: 'I feel so down today.' },
      { task: 'Mood Check', split: 'query', label: 'happy', text: 'This is fantastic news.' },
    ].map((l) => JSON.stringify(l)).join('\n');
    const res = await fetch(`${server.url}/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines });
    const body = await res.json() as Json;
    assert.equal(res.status, 201, JSON.stringify(body));
    assert.equal(body.tasks[0].id, 'mood-check');
    const field = await call('POST', '/v1/tasks', { jsonl: lines, id: 'mood-2' });
    assert.equal(field.status, 201, field.text);
    assert.deepEqual(field.json.tasks[0].example_counts, { support: 2, query: 1 });
  });

  it('creates an image task from base64 PNGs and predicts from pixels', async () => {
    const png = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', 'images', `${name}.png`)).toString('base64');
    const created = await call('POST', '/v1/tasks', {
      id: 'pictures', examples: [{ label: 'face', image_base64: png('grinning-face') }, { label: 'fruit', image_base64: `data:image/png;base64,${png('red-apple')}` }],
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.modality, 'image');
    const fit = await call('POST', '/v1/tasks/pictures/fit', { method: 'prototypes' });
    assert.equal(fit.status, 201, fit.text);
    const pred = await call('POST', '/v1/predict', { adapter: { task: 'pictures' }, inputs: [{ image_base64: png('red-apple') }, { image_base64: png('grinning-face') }] });
    assert.deepEqual(pred.json.predictions.map((p: Json) => p.label), ['fruit', 'face']);
  });

  it('retrieves from a zoo by task embedding and predicts, and says so when no zoo has members', async () => {
    const none = await call('POST', '/v1/retrieve', { inputs: [{ text: 'a dog and a cat' }] });
    assert.equal(none.status, 409);
    assert.match(none.json.error.message, /no zoo has members/);
    const weather = await call('POST', '/v1/tasks', { id: 'weather', examples: [
      { label: 'rain', text: 'Heavy rain and thunder all afternoon.' }, { label: 'rain', text: 'Drizzle and grey clouds today.' },
      { label: 'sun', text: 'Clear blue skies and a hot sun.' }, { label: 'sun', text: 'A bright sunny morning without clouds.' }] });
    assert.equal(weather.status, 201, weather.text);
    const fit = await call('POST', '/v1/tasks/weather/fit', { method: 'prototypes', zoo: 'demo' });
    assert.equal(fit.json.zoo.version, 1, fit.text);
    const promoted = await call('POST', '/v1/zoos/demo/members', { adapters: [{ id: ids.independent }] });
    assert.equal(promoted.status, 201, promoted.text);
    assert.equal(promoted.json.version, 2);
    const inputs = [{ text: 'The wolf chased a rabbit through the forest.' }, { text: 'A kitten played with the puppy.' }];
    const res = await call('POST', '/v1/retrieve', { inputs, top_k: 2 });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.candidates[0].task_id, 'topics');
    assert.ok(res.json.candidates[0].score > res.json.candidates[1].score);
    assert.deepEqual(res.json.result.labels, ['animals', 'food', 'sports']);
    assert.equal(res.json.result.predictions[0].label, 'animals');
    const mix = await call('POST', '/v1/retrieve', { inputs, top_k: 2, mode: 'mixture', zoo: 'demo' });
    assert.deepEqual(mix.json.result.labels, ['animals', 'food', 'sports', 'rain', 'sun']);
    assert.deepEqual(mix.json.result.used.map((u: Json) => u.weight), [0.5, 0.5]);
    const total = Object.values(mix.json.result.predictions[0].probabilities as Record<string, number>).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - 1) < 1e-5, `mixture probabilities sum to ${total}`);
    const arrow = await call('POST', '/v1/retrieve', { inputs, routing: 'arrow', predict: false });
    assert.equal(arrow.json.result, null);
    assert.equal(arrow.json.candidates.length, 2);
  });

  it('deletes a task; its adapters keep predicting', async () => {
    assert.equal((await call('DELETE', '/v1/tasks/mood-2')).status, 204);
    assert.equal((await call('GET', '/v1/tasks/mood-2')).status, 404);
    const fit = await call('POST', '/v1/tasks/mood-check/fit', { method: 'prototypes' });
    assert.equal((await call('DELETE', '/v1/tasks/mood-check')).status, 204);
    const pred = await call('POST', '/v1/predict', { adapter: { id: fit.json.adapter.id }, inputs: [{ text: 'Such a great day' }] });
    assert.equal(pred.status, 200, pred.text);
  });
});
