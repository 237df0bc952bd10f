/**
 * Training a LiFT prior from a zoo: the examples of every member's task (at one zoo version)
 * become the training tasks; warm start (independent fine-tuning per task), SGLD-Gibbs + online
 * EM, then the prior `lift/<zoo>` is stored with its lineage (zoo name and version, every task,
 * the run). On request the competitors that need meta-training are trained on the same tasks.
 *
 * This is the body of the `train-prior` job: it reports phase k of n, progress, ETA and the
 * log-likelihood trace, yields to the event loop between chunks, and stops when cancelled.
 */
import { fineTune, prepareSupport } from '../adapters/adapt.ts';
import { liftChain } from '../adapters/lift.ts';
import { packRows } from '../adapters/linalg.ts';
import { initTheta, loraShape, seededA0 } from '../adapters/lora.ts';
import { pooledStart } from '../adapters/pooled-start.ts';
import { constantSchedule } from '../adapters/diffusions.ts';
import { createRng } from '../adapters/rng.ts';
import { episodicTaskLikelihood, type LabelledSet } from '../adapters/task-likelihood.ts';
import { ConflictError, ValidationError } from '../registry/errors.ts';
import type { JsonObject, Prior, RunRefs } from '../registry/types.ts';
import type { JobProgress } from './jobs.ts';
import { yieldToEventLoop } from './jobs.ts';
import { priorName } from '../registry/artifact-names.ts';
import { trainBaselines } from './train-baselines.ts';
import { DEFAULT_PRIOR_CONFIG, type PriorTrainConfig } from './train-prior.ts';
import { taskData, zooEntries } from './zoos.ts';
import type { Runtime } from './runtime.ts';

export interface ZooPriorRequest {
  readonly zoo: string;
  /** Default: the zoo's latest version. */
  readonly zooVersion?: number;
  /** Overrides of DEFAULT_PRIOR_CONFIG (steps, K, sigma2, …). */
  readonly config?: Partial<PriorTrainConfig>;
  /** Also meta-train the competitors (MAML family, MAP-hierarchical, MBC) on the zoo's tasks. */
  readonly baselines?: boolean;
}

export interface ZooPriorResult {
  readonly prior: Prior;
  readonly zooVersion: number;
  readonly taskIds: string[];
  readonly baselines: Record<string, string>;
  readonly trainMs: number;
}

export interface TrainControl {
  readonly signal?: AbortSignal;
  report?(progress: JobProgress): void;
  readonly runId?: string;
}

/** Settings a request may override, with their ranges (so a request cannot stall the server). */
const CONFIG_LIMITS: Readonly<Record<keyof PriorTrainConfig, readonly [number, number]>> = {
  rank: [1, 64], alpha: [1e-6, 1e6], tau: [1e-3, 1e3], a0Seed: [0, 2 ** 31], sigma2: [1e-9, 1e3], beta2: [1e-9, 1e6],
  steps: [2, 200000], burnIn: [0, 199999], thinning: [1, 10000], stepSize: [1e-12, 1], temperature: [0, 10], K: [1, 16], clusters: [1, 16],
  shots: [1, 100], queries: [1, 100], seed: [0, 2 ** 31], pooledSteps: [0, 100000], pooledLr: [1e-9, 10],
  warmSteps: [0, 10000], warmLr: [1e-9, 10],
};

/** Defaults plus overrides, each checked against its range; the chain must run past burn-in. */
export function priorConfig(overrides: Partial<Record<string, unknown>> = {}): PriorTrainConfig {
  const cfg: Record<string, number> = { ...DEFAULT_PRIOR_CONFIG };
  for (const [key, value] of Object.entries(overrides)) {
    const range = CONFIG_LIMITS[key as keyof PriorTrainConfig];
    if (!range) throw new ValidationError(`config.${key}: unknown setting; expected one of ${Object.keys(CONFIG_LIMITS).join(', ')}`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < range[0] || value > range[1]) {
      throw new ValidationError(`config.${key}: expected a number in [${range[0]}, ${range[1]}], got ${JSON.stringify(value)}`);
    }
    cfg[key] = value;
  }
  if (cfg.burnIn >= cfg.steps) throw new ValidationError(`config.burnIn: expected fewer than steps (${cfg.steps}), got ${cfg.burnIn}`);
  return cfg as unknown as PriorTrainConfig;
}

/** Phase names in order; the weight is each phase's rough share of the time. */
const PHASES: readonly (readonly [string, number])[] = [['task features', 0.05], ['warm start', 0.1], ['SGLD-Gibbs', 0.75], ['store prior', 0.02], ['competitors', 0.08]];

function phaseReporter(control: TrainControl, withBaselines: boolean) {
  const phases = withBaselines ? PHASES : PHASES.slice(0, 4);
  const total = phases.reduce((s, [, w]) => s + w, 0);
  return (index: number, within: number, extra: Partial<JobProgress> = {}) => {
    const done = phases.slice(0, index).reduce((s, [, w]) => s + w, 0) + phases[index][1] * Math.min(1, Math.max(0, within));
    control.report?.({ phase: phases[index][0], phaseIndex: index + 1, phaseCount: phases.length, progress: done / total, ...extra });
  };
}

