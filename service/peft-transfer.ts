/**
 * Adapters in and out of the registry in the PEFT layout, over JSON:
 * `{ "adapter_config.json": {...}, "adapter_model.safetensors": "<base64>" }`.
 * Export then import gives the same parameters, extra and labels, hence the same content hash
 * and identical predictions.
 */
import { exportPeft, importPeft, LIFT_METADATA_KEY, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, type PeftFiles } from '../registry/peft.ts';
import { ValidationError } from '../registry/errors.ts';
import type { RegistryStore } from '../registry/store.ts';
import { requireJsonDepth } from '../registry/validate.ts';
import type { AdapterAlias, AdapterSummary } from '../registry/types.ts';
import { decodeBase64 } from './inputs.ts';

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

export async function importAdapter(store: RegistryStore, req: ImportRequest): Promise<ImportResult> {
  if (typeof req.config !== 'string') requireJsonDepth(req.config, PEFT_CONFIG_FILE);
  const configText = typeof req.config === 'string' ? req.config : JSON.stringify(req.config);
  let config: unknown;
  try { config = JSON.parse(configText); } catch (err) {
    throw new ValidationError(`${PEFT_CONFIG_FILE}: expected JSON, got invalid text (${(err as Error).message})`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ValidationError(`${PEFT_CONFIG_FILE}: expected a JSON object`);
  requireJsonDepth(config, PEFT_CONFIG_FILE);
  const baseModel = await store.getBaseModel(baseModelKey(config as Record<string, unknown>));
  const files = {
    [PEFT_CONFIG_FILE]: new TextEncoder().encode(configText),
    [PEFT_WEIGHTS_FILE]: decodeBase64(req.weightsBase64, PEFT_WEIGHTS_FILE, 'safetensors bytes'),
  };
  const meta = (config as Record<string, unknown>)[LIFT_METADATA_KEY] as Record<string, unknown> | undefined;
  const labels = req.labels ?? (meta?.labels === undefined ? req.fallbackLabels : undefined);
  const input = importPeft(files, baseModel, { name: req.name, labels, method: req.method, taskId: req.taskId });
  const { value, created } = await store.createAdapterVersion(input);
  const alias = req.alias !== undefined ? await store.setAlias(value.name, req.alias, value.version) : null;
  const { parameters: _, ...adapter } = value;
  return { adapter, created, alias };
}
