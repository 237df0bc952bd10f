/**
 * Adapters in and out of the registry in the PEFT layout, over JSON:
 * `{ "adapter_config.json": {...}, "adapter_model.safetensors": "<base64>" }`.
 * Export then import gives the same parameters, extra and labels, hence the same content hash
 * and identical predictions.
 */
import { exportPeft, importPeft, LIFT_METADATA_KEY, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, type PeftFiles } from '../registry/peft.ts';
import { NotFoundError, ValidationError } from '../registry/errors.ts';
import type { RegistryStore } from '../registry/store.ts';
import { requireJsonDepth } from '../registry/validate.ts';
import type { Adapter, AdapterAlias, AdapterInput, AdapterSummary, BaseModel, Task } from '../registry/types.ts';
import { restoreHead } from './adapter-heads.ts';
import { decodeBase64 } from './inputs.ts';
import type { Runtime } from './runtime.ts';

export async function exportAdapter(store: RegistryStore, id: string): Promise<PeftFiles> {
  const adapter = await store.getAdapter(id);
  return exportPeft(adapter, await store.getBaseModel(adapter.baseModelSha));
}

export interface ImportRequest {
  readonly config: Record<string, unknown> | string;
  readonly weightsBase64: string;
  readonly name?: string;
  readonly labels?: readonly string[];
  readonly method?: string;
  readonly taskId?: string | null;
  readonly alias?: string;
  /** Labels to use when neither the request nor the file's metadata has any (the attach task's). */
  readonly fallbackLabels?: readonly string[];
}

export interface ImportResult {
  readonly adapter: AdapterSummary;
  readonly created: boolean;
  readonly alias: AdapterAlias | null;
}

/** The base model a PEFT config names: our metadata's sha256, else base_model_name_or_path. */
function baseModelKey(config: Record<string, unknown>): string {
  const meta = config[LIFT_METADATA_KEY];
  const sha = typeof meta === 'object' && meta !== null ? (meta as Record<string, unknown>).base_model_sha256 : undefined;
  const key = typeof sha === 'string' ? sha : config.base_model_name_or_path;
  if (typeof key !== 'string' || key === '') {
    throw new ValidationError(`${PEFT_CONFIG_FILE}: expected base_model_name_or_path (a registered base model name or sha256), got none`);
  }
  return key;
}

/** A base model the file names is a field of the request: an unknown one is a 400 listing ours. */
async function registeredBaseModel(store: RegistryStore, key: string): Promise<BaseModel> {
  try {
    return await store.getBaseModel(key);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    const known = (await store.listBaseModels()).map((m) => `'${m.name}'`).join(', ') || 'none registered';
    throw new ValidationError(`${PEFT_CONFIG_FILE}: base_model_name_or_path: expected a base model of this registry (${known}, or its sha256), got '${key}'`);
  }
}

/** Most labels an imported adapter may carry (its head holds one prototype per label). */
export const MAX_IMPORT_LABELS = 1000;

/**
 * The task an import belongs to: the request's `task_id` (404 when absent), else the one named in
 * the file's metadata when it exists here (ids from another registry are informational and
 * dropped). The task must run on the adapter's base model, so an image adapter never becomes a
 * text task's adapter (or its `default`).
 */
async function importTask(runtime: Runtime, req: ImportRequest, input: AdapterInput): Promise<Task | null> {
  const id = req.taskId ?? input.taskId ?? null;
  if (id === null) return null;
  let task: Task;
  try {
    task = await runtime.store.getTask(id);
  } catch (err) {
    if (err instanceof NotFoundError && req.taskId == null) return null;
    throw err;
  }
  if (task.baseModelSha !== input.baseModel) {
    const base = await runtime.store.getBaseModel(input.baseModel);
    throw new ValidationError(`task_id: task '${task.id}' is a ${task.modality} task on base model ${task.baseModelSha.slice(0, 12)}…, but the adapter is for '${base.name}' (${base.modality}); import it without task_id or for a task of that base model`);
  }
  return task;
}

/**
 * A head that came with the file must be one prediction can use: τ > 0, one label per class,
 * prototypes of nWay x the layer's width, the posterior tensors it declares. Checked by restoring
 * it exactly as predictions will, so nothing stored fails later with a 500.
 */
