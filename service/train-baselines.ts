/**
 * Meta-training of the competitors on the same training tasks and features as LiFT, each as its
 * paper builds it:
 *  - MAML (1 and 5 inner steps), FOMAML, Reptile: a meta-learned start, stored with the inner
 *    loop it was trained for (steps, learning rate, optimiser), which is what they run at test time;
 *  - MAP-hierarchical K = 1: from the same warm start as LiFT's chain;
 *  - pooled multi-task LoRA: one adapter over all training tasks, early-stopped on validation;
 *  - a zoo of independently fine-tuned per-task LoRAs (the zoo LoRA-Retriever and MBC use, stored
 *    as its own registry zoo, never LiFT's sampled θ_i);
 *  - MBC: clusters of that zoo, one LoRA per cluster, for each (clusters, init) variant of
 *    MBC_VARIANTS (validation picks one, `npm run tune`).
 * Results are adapters named `meta/<suite>/…` whose `extra.trainedWith` is the LiFT prior of the
 * same training run, so evaluation and the server rebuild the same methods (meta-artifacts.ts).
 */
import { prepareSupport, fineTune, type SupportSet } from '../adapters/adapt.ts';
import { shapeOf, tuneFrom } from '../adapters/from-init.ts';
import { METHOD_NAMES, METHOD_TABLE, type MethodRecord } from '../adapters/method-table.ts';
import { taskEmbedding } from '../adapters/lora-retriever.ts';
import { initTheta, seededA0, splitTheta, type LayerSpec } from '../adapters/lora.ts';
import { mamlTrain, type MetaVariant } from '../adapters/maml.ts';
import { mapHierarchicalTrain } from '../adapters/map-hierarchical.ts';
import { mbcTrain } from '../adapters/mbc.ts';
import { metaTaskFromLabelled, type MetaTask } from '../adapters/meta-task.ts';
import { trainPooledLora } from '../adapters/pooled-lora.ts';
import { createRng } from '../adapters/rng.ts';
import type { LabelledSet } from '../adapters/task-likelihood.ts';
import { independentAdapterPart, independentZooName, mbcClusterPart, metaAdapterName, STORED_METHODS, TASK_EMBEDDING } from '../registry/artifact-names.ts';
import type { RegistryStore } from '../registry/store.ts';
import type { BaseModel, JsonObject } from '../registry/types.ts';
import type { SuiteName } from '../benchmarks/suites.ts';
import { startProgress } from './progress.ts';
import type { LoadedBackbone } from './backbones.ts';
import type { Runtime } from './runtime.ts';
import { featureEpisodes, suiteEpisodes } from './suite-episodes.ts';
import type { PriorTrainConfig } from './train-prior.ts';

export interface BaselineTrainConfig {
  /** Meta-steps of MAML-family training (batch of 4 tasks each). */
  readonly metaSteps: number;
  readonly outerLr: number;
  readonly innerLr: number;
  readonly mbcSteps: number;
  readonly mbcLr: number;
  readonly mapSteps: number;
  /** Independent per-task fine-tuning of the zoo (Adam from A0, B = 0). */
  readonly zooSteps: number;
  readonly zooLr: number;
  /** Pooled LoRA: most steps, learning rate, validation check every n steps, patience in checks. */
  readonly pooledMaxSteps: number;
  readonly pooledLr: number;
  readonly pooledEvalEvery: number;
  readonly pooledPatience: number;
}

export const DEFAULT_BASELINE_CONFIG: BaselineTrainConfig = {
  metaSteps: 200, outerLr: 0.01, innerLr: 0.01, mbcSteps: 150, mbcLr: 0.01, mapSteps: 3000,
  zooSteps: 30, zooLr: 0.01, pooledMaxSteps: 2000, pooledLr: 0.01, pooledEvalEvery: 100, pooledPatience: 4,
};

/**
 * The MAML family as the method table describes it (name, variant, inner steps), with the
 * optimiser of its inner loop (Reptile's is Adam, MAML's and FOMAML's plain gradient descent):
 * test time replays exactly that loop.
 */
