/**
 * The bundled suites become zoos: `npm start` seeds one text zoo and one image zoo, so every
 * method works for both modalities after the main command. Seeding a suite trains LiFT and the
 * competitors on its fixed training tasks (service/train-prior.ts) as a recorded run, then stores
 * those training tasks as registry tasks and makes the per-task adapters (each with its task
 * embedding and head) the members of a zoo named after the suite, so the zoo can be retrained
 * from its members like a user's. Each step is skipped when already done: a restart seeds nothing.
 */
import { encodePng } from '../backbone/image.ts';
import { loadSuite, type SuiteName } from '../benchmarks/suites.ts';
import { resolveTask } from '../benchmarks/train-tasks.ts';
import type { Suite } from '../benchmarks/types.ts';
import { orNull } from '../registry/errors.ts';
import { seededZooName, STORED_METHODS, TASK_EMBEDDING } from '../registry/artifact-names.ts';
import type { Adapter, Modality, Prior, TaskInput, ZooChange } from '../registry/types.ts';
import { findPrior } from './meta-artifacts.ts';
import { recordRun } from './runs.ts';
import { priorConfigFor, trainPrior } from './train-prior.ts';
import type { Runtime } from './runtime.ts';
import { slugOf } from './tasks.ts';
import { allPages } from '../registry/pages.ts';

/** The zoos `npm start` seeds, one per modality (the zoo takes the suite's name). */
export const SEED_SUITES: readonly { readonly suite: SuiteName; readonly modality: Modality }[] = [
  { suite: 'wordnet', modality: 'text' },
  { suite: 'emoji', modality: 'image' },
];

export interface SeedResult {
  readonly suite: SuiteName;
  readonly prior: Prior;
  /** false when the registry already had the suite's prior. */
  readonly trained: boolean;
  /** The zoo version holding this prior's adapters (changed: false when it already did). */
  readonly zoo: ZooChange;
  readonly ms: number;
}

/** The per-task adapters meta-training stored with `prior` (method `zoo`), all versions' newest. */
async function zooAdaptersOf(rt: Runtime, prior: Prior): Promise<Adapter[]> {
  const out: Adapter[] = [];
  for (const s of await allPages((token, size) => rt.store.searchAdapters({ method: STORED_METHODS.zoo, baseModelSha: prior.baseModelSha }, token, size))) {
    const a = await rt.store.getAdapter(s.id);
    if (a.parents.priorId === prior.id) out.push(a);
  }
  return out;
}

/** Trains the suite's prior when missing (as a `train` run), then makes its adapters the zoo's members. */
export async function seedZoo(rt: Runtime, suite: SuiteName): Promise<SeedResult> {
  const started = performance.now();
  const { baseModel } = await rt.backbones.forModality(SEED_SUITES.find((s) => s.suite === suite)?.modality ?? 'text');
  let prior = await findPrior(rt.store, baseModel, suite);
  const trained = prior === null;
  if (prior === null) {
    const cfg = priorConfigFor(suite);
    const { value } = await recordRun(rt.store, { kind: 'train', name: `seed zoo ${suite}`, config: { ...cfg, suite, baselines: true }, refs: { suite } },
      async (run) => {
        const r = await trainPrior(rt, suite, cfg, true, run.id);
        return {
          value: r.prior,
          metrics: { train_ms: Math.round(r.ms), tasks: r.prior.trainingTaskIds.length, kept: r.result.diagnostics.kept, final_log_lik: r.result.diagnostics.logLikTrace.at(-1) ?? null },
          refs: { prior_ids: [r.prior.id], adapter_ids: [...r.zooIds, ...Object.values(r.baselines)] },
        };
      });
    prior = value;
  }
  const zoo = await syncZoo(rt, suite, prior);
  return { suite, prior, trained, zoo, ms: performance.now() - started };
}

/** Registry id of a suite's training task (`wordnet:train:007` -> `wordnet-train-007`). */
export const seededTaskId = (specId: string): string => slugOf(specId);

/**
 * The suite's training tasks as registry tasks (all examples in the support split), so the zoo's
 * members carry their tasks and the zoo can be retrained like any user's (POST /v1/priors).
 * Tasks already present are kept. Images are stored as PNG: decoding gives the same pixels, so
 * the feature cache filled by training is reused.
 */
async function seedSuiteTasks(rt: Runtime, suite: Suite, baseModelSha: string): Promise<void> {
  const missing: TaskInput[] = [];
  for (const [i, spec] of suite.trainTasks.entries()) {
    const id = seededTaskId(spec.id);
    if (await orNull(rt.store.getTask(id))) continue;
    const examples = resolveTask(suite, spec).flatMap((exs) => exs.map((ex) => ({
      label: ex.label, split: 'support' as const, ...(ex.text !== undefined ? { text: ex.text } : { image: encodePng(ex.image!) }),
    })));
    missing.push({
      id, name: `${suite.name} training task ${i}`, modality: suite.modality, baseModel: baseModelSha, labels: spec.classes,
      metadata: { suite: suite.name, training_task: spec.id }, examples,
    });
  }
  // One transaction per chunk keeps each write short.
  for (let i = 0; i < missing.length; i += 50) await rt.store.createTasks(missing.slice(i, i + 50));
}

/**
 * Zoo `<suite>` holds exactly the adapters trained with `prior`, each with its training task as a
 * registry task: members of an older training, or without their task, are replaced in the same
 * new version.
 */
async function syncZoo(rt: Runtime, suite: SuiteName, prior: Prior): Promise<ZooChange> {
  const adapters = await zooAdaptersOf(rt, prior);
  const name = seededZooName(suite);
  await rt.store.createZoo({
    name, baseModel: prior.baseModelSha,
    description: `seeded from the bundled '${suite}' suite: one adapter per training task`, metadata: { suite },
  });
  const taskOf = (a: Adapter): string => seededTaskId(String(a.extra.trainingTask));
  const live = await rt.store.listZooMembers(name);
  const current = new Set(live.filter((m) => m.taskId !== null).map((m) => `${m.adapterId} ${m.taskId}`));
  const stale = adapters.filter((a) => !current.has(`${a.id} ${taskOf(a)}`));
  const wanted = new Set(adapters.map((a) => `${a.id} ${taskOf(a)}`));
  const remove = live.filter((m) => !wanted.has(`${m.adapterId} ${m.taskId}`)).map((m) => m.adapterId);
  if (stale.length === 0 && remove.length === 0) {
    const zoo = await rt.store.getZoo(name);
    return { zoo, version: zoo.version, added: [], replaced: [], removed: [], changed: false };
  }
  await seedSuiteTasks(rt, await loadSuite(suite), prior.baseModelSha);
  const add = stale.map((a) => ({ adapterId: a.id, taskId: taskOf(a), embedding: a.parameters[TASK_EMBEDDING] }));
  return rt.store.changeZooMembers(name, add, remove);
}