export async function trainZooPrior(rt: Runtime, req: ZooPriorRequest, control: TrainControl = {}): Promise<ZooPriorResult> {
  const cfg = priorConfig(req.config as Record<string, unknown> | undefined);
  const withBaselines = req.baselines ?? false;
  const report = phaseReporter(control, withBaselines);
  const { zoo, version, entries } = await zooEntries(rt, req.zoo, req.zooVersion);
  const tasks = entries.filter((e) => e.member.taskId !== null).map((e) => e.member.taskId!);
  if (tasks.length < 2) {
    throw new ConflictError(`zoo '${zoo.name}' v${version} has ${tasks.length} member task(s); a prior needs at least 2 (promote more adapters: POST /v1/zoos/${zoo.name}/members)`);
  }
  const backbone = await rt.backboneFor(zoo.baseModelSha, `zoo '${zoo.name}'`);
  const layer = backbone.encoder.layer;

  report(0, 0);
  const data: LabelledSet[] = [];
  for (const [i, taskId] of tasks.entries()) {
    data.push(await taskData(rt, await rt.store.getTask(taskId)));
    report(0, (i + 1) / tasks.length);
    await yieldToEventLoop(control.signal);
  }

  const started = performance.now();
  const shape = loraShape(layer, cfg.rank, cfg.alpha);
  const likelihoods = data.map((d) => episodicTaskLikelihood(layer, shape, d, { nWay: 5, shots: cfg.shots, queries: cfg.queries, tau: cfg.tau }));
  let init = initTheta(shape, seededA0(shape, cfg.a0Seed));
  if (cfg.pooledSteps > 0) init = pooledStart(likelihoods, init, { steps: cfg.pooledSteps, lr: cfg.pooledLr }, createRng(cfg.seed).fork('pooled-start'));
  const thetas: Float32Array[] = [];
  for (const [i, d] of data.entries()) {
    const nWay = Math.max(...d.labels) + 1;
    const ctx = prepareSupport(layer, shape, d, nWay, cfg.tau);
    thetas.push(cfg.warmSteps > 0 ? fineTune(init, ctx, { steps: cfg.warmSteps, lr: cfg.warmLr, prior: { kind: 'none' } }).theta : Float32Array.from(init));
    report(1, (i + 1) / data.length);
    await yieldToEventLoop(control.signal);
  }

  const chainStarted = performance.now();
  const chain = liftChain(likelihoods, thetas, {
    steps: cfg.steps, burnIn: cfg.burnIn, thinning: cfg.thinning, sigma2: cfg.sigma2, beta2: cfg.beta2,
    stepSize: constantSchedule(cfg.stepSize), temperature: cfg.temperature, em: { K: cfg.K },
  }, createRng(cfg.seed));
  let next = chain.next();
  while (!next.done) {
    const { step, total, info } = next.value;
    const perStep = (performance.now() - chainStarted) / step;
    report(2, step / total, { etaMs: perStep * (total - step), trace: [{ step, log_lik: info.logLik }] });
    await yieldToEventLoop(control.signal);
    next = chain.next();
  }
  const result = next.value;
  const trainMs = performance.now() - started;

  report(3, 0);
  const lineage: JsonObject = { zoo: zoo.name, zoo_version: version, ...(control.runId ? { run_id: control.runId } : {}) };
  const prior = (await rt.store.createPrior({
    name: priorName(zoo.name), baseModel: zoo.baseModelSha,
    weights: Float32Array.from(result.prior.weights), means: packRows(result.prior.means, result.prior.dim),
    variances: packRows(result.prior.variances, result.prior.dim), sigma2: result.prior.sigma2, beta2: result.prior.beta2,
    trainingTaskIds: tasks, seed: cfg.seed,
    config: { ...cfg, ...lineage, suite: zoo.name, trainMs, kept: result.diagnostics.kept, logLikTrace: result.diagnostics.logLikTrace, diagnostics: { ...result.diagnostics.chain } },
  })).value;

  let baselines: Record<string, string> = {};
  if (withBaselines) {
    report(4, 0);
    await yieldToEventLoop(control.signal);
    const labels = [...new Set((await Promise.all(tasks.map((t) => rt.store.getTask(t)))).flatMap((t) => t.labels))];
    baselines = await trainBaselines({
      store: rt.store, baseModel: backbone.baseModel, suite: zoo.name, layer, ids: tasks, data,
      warm: thetas, independent: cfg.pooledSteps === 0 ? thetas : undefined, priorId: prior.id, classes: labels, runId: control.runId,
    }, cfg);
  }
  return { prior, zooVersion: version, taskIds: tasks, baselines, trainMs };
}

/** The run refs of a trained prior: the zoo version read, tasks used, prior and adapters written. */
export function zooPriorRefs(r: ZooPriorResult, zoo: string): RunRefs {
  return { zoo: { name: zoo, version: r.zooVersion }, prior_ids: [r.prior.id], task_ids: r.taskIds, adapter_ids: Object.values(r.baselines) };
}