export const META_VARIANTS: readonly { name: string; variant: MetaVariant; innerSteps: number; optimizer: 'gd' | 'adam' }[] =
  METHOD_NAMES.flatMap((name) => {
    const trainer = (METHOD_TABLE[name] as MethodRecord).metaTrainer;
    return trainer ? [{ name, ...trainer, optimizer: trainer.variant === 'reptile' ? 'adam' as const : 'gd' as const }] : [];
  });

/** MBC's training-time knobs; each variant is trained and stored, validation picks one. */
export const MBC_VARIANTS: readonly { name: string; clusters: number; init: 'scratch' | 'mean' }[] = [
  { name: 'c5-mean', clusters: 5, init: 'mean' },
  { name: 'c10-mean', clusters: 10, init: 'mean' },
  { name: 'c10-scratch', clusters: 10, init: 'scratch' },
];

/** A validation episode on feature rows (labels 0..nWay-1). */
export interface ValEpisode {
  readonly support: SupportSet;
  readonly query: LabelledSet;
  readonly nWay: number;
}

export interface TrainingSet {
  readonly store: RegistryStore;
  readonly baseModel: BaseModel;
  readonly suite: string;
  readonly layer: LayerSpec;
  readonly ids: readonly string[];
  readonly data: readonly LabelledSet[];
  /** Where LiFT's chain started (one θ per task): MAP-hierarchical starts there too. */
  readonly warm: readonly Float32Array[];
  /**
   * Independently fine-tuned per-task adapters from A0, if already computed (LiFT's warm start is
   * exactly that when it has no pooled start); computed here otherwise.
   */
  readonly independent?: readonly Float32Array[];
  /** The LiFT prior of the same training run. */
  readonly priorId: string;
  /** The run recording this training: every stored adapter names it (`training_config.run_id`). */
  readonly runId?: string;
  /** The suite's meta-training classes: the label set a meta-learned start was trained across. */
  readonly classes: readonly string[];
  /** Validation episodes for the pooled LoRA's early stopping (none: it runs `pooledMaxSteps`). */
  readonly val?: readonly ValEpisode[];
}

/** Independent fine-tuning of every task from A0 (B = 0): the competitors' zoo. */
export function independentZoo(layer: LayerSpec, data: readonly LabelledSet[], lift: PriorTrainConfig, cfg: BaselineTrainConfig): Float32Array[] {
  const shape = shapeOf(layer, lift);
  const init = initTheta(shape, seededA0(shape, lift.a0Seed));
  const progress = startProgress('independent zoo', data.length);
  const thetas = data.map((task, i) => {
    const nWay = Math.max(...task.labels) + 1;
    const { theta } = fineTune(init, prepareSupport(layer, shape, task, nWay, lift.tau), { steps: cfg.zooSteps, lr: cfg.zooLr, prior: { kind: 'none' } });
    progress.update(i + 1);
    return theta;
  });
  progress.stop();
  return thetas;
}

/** Mean accuracy of prototypes under θ (no fine-tuning) over validation episodes. */
export function zeroShotAccuracy(layer: LayerSpec, lift: PriorTrainConfig, theta: Float32Array, episodes: readonly ValEpisode[]): number {
  const shape = shapeOf(layer, lift);
  let sum = 0;
  for (const ep of episodes) {
    const rows = tuneFrom(theta, prepareSupport(layer, shape, ep.support, ep.nWay, lift.tau), { steps: 0, lr: 0 }).predict(ep.query.features);
    let right = 0;
    rows.forEach((p, i) => { if (p.indexOf(Math.max(...p)) === ep.query.labels[i]) right++; });
    sum += right / Math.max(1, rows.length);
  }
  return sum / Math.max(1, episodes.length);
}

/** Validation episodes per family the pooled LoRA's early stopping looks at. */
export const EARLY_STOP_EPISODES = 30;