async function checkImportedHead(runtime: Runtime, input: AdapterInput, task: Task | null): Promise<void> {
  const extra = input.extra ?? {};
  if (input.labels.length > MAX_IMPORT_LABELS) throw new ValidationError(`labels: expected at most ${MAX_IMPORT_LABELS} labels, got ${input.labels.length}`);
  const hasHead = input.parameters.prototypes !== undefined || extra.tau !== undefined || extra.posteriorSamples !== undefined;
  if (!hasHead) return;
  if (typeof extra.tau !== 'number' || !Number.isFinite(extra.tau) || extra.tau <= 0) {
    throw new ValidationError(`${LIFT_METADATA_KEY}.extra.tau: expected a finite number > 0 (the head's temperature), got ${JSON.stringify(extra.tau) ?? 'none'}`);
  }
  if (extra.nWay !== undefined && extra.nWay !== input.labels.length) {
    throw new ValidationError(`${LIFT_METADATA_KEY}.extra.nWay: expected the number of labels (${input.labels.length}), got ${JSON.stringify(extra.nWay)}`);
  }
  const samples = extra.posteriorSamples;
  if (samples !== undefined && (typeof samples !== 'number' || !Number.isSafeInteger(samples) || samples < 0 || samples > 64)) {
    throw new ValidationError(`${LIFT_METADATA_KEY}.extra.posteriorSamples: expected an integer in [0, 64], got ${JSON.stringify(samples)}`);
  }
  if (task && task.labels.join('\n') !== input.labels.join('\n')) {
    throw new ValidationError(`labels: an adapter with a head for task '${task.id}' must have the task's labels [${task.labels.join(', ')}], got [${input.labels.join(', ')}]`);
  }
  const backbone = await runtime.backboneFor(input.baseModel, `adapter '${input.name}'`);
  const adapter = {
    ...input, id: 'import', version: 0, contentHash: 'import', baseModelSha: input.baseModel, taskId: input.taskId ?? null,
    extra, metrics: {}, trainingConfig: {}, parents: { adapterIds: [], priorId: null }, createdMs: 0,
  } as unknown as Adapter;
  try {
    restoreHead(adapter, backbone.encoder.layer);
  } catch (err) {
    throw new ValidationError(`PEFT import: the adapter's head cannot predict: ${(err as Error).message}`);
  }
}

/**
 * Validates a PEFT import completely (files, rank cap, task, head) before anything is written,
 * then stores the version and sets the alias.
 */
export async function importAdapter(runtime: Runtime, req: ImportRequest): Promise<ImportResult & { task: Task | null }> {
  const { store } = runtime;
  if (typeof req.config !== 'string') requireJsonDepth(req.config, PEFT_CONFIG_FILE);
  const configText = typeof req.config === 'string' ? req.config : JSON.stringify(req.config);
  let config: unknown;
  try { config = JSON.parse(configText); } catch (err) {
    throw new ValidationError(`${PEFT_CONFIG_FILE}: expected JSON, got invalid text (${(err as Error).message})`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ValidationError(`${PEFT_CONFIG_FILE}: expected a JSON object`);
  requireJsonDepth(config, PEFT_CONFIG_FILE);
  const baseModel = await registeredBaseModel(store, baseModelKey(config as Record<string, unknown>));
  const files = {
    [PEFT_CONFIG_FILE]: new TextEncoder().encode(configText),
    [PEFT_WEIGHTS_FILE]: decodeBase64(req.weightsBase64, PEFT_WEIGHTS_FILE, 'safetensors bytes'),
  };
  const meta = (config as Record<string, unknown>)[LIFT_METADATA_KEY] as Record<string, unknown> | undefined;
  const labels = req.labels ?? (meta?.labels === undefined ? req.fallbackLabels : undefined);
  const parsed = importPeft(files, baseModel, { name: req.name, labels, method: req.method, taskId: req.taskId, maxRank: runtime.limits.maxImportRank });
  const task = await importTask(runtime, req, parsed);
  const input: AdapterInput = { ...parsed, taskId: task?.id ?? null };
  await checkImportedHead(runtime, input, task);
  const { value, created } = await store.createAdapterVersion(input);
  const alias = req.alias !== undefined ? await store.setAlias(value.name, req.alias, value.version) : null;
  const { parameters: _, ...adapter } = value;
  return { adapter, created, alias, task };
}
