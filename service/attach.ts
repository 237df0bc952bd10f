/**
 * Attaching an adapter to a task: an adapter imported from elsewhere carries LoRA factors but no
 * head. Attaching computes the head from the task's support set (cosine prototypes of the
 * adapted support embeddings, temperature τ) and stores it as a new version of the adapter, on
 * the task's label set, with the imported version as its parent. Then it predicts like any other.
 */
import { prepareSupport } from '../adapters/adapt.ts';
import { joinTheta, loraShape } from '../adapters/lora.ts';
import { createFittedAdapter } from '../adapters/method.ts';
import { accuracy } from '../benchmarks/metrics.ts';
import { HEAD_TENSORS, headExtra } from '../registry/adapter-head.ts';
import { ConflictError, ValidationError } from '../registry/errors.ts';
import type { AdapterSummary } from '../registry/types.ts';
import { loadSupport } from './fit.ts';
import { DEFAULT_BUDGET } from './methods.ts';
import type { Runtime } from './runtime.ts';
import { adapterSummary } from '../registry/types.ts';

export interface AttachResult {
  readonly adapter: AdapterSummary;
  readonly created: boolean;
  readonly supportAccuracy: number;
}

export async function attachAdapter(rt: Runtime, adapterId: string, taskId: string, opts: { tau?: number } = {}): Promise<AttachResult> {
  const source = await rt.store.getAdapter(adapterId);
  const task = await rt.store.getTask(taskId);
  if (source.baseModelSha !== task.baseModelSha) {
    throw new ConflictError(`adapter '${source.name}' v${source.version} was made for base model ${source.baseModelSha.slice(0, 12)}…, task '${task.id}' uses ${task.baseModelSha.slice(0, 12)}…`);
  }
  const { lora_A: A, lora_B: B } = source.parameters;
  if (!A || !B) throw new ConflictError(`adapter '${source.name}' v${source.version} has no lora_A / lora_B to attach`);
  const tau = opts.tau ?? (typeof source.extra.tau === 'number' ? source.extra.tau : DEFAULT_BUDGET.tau);
  if (!(tau > 0)) throw new ValidationError(`tau: expected a positive number, got ${tau}`);
  const backbone = await rt.taskBackbone(task);
  const layer = backbone.encoder.layer;
  const shape = loraShape(layer, source.rank, source.alpha);
  const support = await loadSupport(rt, task);
  const nWay = task.labels.length;
  const fitted = createFittedAdapter(prepareSupport(layer, shape, support, nWay, tau), joinTheta(A, B, shape));
  const supportAccuracy = accuracy(fitted.predict(support.features), support.labels);
  const { value, created } = await rt.store.createAdapterVersion({
    name: source.name, method: source.method, baseModel: source.baseModelSha, taskId: task.id, labels: task.labels,
    rank: source.rank, alpha: source.alpha,
    parameters: { ...source.parameters, [HEAD_TENSORS.prototypes]: fitted.prototypes },
    extra: { ...source.extra, ...headExtra({ tau, nWay, posteriorSamples: 0 }) },
    metrics: { ...source.metrics, support_accuracy: supportAccuracy, support_size: support.labels.length },
    trainingConfig: { ...source.trainingConfig, attached: { from: source.id, task_id: task.id, tau } },
    parents: { adapterIds: [source.id], priorId: source.parents.priorId },
  });
  const adapter = adapterSummary(value);
  return { adapter, created, supportAccuracy };
}
