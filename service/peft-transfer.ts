/**
 * Adapters in and out of the registry in the PEFT layout (registry/peft.ts), over JSON: one key
 * per file, JSON files as objects (or JSON text), safetensors files as base64.
 * Export then import gives the same parameters, extra and labels, hence the same content hash
 * and identical predictions.
 */
import { declaresHead, hasHead, readHeadSettings } from '../registry/adapter-head.ts';
import { NotFoundError, ValidationError } from '../registry/errors.ts';
import {
  exportPeft, HEAD_CONFIG_FILE, HEAD_WEIGHTS_FILE, headMetadata, importPeft, parseJsonFile, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, type PeftFiles,
} from '../registry/peft.ts';
import type { RegistryStore } from '../registry/store.ts';
import { requireJsonDepth } from '../registry/validate.ts';
import type { Adapter, AdapterAlias, AdapterInput, AdapterSummary, BaseModel, Task } from '../registry/types.ts';
import { restoreHead } from './adapter-heads.ts';
import { attachAdapter, type AttachResult } from './attach.ts';
import { backboneByPublicName, torchNaming } from './backbones.ts';
import { decodeBase64 } from './inputs.ts';
import type { Runtime } from './runtime.ts';
import { adapterSummary } from '../registry/types.ts';

export async function exportAdapter(store: RegistryStore, id: string): Promise<PeftFiles> {
  const adapter = await store.getAdapter(id);
  const base = await store.getBaseModel(adapter.baseModelSha);
  return exportPeft(adapter, base, torchNaming(base));
}

/** A JSON file of an import body: an object, or its text. */
export type JsonFileField = Record<string, unknown> | string;

export interface ImportRequest {
  readonly config: JsonFileField;
  readonly weightsBase64: string;
  /** `lift_head.json` and `lift_head.safetensors` (base64): the head, absent for a foreign PEFT LoRA. */
  readonly headConfig?: JsonFileField;
  readonly headWeightsBase64?: string;
  readonly name?: string;
  readonly labels?: readonly string[];
  readonly method?: string;
  readonly taskId?: string | null;
  readonly alias?: string;
}

export interface ImportResult {
  /** The version to use: the attached one when the import was attached to a task. */
  readonly adapter: AdapterSummary;
  /** Whether the imported version is new. */
  readonly created: boolean;
  readonly alias: AdapterAlias | null;
  /** With `taskId` and no head in the files: the attach, from the imported version. */
  readonly attached: (AttachResult & { readonly from: string }) | null;
}

/** A JSON file field as bytes, refusing absurd nesting before it is re-encoded. */
function jsonFileBytes(value: JsonFileField, file: string): Uint8Array {
  if (typeof value !== 'string') requireJsonDepth(value, file);
  return new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
}

/** Known base models, for error messages. */
async function knownBaseModels(store: RegistryStore): Promise<string> {
  return (await store.listBaseModels()).map((m) => `'${m.name}'`).join(', ') || 'none registered';
}

/**
 * The base model the files name: the sha256 in our metadata, else `base_model_name_or_path` as a
 * backbone's public name (the one this server runs), a registered name or a sha256. An unknown
 * one is a bad field of the request: a 400 listing ours.
 */
