/**
 * The bundled suites become zoos: `npm start` seeds one text zoo and one image zoo, so every
 * method works for both modalities after the main command. Seeding a suite trains LiFT and the
 * competitors on its fixed training tasks (service/train-prior.ts) as a recorded run, then makes
 * the per-task adapters (each with its task embedding and head) the members of a zoo named
 * after the suite. Both steps are skipped when already done, so a restart seeds nothing.
 */
import type { SuiteName } from '../benchmarks/suites.ts';
import { seededZooName, STORED_METHODS, TASK_EMBEDDING } from '../registry/artifact-names.ts';
import type { Adapter, Modality, Prior, ZooChange } from '../registry/types.ts';
import { findPrior } from './meta-artifacts.ts';
import { recordRun } from './runs.ts';
import { priorConfigFor, trainPrior } from './train-prior.ts';
import type { Runtime } from './runtime.ts';

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
  let token: string | undefined;
  do {
    const page = await rt.store.searchAdapters({ method: STORED_METHODS.zoo, baseModelSha: prior.baseModelSha }, token, 1000);
    for (const s of page.items) {
      const a = await rt.store.getAdapter(s.id);
      if (a.parents.priorId === prior.id) out.push(a);
    }
    token = page.nextPageToken;
  } while (token);
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

/**
 * Zoo `<suite>` holds exactly the adapters trained with `prior`: members of an older training are
 * removed in the same new version. Suite tasks are not registry tasks, so members carry no task id
 * (their training task is in the adapter's `extra.trainingTask`).
 */
async function syncZoo(rt: Runtime, suite: SuiteName, prior: Prior): Promise<ZooChange> {
  const adapters = await zooAdaptersOf(rt, prior);
  const name = seededZooName(suite);
  await rt.store.createZoo({
    name, baseModel: prior.baseModelSha,
    description: `seeded from the bundled '${suite}' suite: one adapter per training task`, metadata: { suite },
  });
  const live = (await rt.store.listZooMembers(name)).map((m) => m.adapterId);
  const wanted = new Set(adapters.map((a) => a.id));
  const add = adapters.filter((a) => !live.includes(a.id)).map((a) => ({ adapterId: a.id, taskId: null, embedding: a.parameters[TASK_EMBEDDING] }));
  const remove = live.filter((id) => !wanted.has(id));
  return rt.store.changeZooMembers(name, add, remove);
}
