/**
 * Adapter import/export in the Hugging Face PEFT layout, so adapters move between this registry
 * and PEFT tooling. An export is four files:
 *
 *   adapter_config.json        a plain PEFT `LoraConfig` (no keys of ours, so PEFT loads it silently)
 *   adapter_model.safetensors  `base_model.model.<module>.lora_A.weight` [r, in] and `...lora_B.weight`
 *                              [out, r], nothing else
 *   lift_head.json             what PEFT has no field for: labels, method, `extra` (τ, class count,
 *                              posterior sample count), lineage, metrics, the registry's base model
 *   lift_head.safetensors      the classifier head in its real shapes (prototypes [nWay, out];
 *                              posterior samples [S, r, in], [S, out, r], [S, nWay, out])
 *
 * The head sits in its own files, as PEFT keeps `modules_to_save` apart from the LoRA weights:
 * PEFT loads the first two and never sees the head. `<module>` and `base_model_name_or_path` are
 * the PyTorch module path and the public name of the network (a `TorchNaming` the caller passes);
 * without one, the registry's own names are used. An export re-imports exactly: same parameters,
 * same content hash, hence the same registry version.
 *
 * Import also accepts the earlier two-file layout, whose config carried our metadata under the
 * key `lift_zoo` and whose weights file carried the head as 1-D `lift_zoo.<name>` tensors.
 * It rejects PEFT options that would change the math (rsLoRA or DoRA scaling, fan_in_fan_out,
 * per-module rank/alpha, bias).
 */
import { headTensorShapes } from './adapter-head.ts';
import { STORED_METHODS } from './artifact-names.ts';
import { ValidationError, describeValue } from './errors.ts';
import { loraTensorLayout } from './lora-layout.ts';
import { readSafetensors, writeSafetensors, type TensorToWrite } from './safetensors.ts';
import type { Adapter, AdapterInput, BaseModel, JsonObject } from './types.ts';
import { requireFinite, requireInt, requireJsonDepth, requireLabels, requireString } from './validate.ts';

export const PEFT_CONFIG_FILE = 'adapter_config.json';
export const PEFT_WEIGHTS_FILE = 'adapter_model.safetensors';
export const HEAD_CONFIG_FILE = 'lift_head.json';
export const HEAD_WEIGHTS_FILE = 'lift_head.safetensors';
/** Every file of an export, in the order a reader needs them. */
export const EXPORT_FILES = [PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, HEAD_CONFIG_FILE, HEAD_WEIGHTS_FILE] as const;
export type ExportFileName = (typeof EXPORT_FILES)[number];
/** Version of the `lift_head.json` layout. */
export const HEAD_FORMAT_VERSION = 2;
/** Config key that held our metadata in the earlier layout (read on import only). */
export const LEGACY_METADATA_KEY = 'lift_zoo';
const LEGACY_TENSOR_PREFIX = 'lift_zoo.';

/** In-memory files of an export, keyed by file name. */
export type PeftFiles = { readonly [F in ExportFileName]: Uint8Array };

/** How PyTorch names a base model and its LoRA layers (see service/backbones.ts). */
export interface TorchNaming {
  /** Public `org/name` of the pretrained network: `base_model_name_or_path`. */
  readonly baseModel: string;
  /** Our layer name -> module path in the PyTorch model, e.g. 'tanh_layer_0' -> '2.linear'. */
  readonly modules: Readonly<Record<string, string>>;
}

const peftName = (module: string, which: 'lora_A' | 'lora_B') => `base_model.model.${module}.${which}.weight`;
const moduleOf = (layer: string, naming?: TorchNaming) => naming?.modules[layer] ?? layer;
const encodeJson = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