async function importBaseModel(runtime: Runtime, config: Record<string, unknown>, meta: Record<string, unknown>): Promise<BaseModel> {
  const base = meta.base_model as Record<string, unknown> | undefined;
  const key = typeof base?.sha256 === 'string' ? base.sha256 : config.base_model_name_or_path;
  if (typeof key !== 'string' || key === '') {
    throw new ValidationError(`${PEFT_CONFIG_FILE}: expected base_model_name_or_path (a public name such as 'google/universal-sentence-encoder-lite', or a registered base model's name or sha256), got none`);
  }
  const backbone = backboneByPublicName(key);
  if (backbone) return (await runtime.backbones.get(backbone)).baseModel;
  try {
    return await runtime.store.getBaseModel(key);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    throw new ValidationError(`${PEFT_CONFIG_FILE}: base_model_name_or_path: expected a base model of this registry (${await knownBaseModels(runtime.store)}, their public names, or a sha256), got '${key}'`);
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
 * A head that came with the files must be one prediction can use: τ > 0, one label per class,
 * prototypes of nWay x the layer's width, the posterior tensors it declares. Checked by restoring
 * it exactly as predictions will, so nothing stored fails later with a 500.
 */
async function checkImportedHead(runtime: Runtime, input: AdapterInput, task: Task | null): Promise<void> {
  const extra = input.extra ?? {};
  if (input.labels.length > MAX_IMPORT_LABELS) throw new ValidationError(`labels: expected at most ${MAX_IMPORT_LABELS} labels, got ${input.labels.length}`);
  if (!declaresHead(extra, input.parameters)) return;
  const field = `${HEAD_CONFIG_FILE} extra`;
  if (readHeadSettings(extra, input.labels, field) === null) {
    throw new ValidationError(`${field}.tau: expected a finite number > 0 (the head's temperature), got none`);
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
 * Imports PEFT files. With the request's `taskId`, an adapter that came without a head is
 * attached to that task (its head computed from the task's support set, a new version); a task
 * named only in the files' metadata is a reference and never attached to. The alias points at
 * the version to use.
 */
export async function importAdapter(runtime: Runtime, req: ImportRequest): Promise<ImportResult> {
  const { store } = runtime;
  const fallbackLabels = req.taskId ? (await store.getTask(req.taskId)).labels : undefined;
  const result = await storeImport(runtime, { ...req, alias: undefined }, fallbackLabels);
  const imported = await store.getAdapter(result.adapter.id);
  const attached = req.taskId && !hasHead(imported.extra, imported.parameters) ? await attachAdapter(runtime, imported.id, req.taskId) : null;
  const use = attached?.adapter ?? result.adapter;
  const alias = req.alias !== undefined ? await store.setAlias(use.name, req.alias, use.version) : null;
  return { adapter: use, created: result.created, alias, attached: attached && { ...attached, from: result.adapter.id } };
}

/**
 * Validates a PEFT import completely (files, rank cap, task, head) before anything is written,
 * then stores the version. `fallbackLabels` are used when neither the request nor the files have
 * any (the attach task's).
 */
async function storeImport(runtime: Runtime, req: ImportRequest, fallbackLabels: readonly string[] | undefined): Promise<{ adapter: AdapterSummary; created: boolean }> {
  const { store } = runtime;
  const files = {
    [PEFT_CONFIG_FILE]: jsonFileBytes(req.config, PEFT_CONFIG_FILE),
    [PEFT_WEIGHTS_FILE]: decodeBase64(req.weightsBase64, PEFT_WEIGHTS_FILE, 'safetensors bytes'),
    [HEAD_CONFIG_FILE]: req.headConfig === undefined ? undefined : jsonFileBytes(req.headConfig, HEAD_CONFIG_FILE),
    [HEAD_WEIGHTS_FILE]: req.headWeightsBase64 === undefined ? undefined : decodeBase64(req.headWeightsBase64, HEAD_WEIGHTS_FILE, 'safetensors bytes'),
  };
  const config = parseJsonFile(files[PEFT_CONFIG_FILE], PEFT_CONFIG_FILE);
  const meta = headMetadata(config, files[HEAD_CONFIG_FILE] && parseJsonFile(files[HEAD_CONFIG_FILE], HEAD_CONFIG_FILE));
  const baseModel = await importBaseModel(runtime, config, meta);
  const labels = req.labels ?? (meta.labels === undefined ? fallbackLabels : undefined);
  const parsed = importPeft(files, baseModel, {
    name: req.name, labels, method: req.method, taskId: req.taskId, maxRank: runtime.limits.maxImportRank, naming: torchNaming(baseModel),
  });
  const task = await importTask(runtime, req, parsed);
  const input: AdapterInput = { ...parsed, taskId: task?.id ?? null };
  await checkImportedHead(runtime, input, task);
  const { value, created } = await store.createAdapterVersion(input);
  return { adapter: adapterSummary(value), created };
}
