/**
 * Adapter import/export in the Hugging Face PEFT layout, so adapters move between this registry
 * and PEFT tooling: `adapter_config.json` + `adapter_model.safetensors`.
 *
 * Tensor names follow PEFT: `base_model.model.<layer>.lora_A.weight` [r, in] and
 * `base_model.model.<layer>.lora_B.weight` [out, r]. Non-LoRA parameters (e.g. stored
 * prototypes) are written 1-D as `lift_zoo.<name>`; PEFT loaders ignore unknown keys.
 * Everything PEFT has no field for (label set, method, head temperature τ and other `extra`,
 * lineage, metrics) goes under the config key `lift_zoo`, so an export re-imports exactly: same
 * parameters, same content hash, hence the same registry version.
 *
 * Import validates against the target base model's placement and rejects PEFT options that
 * would change the math (rsLoRA or DoRA scaling, fan_in_fan_out, per-module rank/alpha, bias).
 */
import { ValidationError, describeValue } from './errors.ts';
import { loraTensorLayout } from './lora-layout.ts';
import { readSafetensors, writeSafetensors, type TensorToWrite } from './safetensors.ts';
import type { Adapter, AdapterInput, BaseModel, JsonObject } from './types.ts';
import { requireFinite, requireInt, requireJsonDepth, requireLabels, requireString } from './validate.ts';

export const PEFT_CONFIG_FILE = 'adapter_config.json';
export const PEFT_WEIGHTS_FILE = 'adapter_model.safetensors';
/** Config key holding our own metadata. */
export const LIFT_METADATA_KEY = 'lift_zoo';
const EXTRA_PREFIX = 'lift_zoo.';

/** In-memory files, keyed by file name (a type alias, so it is assignable to a plain file map). */
export type PeftFiles = {
  readonly [PEFT_CONFIG_FILE]: Uint8Array;
  readonly [PEFT_WEIGHTS_FILE]: Uint8Array;
};

const peftName = (layer: string, which: 'lora_A' | 'lora_B') => `base_model.model.${layer}.${which}.weight`;

/** Adapter -> PEFT files. The base model must be the adapter's own. */
export function exportPeft(adapter: Adapter, baseModel: BaseModel): PeftFiles {
  if (adapter.baseModelSha !== baseModel.sha256) {
    throw new ValidationError(`exportPeft: expected the adapter's base model ${adapter.baseModelSha.slice(0, 12)}…, got '${baseModel.name}' (${baseModel.sha256.slice(0, 12)}…)`);
  }
  const tensors: Record<string, TensorToWrite> = {};
  const loraNames = new Set<string>();
  for (const { placement: p, a, b } of loraTensorLayout(baseModel.placement)) {
    tensors[peftName(p.layer, 'lora_A')] = { shape: [adapter.rank, p.inDim], data: adapter.parameters[a] };
    tensors[peftName(p.layer, 'lora_B')] = { shape: [p.outDim, adapter.rank], data: adapter.parameters[b] };
    loraNames.add(a).add(b);
  }
  for (const [name, data] of Object.entries(adapter.parameters)) {
    if (!loraNames.has(name)) tensors[EXTRA_PREFIX + name] = { shape: [data.length], data };
  }
  const config = {
    peft_type: 'LORA',
    task_type: 'FEATURE_EXTRACTION',
    base_model_name_or_path: baseModel.name,
    r: adapter.rank,
    lora_alpha: adapter.alpha,
    target_modules: baseModel.placement.map((p) => p.layer),
    lora_dropout: 0,
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: false,
    use_dora: false,
    inference_mode: true,
    [LIFT_METADATA_KEY]: {
      format_version: 1,
      name: adapter.name,
      version: adapter.version,
      content_hash: adapter.contentHash,
      method: adapter.method,
      labels: adapter.labels,
      base_model_sha256: adapter.baseModelSha,
      task_id: adapter.taskId,
      extra: adapter.extra,
      metrics: adapter.metrics,
      training_config: adapter.trainingConfig,
      parents: adapter.parents,
    },
  };
  return {
    [PEFT_CONFIG_FILE]: new TextEncoder().encode(JSON.stringify(config, null, 2)),
    [PEFT_WEIGHTS_FILE]: writeSafetensors(tensors, { format: 'pt' }),
  };
}

/** Overrides for fields a foreign PEFT adapter lacks (or to rename on import). */
export interface PeftImportOptions {
  readonly name?: string;
  readonly labels?: readonly string[];
  readonly method?: string;
  readonly taskId?: string | null;
  /** Largest accepted rank (default 4096); the server passes its configured cap. */
  readonly maxRank?: number;
}

function fail(message: string): never {
  throw new ValidationError(`PEFT import: ${message}`);
}