/** The head tensors with their shapes; a tensor whose length does not fit its shape stays 1-D. */
function headTensors(adapter: Adapter, baseModel: BaseModel, loraNames: ReadonlySet<string>): Record<string, TensorToWrite> {
  const last = baseModel.placement[baseModel.placement.length - 1];
  const samples = typeof adapter.extra.posteriorSamples === 'number' ? adapter.extra.posteriorSamples : 0;
  const shapes = headTensorShapes({ nWay: adapter.labels.length, rank: adapter.rank, inDim: baseModel.placement[0].inDim, outDim: last.outDim, samples });
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, data] of Object.entries(adapter.parameters)) {
    if (loraNames.has(name)) continue;
    const shape = shapes[name];
    tensors[name] = { shape: shape && shape.reduce((a, b) => a * b, 1) === data.length ? shape : [data.length], data };
  }
  return tensors;
}

/** Adapter -> export files. The base model must be the adapter's own. */
export function exportPeft(adapter: Adapter, baseModel: BaseModel, naming?: TorchNaming): PeftFiles {
  if (adapter.baseModelSha !== baseModel.sha256) {
    throw new ValidationError(`exportPeft: expected the adapter's base model ${adapter.baseModelSha.slice(0, 12)}…, got '${baseModel.name}' (${baseModel.sha256.slice(0, 12)}…)`);
  }
  const lora: Record<string, TensorToWrite> = {};
  const loraNames = new Set<string>();
  for (const { placement: p, a, b } of loraTensorLayout(baseModel.placement)) {
    lora[peftName(moduleOf(p.layer, naming), 'lora_A')] = { shape: [adapter.rank, p.inDim], data: adapter.parameters[a] };
    lora[peftName(moduleOf(p.layer, naming), 'lora_B')] = { shape: [p.outDim, adapter.rank], data: adapter.parameters[b] };
    loraNames.add(a).add(b);
  }
  const head = headTensors(adapter, baseModel, loraNames);
  const config = {
    peft_type: 'LORA',
    task_type: 'FEATURE_EXTRACTION',
    base_model_name_or_path: naming?.baseModel ?? baseModel.name,
    r: adapter.rank,
    lora_alpha: adapter.alpha,
    target_modules: baseModel.placement.map((p) => moduleOf(p.layer, naming)),
    lora_dropout: 0,
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: false,
    use_dora: false,
    inference_mode: true,
  };
  const headConfig = {
    format_version: HEAD_FORMAT_VERSION,
    name: adapter.name,
    version: adapter.version,
    content_hash: adapter.contentHash,
    method: adapter.method,
    labels: adapter.labels,
    base_model: { name: baseModel.name, sha256: baseModel.sha256, public_name: config.base_model_name_or_path },
    task_id: adapter.taskId,
    extra: adapter.extra,
    tensors: Object.fromEntries(Object.entries(head).map(([name, t]) => [name, t.shape])),
    metrics: adapter.metrics,
    training_config: adapter.trainingConfig,
    parents: adapter.parents,
  };
  return {
    [PEFT_CONFIG_FILE]: encodeJson(config),
    [PEFT_WEIGHTS_FILE]: writeSafetensors(lora, { format: 'pt' }),
    [HEAD_CONFIG_FILE]: encodeJson(headConfig),
    [HEAD_WEIGHTS_FILE]: writeSafetensors(head, { format: 'pt' }),
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
  /** PyTorch names the files may use for the base model's layers. */
  readonly naming?: TorchNaming;
}

function fail(message: string): never {
  throw new ValidationError(`PEFT import: ${message}`);
}

/** A file that must hold a JSON object. */
export function parseJsonFile(bytes: Uint8Array | undefined, file: string): Record<string, unknown> {
  if (!(bytes instanceof Uint8Array)) fail(`expected file ${file}, got ${describeValue(bytes)}`);
  let value: unknown;
  try { value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)); } catch (err) {
    fail(`${file} is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${file}: expected a JSON object`);
  requireJsonDepth(value, file);
  return value as Record<string, unknown>;
}

