import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { openRegistry } from '../registry/open.ts';
import { exportPeft, HEAD_CONFIG_FILE, HEAD_WEIGHTS_FILE, importPeft, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, type TorchNaming } from '../registry/peft.ts';
import { readSafetensors, writeSafetensors } from '../registry/safetensors.ts';
import { ValidationError } from '../registry/errors.ts';
import type { BaseModelInput } from '../registry/types.ts';

const IN = 6, OUT = 4, R = 2, S = 2;
const TORCH: TorchNaming = { baseModel: 'google/universal-sentence-encoder-lite', modules: { tanh_layer_0: '2.linear' } };
const BASE: BaseModelInput = {
  name: 'use-lite', modality: 'text', sha256: createHash('sha256').update('onnx').digest('hex'), featureDim: IN,
  placement: [{ layer: 'tanh_layer_0', inDim: IN, outDim: OUT, activation: 'tanh' }],
};
const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 31 + i) / 3);

async function setup(t: { after: (fn: () => unknown) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'lift-peft-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openRegistry(`sqlite:${join(dir, 'registry.db')}`);
  t.after(() => store.close());
  const base = (await store.registerBaseModel(BASE)).value;
  const adapter = (await store.createAdapterVersion({
    name: 'brown-genres', method: 'lift-map', baseModel: base.sha256, taskId: 'brown', labels: ['news', 'fiction', 'humor'],
    rank: R, alpha: 8,
    parameters: {
      lora_A: values(R * IN, 1), lora_B: values(OUT * R, 2), prototypes: values(3 * OUT, 3),
      posterior_lora_A: values(S * R * IN, 4), posterior_lora_B: values(S * OUT * R, 5), posterior_prototypes: values(S * 3 * OUT, 6),
    },
    extra: { tau: 12.5, nWay: 3, posteriorSamples: S }, metrics: { acc: 0.61 }, trainingConfig: { steps: 20 },
  })).value;
  return { store, base, adapter };
}

const config = (files: { [PEFT_CONFIG_FILE]: Uint8Array }) => JSON.parse(new TextDecoder().decode(files[PEFT_CONFIG_FILE]));
const headConfig = (files: { [HEAD_CONFIG_FILE]: Uint8Array }) => JSON.parse(new TextDecoder().decode(files[HEAD_CONFIG_FILE]));
const withConfig = (files: Record<string, Uint8Array>, patch: Record<string, unknown>) =>
  ({ ...files, [PEFT_CONFIG_FILE]: new TextEncoder().encode(JSON.stringify({ ...config(files as never), ...patch })) });

test('export writes a plain PEFT LoraConfig and LoRA file under PyTorch names, and the head apart in its shapes', async (t) => {
  const { base, adapter } = await setup(t);
  const files = exportPeft(adapter, base, TORCH);
  assert.deepEqual(Object.keys(files), [PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, HEAD_CONFIG_FILE, HEAD_WEIGHTS_FILE]);
  const cfg = config(files);
  assert.deepEqual(Object.keys(cfg).sort(), [
    'base_model_name_or_path', 'bias', 'fan_in_fan_out', 'inference_mode', 'lora_alpha', 'lora_dropout', 'peft_type', 'r', 'target_modules', 'task_type', 'use_dora', 'use_rslora',
  ], 'only LoraConfig fields: PEFT warns about none');
  assert.equal(cfg.peft_type, 'LORA');
  assert.equal(cfg.r, R);
  assert.equal(cfg.lora_alpha, 8);
  assert.deepEqual(cfg.target_modules, ['2.linear']);
  assert.equal(cfg.base_model_name_or_path, 'google/universal-sentence-encoder-lite');
  assert.equal(cfg.task_type, 'FEATURE_EXTRACTION');
  const lora = readSafetensors(files[PEFT_WEIGHTS_FILE]);
  assert.deepEqual(lora.metadata, { format: 'pt' });
  assert.deepEqual(Object.fromEntries(Object.entries(lora.tensors).map(([k, v]) => [k, v.shape])), {
    'base_model.model.2.linear.lora_A.weight': [R, IN], 'base_model.model.2.linear.lora_B.weight': [OUT, R],
  });
  assert.deepEqual(lora.tensors['base_model.model.2.linear.lora_A.weight'].data, adapter.parameters.lora_A);
  const meta = headConfig(files);
  assert.deepEqual(meta.labels, ['news', 'fiction', 'humor']);
  assert.equal(meta.extra.tau, 12.5);
  assert.deepEqual(meta.base_model, { name: 'use-lite', sha256: base.sha256, public_name: 'google/universal-sentence-encoder-lite' });
  const head = readSafetensors(files[HEAD_WEIGHTS_FILE]).tensors;
  const shapes = { prototypes: [3, OUT], posterior_lora_A: [S, R, IN], posterior_lora_B: [S, OUT, R], posterior_prototypes: [S, 3, OUT] };
  assert.deepEqual(Object.fromEntries(Object.entries(head).map(([k, v]) => [k, v.shape])), shapes, 'posterior samples keep their shape');
  assert.deepEqual(meta.tensors, shapes);
  for (const name of Object.keys(shapes)) assert.deepEqual(head[name].data, adapter.parameters[name]);
  assert.deepEqual(config(exportPeft(adapter, base)).target_modules, ['tanh_layer_0'], 'without PyTorch names, the layer name');
});

test('import reads the earlier two-file layout (metadata under lift_zoo, 1-D lift_zoo.* head tensors)', async (t) => {
  const { store, base, adapter } = await setup(t);
  const A = 'base_model.model.tanh_layer_0.lora_A.weight', B = 'base_model.model.tanh_layer_0.lora_B.weight';
  const { lora_A, lora_B, ...head } = adapter.parameters;
  const legacy = {
    [PEFT_CONFIG_FILE]: new TextEncoder().encode(JSON.stringify({
      ...config(exportPeft(adapter, base)), base_model_name_or_path: base.name,
      lift_zoo: { format_version: 1, name: adapter.name, method: adapter.method, labels: adapter.labels, base_model_sha256: base.sha256, task_id: 'brown', extra: adapter.extra },
    })),
    [PEFT_WEIGHTS_FILE]: writeSafetensors({
      [A]: { shape: [R, IN], data: lora_A }, [B]: { shape: [OUT, R], data: lora_B },
      ...Object.fromEntries(Object.entries(head).map(([k, v]) => [`lift_zoo.${k}`, { shape: [v.length], data: v }])),
    }),
  };
  const input = importPeft(legacy, base, { naming: TORCH });
  assert.deepEqual(input.parameters, adapter.parameters);
  assert.equal((await store.createAdapterVersion(input)).value.id, adapter.id, 'the same version as before');
});

test('export -> import round-trips exactly and re-uploads as the same version', async (t) => {
  const { store, base, adapter } = await setup(t);
  const input = importPeft(exportPeft(adapter, base, TORCH), base, { naming: TORCH });
  assert.deepEqual(input.parameters, adapter.parameters);
  assert.deepEqual(input.extra, adapter.extra);
  assert.deepEqual(input.labels, adapter.labels);
  assert.equal(input.method, 'lift-map');
  const again = await store.createAdapterVersion(input);
  assert.equal(again.created, false);
  assert.equal(again.value.id, adapter.id);
  const renamed = (await store.createAdapterVersion(importPeft(exportPeft(adapter, base), base, { name: 'copy' }))).value;
  assert.equal(renamed.contentHash, adapter.contentHash, 'content identity does not depend on the name');
  assert.deepEqual(exportPeft(renamed, base)[PEFT_WEIGHTS_FILE], exportPeft(adapter, base)[PEFT_WEIGHTS_FILE]);
});

test('import validates config fields against the base model', async (t) => {
  const { base, adapter } = await setup(t);
  const files = exportPeft(adapter, base) as Record<string, Uint8Array>;
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ peft_type: 'IA3' }, /peft_type: expected 'LORA', got "IA3"/],
    [{ target_modules: ['q_proj', 'v_proj'] }, /target_modules: expected \[tanh_layer_0\]/],
    [{ base_model_name_or_path: 'bert-base-uncased' }, /base_model_name_or_path: expected 'use-lite'/],
    [{ r: 0 }, /r: expected an integer in \[1, 4096\], got number 0/],
    [{ lora_alpha: 'big' }, /lora_alpha: expected a finite positive number/],
    [{ use_rslora: true }, /use_rslora: expected false/],
    [{ use_dora: true }, /use_dora: expected false/],
    [{ rank_pattern: { tanh_layer_0: 4 } }, /rank_pattern: expected none/],
    [{ bias: 'all' }, /bias: expected 'none'/],
    [{ modules_to_save: ['classifier'] }, /modules_to_save: expected none \(the head travels in lift_head.safetensors\)/],
  ];
  for (const [patch, pattern] of cases) {
    assert.throws(() => importPeft(withConfig(files, patch), base), (err: unknown) => err instanceof ValidationError && pattern.test(err.message), JSON.stringify(patch));
  }
  assert.throws(() => importPeft({ ...files, [PEFT_CONFIG_FILE]: new TextEncoder().encode('{nope') }, base), /not valid UTF-8 JSON/);
  assert.throws(() => importPeft({ [PEFT_CONFIG_FILE]: files[PEFT_CONFIG_FILE] }, base), /expected file adapter_model.safetensors/);
  const other = { ...base, name: 'other', sha256: createHash('sha256').update('x').digest('hex') };
  assert.throws(() => importPeft(withConfig(files, { base_model_name_or_path: 'other' }), other), /lift_head.json base_model.sha256: expected/);
  const peftOnly = { [PEFT_CONFIG_FILE]: files[PEFT_CONFIG_FILE], [PEFT_WEIGHTS_FILE]: files[PEFT_WEIGHTS_FILE] };
  assert.throws(() => importPeft(peftOnly, base, { name: 'foreign' }), /expected a label set in lift_head.json labels or in the import options/);
  assert.throws(() => importPeft({ ...files, [HEAD_WEIGHTS_FILE]: writeSafetensors({ prototypes: { shape: [3 * OUT], data: values(3 * OUT, 3) } }) }, base),
    /tensor 'prototypes' has shape \[12\], but lift_head.json tensors.prototypes says \[3,4\]/);
  assert.throws(() => importPeft({ ...peftOnly, [HEAD_WEIGHTS_FILE]: files[HEAD_WEIGHTS_FILE] }, base, { name: 'x', labels: ['x'] }), /lift_head.safetensors needs its lift_head.json/);
  const foreign = importPeft(peftOnly, base, { name: 'foreign', labels: ['x', 'y'] });
  assert.equal(foreign.method, 'peft-import');
  assert.deepEqual(foreign.labels, ['x', 'y']);
});