/**
 * The competitors of a bundled suite's training run: validation episodes of the suite (for early
 * stopping) drawn here, LiFT's warm start reused as the independent zoo when it is one (no pooled
 * start, same steps and learning rate).
 */
export async function trainSuiteBaselines(
  runtime: Runtime, suite: SuiteName, backbone: LoadedBackbone<unknown>,
  run: { ids: readonly string[]; data: readonly LabelledSet[]; warm: readonly Float32Array[]; priorId: string; classes: readonly string[]; runId?: string },
  lift: PriorTrainConfig, cfg: BaselineTrainConfig = DEFAULT_BASELINE_CONFIG,
): Promise<Record<string, string>> {
  const families = await suiteEpisodes(runtime.store, backbone, suite, { split: 'val', count: EARLY_STOP_EPISODES });
  const largest = families.map((f) => ({ ...f, episodes: new Map([...f.episodes].slice(-1)) }));
  const warmIsIndependent = lift.pooledSteps === 0 && lift.warmSteps === cfg.zooSteps && lift.warmLr === cfg.zooLr;
  return trainBaselines({
    store: runtime.store, baseModel: backbone.baseModel, suite, layer: backbone.encoder.layer, ...run,
    independent: warmIsIndependent ? run.warm : undefined, val: featureEpisodes(largest),
  }, lift, cfg);
}

/** Trains every competitor and stores it; returns the stored adapter ids by name. */
export async function trainBaselines(set: TrainingSet, lift: PriorTrainConfig, cfg: BaselineTrainConfig = DEFAULT_BASELINE_CONFIG): Promise<Record<string, string>> {
  const tasks: MetaTask[] = set.ids.map((id, i) =>
    metaTaskFromLabelled(id, set.data[i], { nWay: 5, shots: lift.shots, queries: lift.queries }));
  const adapterCfg = { rank: lift.rank, alpha: lift.alpha, tau: lift.tau, a0Seed: lift.a0Seed };
  const shape = shapeOf(set.layer, lift);
  const rng = createRng(lift.seed).fork('baselines');
  const stored: Record<string, string> = {};
  const save = async (name: string, method: string, theta: Float32Array, extra: JsonObject, parameters: Record<string, Float32Array> = {}) => {
    stored[name] = await storeAdapter(set, lift, name, method, theta, extra, parameters);
  };

  for (const m of META_VARIANTS) {
    const progress = startProgress(m.name, cfg.metaSteps);
    const result = mamlTrain(tasks, set.layer, { ...adapterCfg, metaSteps: cfg.metaSteps, outerLr: cfg.outerLr, innerLr: cfg.innerLr },
      rng.fork(m.name), m.variant, m.innerSteps, (done) => progress.update(done));
    progress.stop();
    await save(m.name, m.name, result.theta0, {
      innerSteps: m.innerSteps, innerLr: cfg.innerLr, optimizer: m.optimizer, postLoss: result.postLossTrace.at(-1) ?? null,
    });
  }

  const mapProgress = startProgress('map-hierarchical', cfg.mapSteps);
  const map = mapHierarchicalTrain(tasks, set.layer, {
    ...adapterCfg, steps: cfg.mapSteps, lr: 0.01, sigma2: lift.sigma2, beta2: lift.beta2, initThetas: set.warm,
  }, rng.fork('map-hierarchical'), (done) => mapProgress.update(done));
  mapProgress.stop();
  await save('map-hierarchical', 'map-hierarchical', map.phi, { sigma2: map.sigma2, beta2: map.beta2, start: 'lift-warm-start' });

  const init = initTheta(shape, seededA0(shape, lift.a0Seed));
  const val = set.val ?? [];
  const pooledProgress = startProgress('pooled LoRA', cfg.pooledMaxSteps);
  const pooled = trainPooledLora(tasks, set.layer, shape, init, {
    maxSteps: cfg.pooledMaxSteps, lr: cfg.pooledLr, tau: lift.tau,
    evalEvery: val.length > 0 ? cfg.pooledEvalEvery : cfg.pooledMaxSteps, patience: val.length > 0 ? cfg.pooledPatience : 1,
  }, (theta) => (val.length > 0 ? zeroShotAccuracy(set.layer, lift, theta, val) : 0), rng.fork('pooled'), (done) => pooledProgress.update(done));
  pooledProgress.stop();
  await save('pooled-lora', 'pooled-lora', pooled.theta, {
    bestStep: pooled.bestStep, valAccuracy: pooled.bestScore, valEpisodes: val.length, lr: cfg.pooledLr,
    trace: pooled.trace.map((p) => [p.step, Number(p.score.toFixed(4))]),
  });

  const independent = set.independent ?? independentZoo(set.layer, set.data, lift, cfg);
  const zooIds = await storeIndependentZoo(set, lift, cfg, independent);
  Object.assign(stored, Object.fromEntries(zooIds.map((id, i) => [`independent/${set.ids[i]}`, id])));

  for (const v of MBC_VARIANTS) {
    const progress = startProgress(`mbc ${v.name}`, v.clusters * cfg.mbcSteps);
    const mbc = mbcTrain(set.ids.map((id, i) => ({ id, theta: independent[i] })), tasks, set.layer,
      { ...adapterCfg, clusters: v.clusters, init: v.init, trainSteps: cfg.mbcSteps, trainLr: cfg.mbcLr }, rng.fork(`mbc/${v.name}`),
      (done) => progress.update(done));
    progress.stop();
    for (const c of mbc.clusters) {
      await save(mbcClusterPart(v.name, c.index), STORED_METHODS.mbcCluster, c.theta, { variant: v.name, members: [...c.members], zoo: independentZooName(set.suite) }, { arrow: c.arrow });
    }
  }
  return stored;
}

