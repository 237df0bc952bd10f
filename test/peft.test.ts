import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { openRegistry } from '../registry/open.ts';
import { exportPeft, importPeft, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from '../registry/peft.ts';
import { readSafetensors, writeSafetensors } from '../registry/safetensors.ts';
import { ValidationError } from '../registry/errors.ts';
import type { BaseModelInput } from '../registry/types.ts';

const IN = 6, OUT = 4, R = 2;
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
    rank: R, alpha: 8, parameters: { lora_A: values(R * IN, 1), lora_B: values(OUT * R, 2), prototypes: values(3 * OUT, 3) },
    extra: { tau: 12.5 }, metrics: { acc: 0.61 }, trainingConfig: { steps: 20 },
  })).value;
  return { store, base, adapter };
}

const config = (files: { [PEFT_CONFIG_FILE]: Uint8Array }) => JSON.parse(new TextDecoder().decode(files[PEFT_CONFIG_FILE]));
const withConfig = (files: Record<string, Uint8Array>, patch: Record<string, unknown>) =>
  ({ ...files, [PEFT_CONFIG_FILE]: new TextEncoder().encode(JSON.stringify({ ...config(files as never), ...patch })) });

test('export writes the PEFT layout: config fields and tensor names/shapes', async (t) => {
  const { base, adapter } = await setup(t);
  const files = exportPeft(adapter, base);
  const cfg = config(files);
  assert.equal(cfg.peft_type, 'LORA');
  assert.equal(cfg.r, R);
  assert.equal(cfg.lora_alpha, 8);
  assert.deepEqual(cfg.target_modules, ['tanh_layer_0']);
  assert.equal(cfg.base_model_name_or_path, 'use-lite');
  assert.equal(cfg.task_type, 'FEATURE_EXTRACTION');
  assert.deepEqual(cfg.lift_zoo.labels, ['news', 'fiction', 'humor']);
  assert.equal(cfg.lift_zoo.extra.tau, 12.5);
  const { tensors, metadata } = readSafetensors(files[PEFT_WEIGHTS_FILE]);
  assert.deepEqual(metadata, { format: 'pt' });
  assert.deepEqual(tensors['base_model.model.tanh_layer_0.lora_A.weight'].shape, [R, IN]);
  assert.deepEqual(tensors['base_model.model.tanh_layer_0.lora_B.weight'].shape, [OUT, R]);
  assert.deepEqual(tensors['lift_zoo.prototypes'].data, adapter.parameters.prototypes);
});

test('export -> import round-trips exactly and re-uploads as the same version', async (t) => {
  const { store, base, adapter } = await setup(t);
  const input = importPeft(exportPeft(adapter, base), base);
  assert.deepEqual(input.parameters, adapter.parameters);
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
    [{ lift_zoo: { name: 'x' } }, /expected a label set/],
  ];
  for (const [patch, pattern] of cases) {
    assert.throws(() => importPeft(withConfig(files, patch), base), (err: unknown) => err instanceof ValidationError && pattern.test(err.message), JSON.stringify(patch));
  }
  assert.throws(() => importPeft({ ...files, [PEFT_CONFIG_FILE]: new TextEncoder().encode('{nope') }, base), /not valid UTF-8 JSON/);
  assert.throws(() => importPeft({ [PEFT_CONFIG_FILE]: files[PEFT_CONFIG_FILE] }, base), /expected file adapter_model.safetensors/);
  const other = { ...base, name: 'other', sha256: createHash('sha256').update('x').digest('hex') };
  assert.throws(() => importPeft(withConfig(files, { base_model_name_or_path: 'other' }), other), /base_model_sha256: expected/);
  const foreign = importPeft(withConfig(files, { lift_zoo: undefined }), base, { name: 'foreign', labels: ['x', 'y'] });
  assert.equal(foreign.method, 'peft-import');
  assert.deepEqual(foreign.labels, ['x', 'y']);
});

test('import checks tensor shapes and names against the placement', async (t) => {
  const { base, adapter } = await setup(t);
  const files = exportPeft(adapter, base) as Record<string, Uint8Array>;
  const A = 'base_model.model.tanh_layer_0.lora_A.weight', B = 'base_model.model.tanh_layer_0.lora_B.weight';
  const weights = (tensors: Record<string, { shape: number[]; data: Float32Array }>) => ({ ...files, [PEFT_WEIGHTS_FILE]: writeSafetensors(tensors) });
  const a = { shape: [R, IN], data: values(R * IN, 1) }, b = { shape: [OUT, R], data: values(OUT * R, 2) };
  assert.throws(() => importPeft(weights({ [A]: { shape: [IN, R], data: a.data }, [B]: b }), base), /tensor '.*lora_A.weight': expected shape \[2, 6\] \(r = 2, layer 'tanh_layer_0'\), got \[6, 2\]/);
  assert.throws(() => importPeft(weights({ [A]: a }), base), /expected tensor '.*lora_B.weight' \[4, 2\], got none/);
  assert.throws(() => importPeft(weights({ [A]: a, [B]: b, 'base_model.model.other.lora_A.weight': a }), base), /unexpected tensor 'base_model.model.other.lora_A.weight'/);
  assert.throws(() => importPeft(withConfig(weights({ [A]: a, [B]: b }), { r: 3 }), base), /expected shape \[3, 6\]/);
  const ok = importPeft(weights({ [A]: a, [B]: b }), base);
  assert.deepEqual(Object.keys(ok.parameters).sort(), ['lora_A', 'lora_B']);
  const corrupt = files[PEFT_WEIGHTS_FILE].slice(0, files[PEFT_WEIGHTS_FILE].length - 4);
  assert.throws(() => importPeft({ ...files, [PEFT_WEIGHTS_FILE]: corrupt }, base), /safetensors: .*out of range/);
});