test('import checks tensor shapes and names against the placement', async (t) => {
  const { base, adapter } = await setup(t);
  const files = exportPeft(adapter, base) as Record<string, Uint8Array>;
  const A = 'base_model.model.tanh_layer_0.lora_A.weight', B = 'base_model.model.tanh_layer_0.lora_B.weight';
  const weights = (tensors: Record<string, { shape: number[]; data: Float32Array }>) => ({ [PEFT_CONFIG_FILE]: files[PEFT_CONFIG_FILE], [PEFT_WEIGHTS_FILE]: writeSafetensors(tensors) });
  const a = { shape: [R, IN], data: values(R * IN, 1) }, b = { shape: [OUT, R], data: values(OUT * R, 2) };
  assert.throws(() => importPeft(weights({ [A]: { shape: [IN, R], data: a.data }, [B]: b }), base, { name: 'x', labels: ['x'] }), /tensor '.*lora_A.weight': expected shape \[2, 6\] \(r = 2, layer 'tanh_layer_0'\), got \[6, 2\]/);
  assert.throws(() => importPeft(weights({ [A]: a }), base, { name: 'x', labels: ['x'] }), /expected tensor '.*lora_B.weight' \[4, 2\], got none/);
  assert.throws(() => importPeft(weights({ [A]: a, [B]: b, 'base_model.model.other.lora_A.weight': a }), base, { name: 'x', labels: ['x'] }), /unexpected tensor 'base_model.model.other.lora_A.weight'/);
  assert.throws(() => importPeft(withConfig(weights({ [A]: a, [B]: b }), { r: 3 }), base, { name: 'x', labels: ['x'] }), /expected shape \[3, 6\]/);
  const ok = importPeft(weights({ [A]: a, [B]: b }), base, { name: 'x', labels: ['x'] });
  assert.deepEqual(Object.keys(ok.parameters).sort(), ['lora_A', 'lora_B']);
  const corrupt = files[PEFT_WEIGHTS_FILE].slice(0, files[PEFT_WEIGHTS_FILE].length - 4);
  assert.throws(() => importPeft({ ...files, [PEFT_WEIGHTS_FILE]: corrupt }, base), /safetensors: .*out of range/);
});