/** Stores the independent adapters and makes them the members of the zoo `independent-<suite>`. */
async function storeIndependentZoo(set: TrainingSet, lift: PriorTrainConfig, cfg: BaselineTrainConfig, thetas: readonly Float32Array[]): Promise<string[]> {
  const ids: string[] = [];
  const members = [];
  for (const [i, theta] of thetas.entries()) {
    const embedding = taskEmbedding(set.layer, set.data[i].features);
    const id = await storeAdapter(set, lift, independentAdapterPart(set.ids[i]), STORED_METHODS.zooIndependent, theta,
      { trainingTask: set.ids[i], steps: cfg.zooSteps, lr: cfg.zooLr }, { [TASK_EMBEDDING]: embedding });
    ids.push(id);
    members.push({ adapterId: id, taskId: null, embedding });
  }
  const name = independentZooName(set.suite);
  await set.store.createZoo({ name, baseModel: set.baseModel.sha256, description: `independently fine-tuned LoRAs of the ${set.suite} training tasks` });
  const old = (await set.store.listZooMembers(name)).map((m) => m.adapterId).filter((id) => !ids.includes(id));
  await set.store.changeZooMembers(name, members, old);
  return ids;
}

async function storeAdapter(
  set: TrainingSet, lift: PriorTrainConfig, name: string, method: string, theta: Float32Array, extra: JsonObject,
  parameters: Record<string, Float32Array>,
): Promise<string> {
  const { A, B } = splitTheta(theta, shapeOf(set.layer, lift));
  return (await set.store.createAdapterVersion({
    name: metaAdapterName(set.suite, name), method,
    baseModel: set.baseModel.sha256, labels: set.classes, rank: lift.rank, alpha: lift.alpha,
    parameters: { lora_A: Float32Array.from(A), lora_B: Float32Array.from(B), ...parameters },
    extra: { ...extra, tau: lift.tau, suite: set.suite, a0Seed: lift.a0Seed, trainedWith: set.priorId },
    trainingConfig: { ...lift, ...(set.runId ? { run_id: set.runId } : {}) },
  })).value.id;
}
