/**
 * Meta-training of the competitors on the same training tasks and features as LiFT: MAML (1 and
 * 5 inner steps), FOMAML, Reptile, MBC (clustered from LiFT's zoo) and MAP-hierarchical K = 1.
 * Each result is stored as adapters named `meta/<suite>/<method>` so the evaluation and the
 * server rebuild the same methods from the registry.
 */
import { METHOD_NAMES, METHOD_TABLE, type MethodRecord } from '../adapters/method-table.ts';
import { splitTheta, type LayerSpec } from '../adapters/lora.ts';
import { mamlTrain, type MetaVariant } from '../adapters/maml.ts';
import { mapHierarchicalTrain } from '../adapters/map-hierarchical.ts';
import { mbcTrain } from '../adapters/mbc.ts';
import { metaTaskFromLabelled, type MetaTask } from '../adapters/meta-task.ts';
import { createRng } from '../adapters/rng.ts';
import type { LabelledSet } from '../adapters/task-likelihood.ts';
import { shapeOf } from '../adapters/from-init.ts';
import type { RegistryStore } from '../registry/store.ts';
import type { BaseModel, JsonObject } from '../registry/types.ts';
import { startProgress } from './progress.ts';
import type { PriorTrainConfig } from './train-prior.ts';
import { metaAdapterName } from './meta-artifacts.ts';

export interface BaselineTrainConfig {
  /** Meta-steps of MAML-family training (batch of 4 tasks each). */
  readonly metaSteps: number;
  readonly outerLr: number;
  readonly innerLr: number;
  readonly mbcClusters: number;
  readonly mbcSteps: number;
  readonly mapSteps: number;
}

export const DEFAULT_BASELINE_CONFIG: BaselineTrainConfig = {
  metaSteps: 200, outerLr: 0.01, innerLr: 0.01, mbcClusters: 10, mbcSteps: 150, mapSteps: 3000,
};

/** The MAML family as the method table describes it (name, variant, inner steps). */
export const META_VARIANTS: readonly { name: string; variant: MetaVariant; innerSteps: number }[] = METHOD_NAMES.flatMap((name) => {
  const trainer = (METHOD_TABLE[name] as MethodRecord).metaTrainer;
  return trainer ? [{ name, ...trainer }] : [];
});



interface TrainingSet {
  readonly store: RegistryStore;
  readonly baseModel: BaseModel;
  readonly suite: string;
  readonly layer: LayerSpec;
  readonly ids: readonly string[];
  readonly data: readonly LabelledSet[];
  /** LiFT's per-task adapters, the zoo MBC clusters. */
  readonly zoo: readonly Float32Array[];
  readonly priorId: string;
  /** The suite's meta-training classes: the label set a meta-learned start was trained across. */
  readonly classes: readonly string[];
}

/** Trains every competitor and stores it; returns the stored adapter ids by method. */
export async function trainBaselines(set: TrainingSet, lift: PriorTrainConfig, cfg: BaselineTrainConfig = DEFAULT_BASELINE_CONFIG): Promise<Record<string, string>> {
  const tasks: MetaTask[] = set.ids.map((id, i) =>
    metaTaskFromLabelled(id, set.data[i], { nWay: 5, shots: lift.shots, queries: lift.queries }));
  const adapterCfg = { rank: lift.rank, alpha: lift.alpha, tau: lift.tau, a0Seed: lift.a0Seed };
  const rng = createRng(lift.seed).fork('baselines');
  const stored: Record<string, string> = {};
  const save = async (method: string, theta: Float32Array, extra: JsonObject, parameters: Record<string, Float32Array> = {}) => {
    stored[method] = await storeInit(set, lift, method, theta, extra, parameters);
  };

  for (const m of META_VARIANTS) {
    const progress = startProgress(m.name, cfg.metaSteps);
    const result = mamlTrain(tasks, set.layer, { ...adapterCfg, metaSteps: cfg.metaSteps, outerLr: cfg.outerLr, innerLr: cfg.innerLr },
      rng.fork(m.name), m.variant, m.innerSteps, (done) => progress.update(done));
    progress.stop();
    await save(m.name, result.theta0, { innerSteps: m.innerSteps, innerLr: cfg.innerLr, postLoss: result.postLossTrace.at(-1) ?? null });
  }

  const mapProgress = startProgress('map-hierarchical', cfg.mapSteps);
  const map = mapHierarchicalTrain(tasks, set.layer, { ...adapterCfg, steps: cfg.mapSteps, lr: 0.01, sigma2: lift.sigma2, beta2: lift.beta2 },
    rng.fork('map-hierarchical'), (done) => mapProgress.update(done));
  mapProgress.stop();
  await save('map-hierarchical', map.phi, { sigma2: map.sigma2, beta2: map.beta2 });

  const mbcProgress = startProgress('mbc clusters', cfg.mbcClusters * cfg.mbcSteps);
  const mbc = mbcTrain(set.ids.map((id, i) => ({ id, theta: set.zoo[i] })), tasks, set.layer,
    { ...adapterCfg, clusters: cfg.mbcClusters, trainSteps: cfg.mbcSteps, trainLr: 0.01 }, rng.fork('mbc'), (done) => mbcProgress.update(done));
  mbcProgress.stop();
  for (const c of mbc.clusters) {
    await save(`mbc-${c.index}`, c.theta, { members: [...c.members] }, { arrow: c.arrow });
  }
  return stored;
}

async function storeInit(
  set: TrainingSet, lift: PriorTrainConfig, method: string, theta: Float32Array, extra: JsonObject,
  parameters: Record<string, Float32Array>,
): Promise<string> {
  const shape = shapeOf(set.layer, lift);
  const { A, B } = splitTheta(theta, shape);
  return (await set.store.createAdapterVersion({
    name: metaAdapterName(set.suite, method), method: method.startsWith('mbc-') ? 'mbc-cluster' : method,
    baseModel: set.baseModel.sha256, labels: set.classes, rank: lift.rank, alpha: lift.alpha,
    parameters: { lora_A: Float32Array.from(A), lora_B: Float32Array.from(B), ...parameters },
    extra: { ...extra, tau: lift.tau, suite: set.suite, a0Seed: lift.a0Seed },
    trainingConfig: { ...lift },
    parents: method.startsWith('mbc-') ? { priorId: set.priorId } : {},
  })).value.id;
}