function parseConfig(bytes: Uint8Array | undefined): Record<string, unknown> {
  if (!(bytes instanceof Uint8Array)) fail(`expected file ${PEFT_CONFIG_FILE}, got ${describeValue(bytes)}`);
  let config: unknown;
  try { config = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)); } catch (err) {
    fail(`${PEFT_CONFIG_FILE} is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) fail(`${PEFT_CONFIG_FILE}: expected a JSON object`);
  requireJsonDepth(config, PEFT_CONFIG_FILE);
  return config as Record<string, unknown>;
}

/** Rejects PEFT options whose math differs from ours (ΔW = (α/r)·BA on the placement layers). */
function checkConfig(config: Record<string, unknown>, baseModel: BaseModel): void {
  if (config.peft_type !== 'LORA') fail(`peft_type: expected 'LORA', got ${describeValue(config.peft_type)}`);
  const base = config.base_model_name_or_path;
  if (base !== undefined && base !== null && base !== baseModel.name && base !== baseModel.sha256) {
    fail(`base_model_name_or_path: expected '${baseModel.name}', got ${describeValue(base)}`);
  }
  const layers = baseModel.placement.map((p) => p.layer);
  const targets = typeof config.target_modules === 'string' ? [config.target_modules] : config.target_modules;
  if (!Array.isArray(targets) || [...targets].sort().join('\n') !== [...layers].sort().join('\n')) {
    fail(`target_modules: expected [${layers.join(', ')}] (the base model's LoRA placement), got ${JSON.stringify(config.target_modules)}`);
  }
  for (const flag of ['use_rslora', 'use_dora', 'fan_in_fan_out'] as const) {
    if (config[flag] === true) fail(`${flag}: expected false (scaling is alpha/r on an untransposed layer), got true`);
  }
  if (config.bias !== undefined && config.bias !== 'none') fail(`bias: expected 'none', got ${describeValue(config.bias)}`);
  for (const pattern of ['rank_pattern', 'alpha_pattern'] as const) {
    const v = config[pattern];
    if (v !== undefined && v !== null && (typeof v !== 'object' || Object.keys(v).length > 0)) {
      fail(`${pattern}: expected none (one rank and alpha for all layers), got ${JSON.stringify(v)}`);
    }
  }
}

function readTensors(bytes: Uint8Array | undefined, baseModel: BaseModel, rank: number): Record<string, Float32Array> {
  if (!(bytes instanceof Uint8Array)) fail(`expected file ${PEFT_WEIGHTS_FILE}, got ${describeValue(bytes)}`);
  const { tensors } = readSafetensors(bytes);
  const parameters: Record<string, Float32Array> = {};
  const used = new Set<string>();
  for (const { placement: p, a, b } of loraTensorLayout(baseModel.placement)) {
    for (const [file, param, shape] of [[peftName(p.layer, 'lora_A'), a, [rank, p.inDim]], [peftName(p.layer, 'lora_B'), b, [p.outDim, rank]]] as const) {
      const t = tensors[file];
      if (!Object.hasOwn(tensors, file)) fail(`expected tensor '${file}' [${shape.join(', ')}], got none`);
      if (t.shape.length !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1]) {
        fail(`tensor '${file}': expected shape [${shape.join(', ')}] (r = ${rank}, layer '${p.layer}'), got [${t.shape.join(', ')}]`);
      }
      parameters[param] = t.data;
      used.add(file);
    }
  }
  for (const [file, t] of Object.entries(tensors)) {
    if (used.has(file)) continue;
    if (!file.startsWith(EXTRA_PREFIX)) fail(`unexpected tensor '${file}' (expected LoRA tensors of layers ${baseModel.placement.map((p) => p.layer).join(', ')})`);
    Object.defineProperty(parameters, file.slice(EXTRA_PREFIX.length), { value: t.data, enumerable: true, writable: true });
  }
  return parameters;
}

const asObject = (v: unknown): JsonObject | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined;

/**
 * PEFT files -> an `AdapterInput` ready for `createAdapterVersion`. Name, labels and method come
 * from `options`, else from our `lift_zoo` metadata; a foreign adapter without labels needs
 * `options.labels`. Lineage in the metadata is informational only and is not imported: parent
 * ids are local to the registry that exported them.
 */
export function importPeft(files: Readonly<Record<string, Uint8Array | undefined>>, baseModel: BaseModel, options: PeftImportOptions = {}): AdapterInput {
  const config = parseConfig(files[PEFT_CONFIG_FILE]);
  checkConfig(config, baseModel);
  const rank = requireInt(config.r, 'adapter_config.json r', 1, options.maxRank ?? 4096);
  const alpha = requireFinite(config.lora_alpha, 'adapter_config.json lora_alpha', { positive: true });
  const meta = asObject(config[LIFT_METADATA_KEY]) ?? {};
  if (meta.base_model_sha256 !== undefined && meta.base_model_sha256 !== baseModel.sha256) {
    fail(`${LIFT_METADATA_KEY}.base_model_sha256: expected ${baseModel.sha256}, got ${describeValue(meta.base_model_sha256)}`);
  }
  const labels = options.labels ?? meta.labels;
  if (labels === undefined) fail(`expected a label set in ${LIFT_METADATA_KEY}.labels or in the import options, got none`);
  return {
    name: requireString(options.name ?? meta.name, 'name'),
    method: requireString(options.method ?? meta.method ?? 'peft-import', 'method'),
    baseModel: baseModel.sha256,
    taskId: options.taskId !== undefined ? options.taskId : typeof meta.task_id === 'string' ? meta.task_id : null,
    labels: requireLabels(labels, 'labels'),
    rank,
    alpha,
    parameters: readTensors(files[PEFT_WEIGHTS_FILE], baseModel, rank),
    extra: asObject(meta.extra) ?? {},
    metrics: asObject(meta.metrics) ?? {},
    trainingConfig: asObject(meta.training_config) ?? {},
  };
}
