/**
 * Fit an adapter for a task with a named method and store it as a new adapter version:
 * LoRA factors + support prototypes (+ posterior samples for LiFT posterior), head settings in
 * `extra`, support accuracy and fit time in `metrics`, resolved settings in `trainingConfig`,
 * the prior as parent. Storing is idempotent: identical content returns the existing version.
 */
import type { SupportSet } from '../adapters/adapt.ts';
import { createRng } from '../adapters/rng.ts';
import { accuracy } from '../benchmarks/metrics.ts';
import { ValidationError } from '../registry/errors.ts';
import type { AdapterAlias, AdapterSummary, Task } from '../registry/types.ts';
import { createMethod, methodContext, methodName, POSTERIOR_METHODS, toMixturePrior, type FitOptions } from './methods.ts';
import { DEFAULT_POSTERIOR_SAMPLES, samplePosterior } from './posterior-samples.ts';
import { exampleItems } from './tasks.ts';
import type { Runtime } from './runtime.ts';

export interface FitRequest {
  readonly method: string;
  readonly options?: FitOptions;
  /** Adapter name; default `<task>.<method>`. */
  readonly name?: string;
  /** Alias to point at the new version, e.g. 'prod' or 'default'. */
  readonly alias?: string;
  readonly seed?: number;
  /** LiFT posterior only: θ samples kept for uncertainty (default 8). */
  readonly posteriorSamples?: number;
}

export interface FitResult {
  readonly adapter: AdapterSummary;
  /** false when identical content already existed (same version returned). */
  readonly created: boolean;
  readonly fitMs: number;
  readonly supportAccuracy: number;
  readonly alias: AdapterAlias | null;
}

/** Support features and labels 0..nWay-1 in the task's label order. */
export async function loadSupport(runtime: Runtime, task: Task): Promise<SupportSet> {
  const examples = await runtime.store.listExamples(task.id, 'support');
  const missing = task.labels.filter((l) => !examples.some((e) => e.label === l));
  if (missing.length > 0) throw new ValidationError(`task '${task.id}': every label needs a support example; none for ${missing.join(', ')}`);
  const backbone = await runtime.taskBackbone(task);
  const features = await runtime.featurizer.features(backbone, exampleItems(examples));
  return { features, labels: Int32Array.from(examples, (e) => task.labels.indexOf(e.label)) };
}

export async function fitAdapter(runtime: Runtime, taskId: string, req: FitRequest): Promise<FitResult> {
  const task = await runtime.store.getTask(taskId);
  const name = methodName(req.method);
  const backbone = await runtime.taskBackbone(task);
  const support = await loadSupport(runtime, task);
  const prior = await runtime.latestPrior(task.baseModelSha);
  const resolved = createMethod(name, await methodContext(runtime.store, backbone.encoder.layer, prior, req.options));
  const nWay = task.labels.length;
  const rng = createRng(req.seed ?? 0);
  const started = performance.now();
  const fitted = resolved.method.fit(support, nWay, rng.fork('fit'));
  const samples = POSTERIOR_METHODS.has(name) && prior
    ? { ...DEFAULT_POSTERIOR_SAMPLES, samples: req.posteriorSamples ?? DEFAULT_POSTERIOR_SAMPLES.samples }
    : null;
  const posterior = samples ? samplePosterior(toMixturePrior(prior!), fitted, support, samples, rng.fork('posterior')) : {};
  const fitMs = performance.now() - started;
  runtime.observer.fitted(name, fitMs);
  const supportAccuracy = accuracy(fitted.predict(support.features), support.labels);
  const { value, created } = await runtime.store.createAdapterVersion({
    name: req.name ?? `${task.id}.${name}`,
    method: name,
    baseModel: task.baseModelSha,
    taskId: task.id,
    labels: task.labels,
    rank: fitted.rank,
    alpha: fitted.alpha,
    parameters: { lora_A: fitted.A, lora_B: fitted.B, prototypes: fitted.prototypes, ...posterior },
    extra: { tau: fitted.tau, nWay, ...(samples ? { posteriorSamples: samples.samples } : {}) },
    metrics: { support_accuracy: supportAccuracy, fit_ms: fitMs, support_size: support.labels.length },
    trainingConfig: { ...resolved.config, seed: req.seed ?? 0, ...(samples ? { posterior: { ...samples } } : {}) },
    parents: { priorId: resolved.priorId },
  });
  const alias = req.alias !== undefined ? await runtime.store.setAlias(value.name, req.alias, value.version) : null;
  const { parameters: _, ...adapter } = value;
  return { adapter, created, fitMs, supportAccuracy, alias };
}
