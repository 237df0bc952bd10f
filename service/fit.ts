/**
 * Fit an adapter for a task with a named method and store it as a new adapter version:
 * LoRA factors + support prototypes (+ posterior samples for LiFT posterior), head settings in
 * `extra`, support accuracy and fit time in `metrics`, resolved settings in `trainingConfig`,
 * the prior as parent. Storing is idempotent: identical content returns the existing version.
 */
import type { SupportSet } from '../adapters/adapt.ts';
import { HEAD_TENSORS, headExtra } from '../registry/adapter-head.ts';
import { ValidationError } from '../registry/errors.ts';
import type { AdapterAlias, AdapterSummary, JsonObject, Prior, Task, ZooChange } from '../registry/types.ts';
import { AUTO_METHOD, autoJson, chooseForTask } from './auto.ts';
import { AdapterResolver } from './adapter-refs.ts';
import type { FittedAdapterResult } from './fitter.ts';
import { methodName, METHOD_TABLE, type FitOptions, type MethodName } from './methods.ts';
import { loadMetaArtifacts } from './meta-artifacts.ts';
import { DEFAULT_POSTERIOR_SAMPLES } from './posterior-samples.ts';
import { resolvePrior, type PriorRef } from './priors.ts';
import { recordRun } from './runs.ts';
import { promoteAdapters } from './zoos.ts';
import { exampleItems } from './tasks.ts';
import type { Runtime } from './runtime.ts';
import { checkWork, type WorkMode } from './work-bounds.ts';
import { adapterSummary } from '../registry/types.ts';

export interface FitRequest {
  /** A method of the table, or `auto` (the default): the prior and method chosen from the task (service/auto.ts). */
  readonly method?: string;
  readonly options?: FitOptions;
  /** Adapter name; default `<task>.<method>`. */
  readonly name?: string;
  /** Alias to point at the new version, e.g. 'prod' or 'default'. */
  readonly alias?: string;
  readonly seed?: number;
  /** LiFT posterior only: θ samples kept for uncertainty (default 8). */
  readonly posteriorSamples?: number;
  /** The prior to fit under; default: the newest prior of the task's zoo, else of its base model. */
  readonly prior?: PriorRef;
  /** Promote the stored adapter into this zoo (created on first use). */
  readonly zoo?: string;
  /** Inside a request (default) or as a job: which work bound applies (service/work-bounds.ts). */
  readonly mode?: WorkMode;
  /** The run already recording this fit (a job's); without it the fit records its own. */
  readonly runId?: string;
}

export interface FitResult {
  readonly adapter: AdapterSummary;
  /** false when identical content already existed (same version returned). */
  readonly created: boolean;
  readonly fitMs: number;
  readonly supportAccuracy: number;
  readonly alias: AdapterAlias | null;
  /** The zoo change when the request asked to promote the adapter. */
  readonly zoo: ZooChange | null;
  readonly runId: string;
  /** What `method: auto` chose and why (null for a named method). */
  readonly auto: JsonObject | null;
}

/** Support features and labels 0..nWay-1 in the task's label order. */
export async function loadSupport(runtime: Runtime, task: Task): Promise<SupportSet> {
  const examples = await runtime.store.listExamples(task.id, 'support');
  const missing = task.labels.filter((l) => !examples.some((e) => e.label === l));
  if (missing.length > 0) throw new ValidationError(`task '${task.id}': every label needs a support example; none for ${missing.join(', ')}`);
  const backbone = await runtime.taskBackbone(task);
  const features = await runtime.featurizer.features(backbone, await exampleItems(runtime, examples));
  return { features, labels: Int32Array.from(examples, (e) => task.labels.indexOf(e.label)) };
}

/**
 * The method and prior a request runs: a named method under the requested (or default) prior,
 * or for `auto` what service/auto.ts chooses from the task's support set.
 */
export async function resolveMethod(
  runtime: Runtime, task: Task, requested: string, priorRef?: PriorRef,
): Promise<{ name: MethodName; prior: Prior | null; auto: JsonObject | null }> {
  if (requested !== AUTO_METHOD) return { name: methodName(requested), prior: await resolvePrior(runtime.store, task, priorRef), auto: null };
  const backbone = await runtime.taskBackbone(task);
  const choice = await chooseForTask(runtime.store, task, backbone.encoder.layer, await loadSupport(runtime, task), task.labels.length, priorRef);
  return { name: choice.method, prior: choice.prior, auto: autoJson(choice) };
}