/** Rejects PEFT options whose math differs from ours (ΔW = (α/r)·BA on the placement layers). */
function checkConfig(config: Record<string, unknown>, baseModel: BaseModel, naming?: TorchNaming): void {
  if (config.peft_type !== 'LORA') fail(`peft_type: expected 'LORA', got ${describeValue(config.peft_type)}`);
  const base = config.base_model_name_or_path;
  const names = [baseModel.name, baseModel.sha256, ...(naming ? [naming.baseModel] : [])];
  if (base !== undefined && base !== null && !names.includes(base as string)) {
    fail(`base_model_name_or_path: expected ${names.map((n) => `'${n}'`).join(' or ')}, got ${describeValue(base)}`);
  }
  const targets = typeof config.target_modules === 'string' ? [config.target_modules] : config.target_modules;
  const expected = (names: readonly string[]) => Array.isArray(targets) && [...targets].sort().join('\n') === [...names].sort().join('\n');
  const layers = baseModel.placement.map((p) => p.layer), modules = layers.map((l) => moduleOf(l, naming));
  if (!expected(modules) && !expected(layers)) {
    fail(`target_modules: expected [${modules.join(', ')}] (the base model's LoRA placement), got ${JSON.stringify(config.target_modules)}`);
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
  const saved = config.modules_to_save;
  if (saved !== undefined && saved !== null && !(Array.isArray(saved) && saved.length === 0)) {
    fail(`modules_to_save: expected none (the head travels in ${HEAD_WEIGHTS_FILE}), got ${JSON.stringify(saved)}`);
  }
}

/** The LoRA tensors of the weights file, under a module's PyTorch name or (earlier layout) our layer name. */
function readLora(bytes: Uint8Array | undefined, baseModel: BaseModel, rank: number, naming?: TorchNaming): { parameters: Record<string, Float32Array>; legacyHead: Record<string, Float32Array> } {
  if (!(bytes instanceof Uint8Array)) fail(`expected file ${PEFT_WEIGHTS_FILE}, got ${describeValue(bytes)}`);
  const { tensors } = readSafetensors(bytes);
  const parameters: Record<string, Float32Array> = {};
  const legacyHead: Record<string, Float32Array> = {};
  const used = new Set<string>();
  for (const { placement: p, a, b } of loraTensorLayout(baseModel.placement)) {
    const module = [moduleOf(p.layer, naming), p.layer].find((m) => Object.hasOwn(tensors, peftName(m, 'lora_A'))) ?? moduleOf(p.layer, naming);
    for (const [file, param, shape] of [[peftName(module, 'lora_A'), a, [rank, p.inDim]], [peftName(module, 'lora_B'), b, [p.outDim, rank]]] as const) {
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
    if (!file.startsWith(LEGACY_TENSOR_PREFIX)) fail(`unexpected tensor '${file}' (expected only LoRA tensors of ${baseModel.placement.map((p) => moduleOf(p.layer, naming)).join(', ')}; the head belongs in ${HEAD_WEIGHTS_FILE})`);
    Object.defineProperty(legacyHead, file.slice(LEGACY_TENSOR_PREFIX.length), { value: t.data, enumerable: true, writable: true });
  }
  return { parameters, legacyHead };
}

/** The head tensors of `lift_head.safetensors`: known names in the shapes `lift_head.json` lists. */
function readHead(bytes: Uint8Array | undefined, declared: JsonObject | undefined): Record<string, Float32Array> {
  if (bytes === undefined) {
    if (declared && Object.keys(declared).length > 0) fail(`${HEAD_CONFIG_FILE} lists head tensors, but ${HEAD_WEIGHTS_FILE} is missing`);
    return {};
  }
  if (!(bytes instanceof Uint8Array)) fail(`expected file ${HEAD_WEIGHTS_FILE}, got ${describeValue(bytes)}`);
  const { tensors } = readSafetensors(bytes);
  const head: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(tensors)) {
    const shape = declared?.[name];
    if (!Array.isArray(shape) || shape.join(',') !== t.shape.join(',')) {
      fail(`${HEAD_WEIGHTS_FILE}: tensor '${name}' has shape [${t.shape.join(', ')}], but ${HEAD_CONFIG_FILE} tensors.${name} says ${JSON.stringify(shape) ?? 'nothing'}`);
    }
    Object.defineProperty(head, name, { value: t.data, enumerable: true, writable: true });
  }
  return head;
}

const asObject = (v: unknown): JsonObject | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined;

/** Our metadata: `lift_head.json`, else the earlier layout's `lift_zoo` config key, else none. */
export function headMetadata(config: Record<string, unknown>, headConfig: Record<string, unknown> | undefined): JsonObject {
  if (headConfig) return headConfig;
  const legacy = asObject(config[LEGACY_METADATA_KEY]);
  return legacy ? { ...legacy, base_model: { sha256: legacy.base_model_sha256 } } : {};
}

/**
 * Export files -> an `AdapterInput` ready for `createAdapterVersion`. Name, labels and method come
 * from `options`, else from `lift_head.json`; a foreign adapter (PEFT's two files only) needs
 * `options.labels`. Lineage in the metadata is informational only and is not imported: parent
 * ids are local to the registry that exported them.
 */
export function importPeft(files: Readonly<Record<string, Uint8Array | undefined>>, baseModel: BaseModel, options: PeftImportOptions = {}): AdapterInput {
  const config = parseJsonFile(files[PEFT_CONFIG_FILE], PEFT_CONFIG_FILE);
  checkConfig(config, baseModel, options.naming);
  const rank = requireInt(config.r, 'adapter_config.json r', 1, options.maxRank ?? 4096);
  const alpha = requireFinite(config.lora_alpha, 'adapter_config.json lora_alpha', { positive: true });
  const headConfig = files[HEAD_CONFIG_FILE] === undefined ? undefined : parseJsonFile(files[HEAD_CONFIG_FILE], HEAD_CONFIG_FILE);
  if (headConfig && headConfig.format_version !== HEAD_FORMAT_VERSION) {
    fail(`${HEAD_CONFIG_FILE} format_version: expected ${HEAD_FORMAT_VERSION}, got ${describeValue(headConfig.format_version)}`);
  }
  const meta = headMetadata(config, headConfig);
  const sha = asObject(meta.base_model)?.sha256;
  if (sha !== undefined && sha !== baseModel.sha256) fail(`${HEAD_CONFIG_FILE} base_model.sha256: expected ${baseModel.sha256}, got ${describeValue(sha)}`);
  const { parameters, legacyHead } = readLora(files[PEFT_WEIGHTS_FILE], baseModel, rank, options.naming);
  const labels = options.labels ?? meta.labels;
  if (labels === undefined) fail(`expected a label set in ${HEAD_CONFIG_FILE} labels or in the import options, got none`);
  if (headConfig && Object.keys(legacyHead).length > 0) fail(`unexpected tensors ${Object.keys(legacyHead).map((n) => `'${LEGACY_TENSOR_PREFIX}${n}'`).join(', ')} beside ${HEAD_WEIGHTS_FILE}`);
  const head = headConfig ? readHead(files[HEAD_WEIGHTS_FILE], asObject(headConfig.tensors)) : legacyHead;
  if (!headConfig && files[HEAD_WEIGHTS_FILE] !== undefined) fail(`${HEAD_WEIGHTS_FILE} needs its ${HEAD_CONFIG_FILE}`);
  for (const name of Object.keys(head)) if (Object.hasOwn(parameters, name)) fail(`head tensor '${name}' clashes with a LoRA tensor`);
  return {
    name: requireString(options.name ?? meta.name, 'name'),
    method: requireString(options.method ?? meta.method ?? STORED_METHODS.peftImport, 'method'),
    baseModel: baseModel.sha256,
    taskId: options.taskId !== undefined ? options.taskId : typeof meta.task_id === 'string' ? meta.task_id : null,
    labels: requireLabels(labels, 'labels'),
    rank,
    alpha,
    parameters: { ...parameters, ...head },
    extra: asObject(meta.extra) ?? {},
    metrics: asObject(meta.metrics) ?? {},
    trainingConfig: asObject(meta.training_config) ?? {},
  };
}

