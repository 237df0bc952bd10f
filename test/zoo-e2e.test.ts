/**
 * The zoo belongs to its users, end to end over HTTP (real server on an ephemeral port, a
 * temporary SQLite registry, the real backbones, a real job): 30 tasks of a user's own (WordNet
 * glosses as a stand-in) are fitted and promoted into a new zoo; a prior is trained from it
 * through the job API (progress, trace, SSE, cancellation); a new task is fitted under it; the
 * zoo is retrieved from; an adapter is exported, re-imported without its head, attached to a
 * task, and predicts. Settings are small so the whole file runs in well under a minute.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSuite } from '../benchmarks/suites.ts';
import { resolveTask } from '../benchmarks/train-tasks.ts';
import { PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from '../registry/peft.ts';
import { startServer, type RunningServer } from '../server/start.ts';
import { DEFAULT_CONFIG } from '../server/config.ts';
import { createLogger } from '../service/log.ts';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

let server: RunningServer;
let dir: string;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json; text: string; headers: Headers }> {
  const res = await fetch(server.url + path, {
    method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text, headers: res.headers };
}

/** Every Job object the SSE stream sends until it ends. */
async function jobEvents(id: string): Promise<Json[]> {
  const res = await fetch(`${server.url}/v1/jobs/${id}/events`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const text = await res.text();
  return text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
}

interface UserTask { id: string; examples: { label: string; text: string; split: 'support' | 'query' }[] }

/** Task i of the suite's training tasks: 5 glosses per class, 3 support and 2 query. */
function userTask(suite: Awaited<ReturnType<typeof loadSuite>>, i: number, id: string): UserTask {
  const spec = suite.trainTasks[i];
  const classes = resolveTask(suite, spec);
  return {
    id,
    examples: classes.flatMap((exs, c) => exs.slice(0, 5).map((ex, j) => ({ label: spec.classes[c], text: ex.text!, split: j < 3 ? 'support' as const : 'query' as const }))),
  };
}

const PRIOR_CONFIG = { steps: 300, burnIn: 100, thinning: 2, warmSteps: 5, K: 2 };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lift-zoo-e2e-'));
  server = await startServer({ ...DEFAULT_CONFIG, port: 0, registryUrl: join(dir, 'registry.sqlite') }, { logger: createLogger('silent') });
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a user grows a zoo, trains a prior from it and serves from it', () => {
  let tasks: UserTask[];
  let newTask: UserTask;
  const memberIds: string[] = [];
  let prior: Json;
  let liftAdapter: Json;

  before(async () => {
    const suite = await loadSuite('wordnet');
    tasks = Array.from({ length: 30 }, (_, i) => userTask(suite, i, `user-task-${i}`));
    newTask = userTask(suite, 100, 'new-task');
  });

  it('creates 30 tasks, fits each, and promotes them into a new zoo (one version)', async () => {
    for (const t of tasks) {
      const created = await call('POST', '/v1/tasks', t);
      assert.equal(created.status, 201, created.text);
      const fit = await call('POST', `/v1/tasks/${t.id}/fit`, { method: 'independent', steps: 5 });
      assert.equal(fit.status, 201, fit.text);
      memberIds.push(fit.json.adapter.id);
    }
    const promoted = await call('POST', '/v1/zoos/user-zoo/members', { adapters: memberIds.map((id) => ({ id })), description: 'my tasks' });
    assert.equal(promoted.status, 201, promoted.text);
    assert.deepEqual([promoted.json.version, promoted.json.added.length, promoted.json.zoo.member_count], [1, 30, 30]);
    const again = await call('POST', '/v1/zoos/user-zoo/members', { adapters: [{ id: memberIds[0] }] });
    assert.deepEqual([again.status, again.json.changed, again.json.version], [200, false, 1]);
    const members = await call('GET', '/v1/zoos/user-zoo/members');
    assert.equal(members.json.items.length, 30);
    assert.equal(members.json.items[0].task_id, 'user-task-0');
    assert.equal(members.json.items[0].adapter.method, 'independent');
    const zoo = await call('GET', '/v1/zoos/user-zoo');
    assert.deepEqual(zoo.json.versions.map((v: Json) => v.version), [1]);
  });

  it('trains a prior from the zoo as a job: 202 + Location, phases, trace, SSE, lineage, a run', async () => {
    const submitted = await call('POST', '/v1/priors', { zoo: 'user-zoo', base_model: 'use-lite', config: PRIOR_CONFIG });
    assert.equal(submitted.status, 202, submitted.text);
    const job = submitted.json.job;
    assert.equal(submitted.headers.get('location'), `/v1/jobs/${job.id}`);
    assert.equal(job.kind, 'train-prior');
    const events = await jobEvents(job.id);
    const done = events.at(-1);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.ok(events.some((e) => e.status === 'running' && e.phase === 'SGLD-Gibbs' && e.phase_index === 3 && e.phase_count === 4),
      `phases seen: ${events.map((e) => `${e.phase}(${e.phase_index}/${e.phase_count})`).join(', ')}`);
    assert.ok(events.some((e) => e.status === 'running' && e.eta_ms !== null), 'an ETA while running');
    const progress = events.map((e) => e.progress);
    assert.deepEqual(progress, [...progress].sort((a, b) => a - b), 'progress never goes back');
    assert.equal(done.progress, 1);
    assert.ok(done.trace.length >= 5 && done.trace.every((p: Json) => Number.isFinite(p.log_lik) && p.step > 0));
    assert.ok(done.finished_at >= done.started_at && done.started_at >= done.created_at);
    assert.deepEqual(done.result.zoo, { name: 'user-zoo', version: 1 });
    assert.equal(done.result.task_ids.length, 30);
    prior = (await call('GET', `/v1/priors/${done.result.prior.id}`)).json;
    assert.equal(prior.name, 'lift/user-zoo');
    assert.deepEqual([prior.config.zoo, prior.config.zoo_version, prior.config.run_id], ['user-zoo', 1, done.run_id]);
    assert.deepEqual(prior.training_task_ids, tasks.map((t) => t.id));
    // The chain's own diagnostics travel with the prior.
    const diag = prior.diagnostics;
    assert.ok(diag.components_live >= 1 && diag.components_live === prior.k && diag.weights.length === prior.k, JSON.stringify(diag));
    assert.ok(diag.expected_spread > 0 && diag.theta_spread > 0 && diag.ess_phi_min > 0, JSON.stringify(diag));
    const run = (await call('GET', `/v1/runs/${done.run_id}`)).json;
    assert.deepEqual([run.kind, run.status, run.refs.prior_ids, run.refs.zoo], ['train', 'succeeded', [prior.id], { name: 'user-zoo', version: 1 }]);
    assert.ok(run.duration_ms > 0 && run.params.zoo === 'user-zoo');
    const byZoo = (await call('GET', '/v1/runs?zoo=user-zoo&kind=train')).json;
    assert.deepEqual(byZoo.items.map((r: Json) => r.id), [run.id]);
    const listed = (await call('GET', '/v1/jobs?kind=train-prior&status=succeeded')).json;
    assert.equal(listed.items[0].id, job.id);
  });

  it('cancels a queued or running job; a finished one answers 409', async () => {
    const submitted = await call('POST', '/v1/priors', { zoo: 'user-zoo', config: { ...PRIOR_CONFIG, steps: 200000, burnIn: 100 } });
    const id = submitted.json.job.id;
    const cancelled = await call('POST', `/v1/jobs/${id}/cancel`);
    assert.equal(cancelled.status, 200, cancelled.text);
    const events = await jobEvents(id);
    assert.equal(events.at(-1).status, 'cancelled');
    const again = await call('POST', `/v1/jobs/${id}/cancel`);
    assert.equal(again.status, 409);
    assert.match(again.json.error.message, /already finished \(cancelled\)/);
    assert.equal((await call('POST', '/v1/priors', { zoo: 'no-such-zoo' })).status, 404);
    const bad = await call('POST', '/v1/priors', { zoo: 'user-zoo', config: { steps: -1 } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /config.steps: expected a number in \[2, 200000\], got -1/);
  });

  it('fits a new task under the prior it names, and by default under its zoo prior', async () => {
    assert.equal((await call('POST', '/v1/tasks', newTask)).status, 201);
    const fit = await call('POST', '/v1/tasks/new-task/fit', { method: 'lift-map', prior: { name: 'lift/user-zoo', version: prior.version } });
    assert.equal(fit.status, 201, fit.text);
    liftAdapter = fit.json.adapter;
    assert.equal(liftAdapter.parents.prior_id, prior.id);
    assert.equal(liftAdapter.training_config.run_id, fit.json.run_id);
    const runs = (await call('GET', `/v1/runs?adapter_id=${liftAdapter.id}`)).json;
    assert.deepEqual(runs.items.map((r: Json) => r.kind), ['fit']);
    const member = await call('POST', '/v1/tasks/user-task-0/compare', { methods: ['prototypes', 'lift-map'] });
    assert.equal(member.status, 200, member.text);
    assert.equal(member.json.prior_id, prior.id, 'a member task defaults to its zoo prior');
    assert.equal((await call('POST', '/v1/tasks/new-task/fit', { method: 'lift-map', prior: { name: 'no-such-prior' } })).status, 404);
  });

  it('fits with method auto by default: the choice follows the rule, its reason is returned and stored', async () => {
    const fit = await call('POST', '/v1/tasks/new-task/fit', { name: 'new-task.auto' });
    assert.equal(fit.status, 201, fit.text);
    const auto = fit.json.auto;
    assert.deepEqual(auto.candidates.map((c: Json) => c.zoo), ['user-zoo'], 'the one zoo with a prior is the one candidate');
    const [c] = auto.candidates;
    assert.equal(c.close, c.closeness >= auto.rule.minCloseness);
    assert.equal(auto.zoo?.name ?? null, c.close ? 'user-zoo' : null);
    assert.equal(fit.json.adapter.method, c.close ? 'lift-map' : auto.rule.fallback);
    assert.equal(fit.json.adapter.parents.prior_id, c.close ? prior.id : null);
    assert.match(auto.reason, /zoo 'user-zoo' closeness \d\.\d\d/);
    assert.deepEqual(fit.json.adapter.training_config.auto, auto, 'the choice is stored with the adapter');
    const run = (await call('GET', `/v1/runs/${fit.json.run_id}`)).json;
    assert.equal(run.params.method, 'auto');
    assert.deepEqual(run.params.auto, auto);
    const compare = await call('POST', '/v1/tasks/new-task/compare', {});
    assert.equal(compare.status, 200, compare.text);
    assert.deepEqual(compare.json.rows.map((r: Json) => r.method), ['auto']);
    assert.equal(compare.json.rows[0].auto.method, fit.json.adapter.method);
    const compareRun = (await call('GET', `/v1/runs/${compare.json.run_id}`)).json;
    assert.deepEqual(compareRun.refs.prior_ids ?? [], c.close ? [prior.id] : [], 'the compare run names the prior auto chose');
    const methods = (await call('GET', '/v1/methods')).json.items.map((m: Json) => m.name);
    assert.equal(methods[0], 'auto');
  });

  it('retrieves from the zoo: names members and scores, predicts with the best or a mixture', async () => {
    const inputs = tasks[3].examples.filter((e) => e.split === 'query').map((e) => ({ text: e.text }));
    const best = await call('POST', '/v1/retrieve', { inputs, zoo: 'user-zoo', top_k: 5 });
    assert.equal(best.status, 200, best.text);
    assert.equal(best.json.candidates.length, 5);
    assert.ok(best.json.candidates.some((c: Json) => c.task_id === 'user-task-3'), 'the task the inputs came from is among the top 5');
    assert.deepEqual(best.json.result.used.map((u: Json) => u.adapter.id), [best.json.candidates[0].adapter.id]);
    assert.deepEqual(best.json.result.labels, best.json.candidates[0].labels);
    const mix = await call('POST', '/v1/retrieve', { inputs, zoo: 'user-zoo', top_k: 3, mode: 'mixture' });
    assert.equal(mix.json.result.used.length, 3);
    for (const p of mix.json.result.predictions) assert.ok(mix.json.result.labels.includes(p.label));
  });

  it('exports an adapter, re-imports it without its head, attaches it to a task, and predicts', async () => {
    const peft = (await call('GET', `/v1/adapters/${liftAdapter.id}/peft`)).json;
    // PEFT's own two files: the LoRA without the head.
    const config = peft[PEFT_CONFIG_FILE], weights = peft[PEFT_WEIGHTS_FILE];
    assert.deepEqual([config.base_model_name_or_path, config.target_modules], ['google/universal-sentence-encoder-lite', ['2.linear']], 'public and PyTorch names');
    const imported = await call('POST', '/v1/adapters/import', { [PEFT_CONFIG_FILE]: config, [PEFT_WEIGHTS_FILE]: weights, name: 'foreign', labels: ['x', 'y'] });
    assert.equal(imported.status, 201, imported.text);
    const inputs = newTask.examples.filter((e) => e.split === 'query').map((e) => ({ text: e.text }));
    const refused = await call('POST', '/v1/predict', { adapter: { id: imported.json.adapter.id }, inputs });
    assert.equal(refused.status, 409);
    assert.match(refused.json.error.message, /has no task head .*attach it to a task first: POST \/v1\/adapters\/.+\/attach/);
    const attached = await call('POST', `/v1/adapters/${imported.json.adapter.id}/attach`, { task_id: 'new-task' });
    assert.equal(attached.status, 201, attached.text);
    assert.deepEqual([attached.json.adapter.version, attached.json.adapter.labels], [2, liftAdapter.labels]);
    assert.deepEqual(attached.json.adapter.parents.adapter_ids, [imported.json.adapter.id]);
    const predicted = await call('POST', '/v1/predict', { adapter: { name: 'foreign' }, inputs });
    assert.equal(predicted.status, 200, predicted.text);
    const original = await call('POST', '/v1/predict', { adapter: { id: liftAdapter.id }, inputs });
    assert.deepEqual(predicted.json.predictions.map((p: Json) => p.label), original.json.predictions.map((p: Json) => p.label),
      'same factors, same support, same τ: the same predictions');
    const atImport = await call('POST', '/v1/adapters/import', { [PEFT_CONFIG_FILE]: config, [PEFT_WEIGHTS_FILE]: weights, name: 'foreign-2', task_id: 'new-task' });
    assert.equal(atImport.status, 201, atImport.text);
    assert.equal(atImport.json.attached.from !== null, true);
    assert.deepEqual(atImport.json.adapter.labels, liftAdapter.labels);
    const promoted = await call('POST', '/v1/zoos/user-zoo/members', { adapters: [{ name: 'foreign' }] });
    assert.deepEqual([promoted.status, promoted.json.version], [201, 2]);
  });
});