/** `signal` stops the fit before anything is stored. */
export async function fitAdapter(runtime: Runtime, taskId: string, req: FitRequest, signal?: AbortSignal): Promise<FitResult> {
  const task = await runtime.store.getTask(taskId);
  const { name, prior, auto } = await resolveMethod(runtime, task, req.method ?? AUTO_METHOD, req.prior);
  const runInput = {
    kind: 'fit' as const, name: `fit ${task.id} ${auto ? `auto (${name})` : name}`,
    config: { method: auto ? AUTO_METHOD : name, ...req.options, seed: req.seed ?? 0, ...(auto ? { auto } : {}) },
    refs: { task_ids: [task.id], ...(prior ? { prior_ids: [prior.id] } : {}) },
  };
  const examples = (await runtime.store.listExamples(task.id, 'support')).length;
  checkWork(runtime.limits, { options: req.options, examples, methods: 1 }, req.mode ?? 'inline');
  const fitRun = async (runId: string) => {
    const fit = await fitAndStore(runtime, task, name, prior, req, runId, auto, signal);
    const change = req.zoo !== undefined ? await promoteAdapters(runtime, new AdapterResolver(runtime.store), req.zoo, [{ id: fit.adapter.id }]) : null;
    return {
      value: { ...fit, zoo: change, runId, auto }, metrics: { support_accuracy: fit.supportAccuracy, fit_ms: fit.fitMs },
      refs: { adapter_ids: [fit.adapter.id], ...(change ? { zoo: { name: change.zoo.name, version: change.version } } : {}) },
    };
  };
  if (req.runId !== undefined) return (await fitRun(req.runId)).value;
  const { value } = await recordRun(runtime.store, runInput, (run) => fitRun(run.id));
  return value;
}

async function fitAndStore(
  runtime: Runtime, task: Task, name: MethodName, prior: Prior | null, req: FitRequest, runId: string, auto: JsonObject | null, signal?: AbortSignal,
): Promise<Omit<FitResult, 'zoo' | 'runId' | 'auto'>> {
  const backbone = await runtime.taskBackbone(task);
  const support = await loadSupport(runtime, task);
  const nWay = task.labels.length;
  const samples = METHOD_TABLE[name].uncertainty && prior
    ? { ...DEFAULT_POSTERIOR_SAMPLES, samples: req.posteriorSamples ?? DEFAULT_POSTERIOR_SAMPLES.samples }
    : null;
  // The fit itself runs on the runtime's fitter (a worker thread in the server), off the event loop.
  const resolved = await runtime.fitter.run({
    method: name, options: req.options ?? {}, layer: backbone.encoder.layer, prior, artifacts: prior ? await loadMetaArtifacts(runtime.store, prior) : null,
    support, nWay, seed: req.seed ?? 0, ...(samples ? { posterior: samples } : {}),
  }, signal) as FittedAdapterResult;
  signal?.throwIfAborted();
  const { adapter: fitted, fitMs, supportAccuracy } = resolved;
  runtime.observer.fitted(name, fitMs);
  const { value, created } = await runtime.store.createAdapterVersion({
    name: req.name ?? `${task.id}.${name}`,
    method: name,
    baseModel: task.baseModelSha,
    taskId: task.id,
    labels: task.labels,
    rank: fitted.rank,
    alpha: fitted.alpha,
    parameters: { lora_A: fitted.A, lora_B: fitted.B, [HEAD_TENSORS.prototypes]: fitted.prototypes, ...fitted.posterior },
    extra: headExtra({ tau: fitted.tau, nWay, posteriorSamples: samples?.samples ?? 0 }),
    metrics: { support_accuracy: supportAccuracy, fit_ms: fitMs, support_size: support.labels.length },
    trainingConfig: { ...resolved.config, seed: req.seed ?? 0, ...(samples ? { posterior: { ...samples } } : {}), ...(auto ? { auto } : {}), run_id: runId },
    parents: { priorId: resolved.priorId },
  });
  const alias = req.alias !== undefined ? await runtime.store.setAlias(value.name, req.alias, value.version) : null;
  const adapter = adapterSummary(value);
  return { adapter, created, fitMs, supportAccuracy, alias };
}
