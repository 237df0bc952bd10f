/**
 * Base models: frozen backbones keyed by the sha256 of their ONNX file.
 * A name maps to one sha forever (see store.ts for why a changed model needs a new name).
 */
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { BaseModel, BaseModelInput, LoraPlacement } from '../types.ts';
import { MODALITIES } from '../types.ts';
import { NAME_PATTERN, SHA256_PATTERN, requireInt, requireOneOf, requireString } from '../validate.ts';
import type { Created } from '../store.ts';
import { inTransaction, type StoreContext } from './connection.ts';

interface BaseModelRow {
  sha256: string; name: string; modality: string; feature_dim: number; placement: string; created_ms: number;
}

function toBaseModel(row: BaseModelRow): BaseModel {
  return {
    name: row.name,
    modality: row.modality as BaseModel['modality'],
    sha256: row.sha256,
    featureDim: row.feature_dim,
    placement: JSON.parse(row.placement) as LoraPlacement[],
    createdMs: row.created_ms,
  };
}

function validatePlacement(value: unknown): LoraPlacement[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ValidationError(`placement: expected a non-empty array of LoRA layers, got ${JSON.stringify(value)}`);
  }
  const layers = new Set<string>();
  return value.map((p: Partial<LoraPlacement>, i) => {
    const layer = requireString(p?.layer, `placement[${i}].layer`, /^[A-Za-z0-9_./:-]{1,200}$/);
    if (layers.has(layer)) throw new ValidationError(`placement: expected distinct layers, got '${layer}' twice`);
    layers.add(layer);
    return {
      layer,
      inDim: requireInt(p.inDim, `placement[${i}].inDim`, 1),
      outDim: requireInt(p.outDim, `placement[${i}].outDim`, 1),
      activation: requireString(p.activation, `placement[${i}].activation`),
    };
  });
}

export async function registerBaseModel(ctx: StoreContext, input: BaseModelInput): Promise<Created<BaseModel>> {
  const name = requireString(input.name, 'name', NAME_PATTERN);
  const sha256 = requireString(input.sha256, 'sha256', SHA256_PATTERN);
  const modality = requireOneOf(input.modality, MODALITIES, 'modality');
  const featureDim = requireInt(input.featureDim, 'featureDim', 1);
  const placement = validatePlacement(input.placement);
  return inTransaction(ctx, 'base model', async (tx) => {
    await tx.sql.lock('base_models');
    const existing = await tx.sql.all<BaseModelRow>('SELECT * FROM base_models WHERE name = ? OR sha256 = ?', [name, sha256]);
    for (const row of existing) {
      const same = row.name === name && row.sha256 === sha256 && row.modality === modality
        && row.feature_dim === featureDim && row.placement === JSON.stringify(placement);
      if (same) return { value: toBaseModel(row), created: false };
      throw new ConflictError(
        `base model '${name}' (sha256 ${sha256.slice(0, 12)}…): conflicts with registered '${row.name}' (sha256 ${row.sha256.slice(0, 12)}…); ` +
        'expected identical fields for a re-registration; register a changed model under a new name');
    }
    const createdMs = tx.now();
    await tx.sql.run('INSERT INTO base_models (sha256, name, modality, feature_dim, placement, created_ms) VALUES (?, ?, ?, ?, ?, ?)',
      [sha256, name, modality, featureDim, JSON.stringify(placement), createdMs]);
    return { value: { name, modality, sha256, featureDim, placement, createdMs }, created: true };
  });
}

/** By name or sha256. */
export async function getBaseModel(ctx: StoreContext, nameOrSha: string): Promise<BaseModel> {
  const row = await ctx.sql.get<BaseModelRow>('SELECT * FROM base_models WHERE sha256 = ? OR name = ?', [nameOrSha, nameOrSha]);
  if (!row) throw new NotFoundError('base model', String(nameOrSha));
  return toBaseModel(row);
}

export async function listBaseModels(ctx: StoreContext): Promise<BaseModel[]> {
  return (await ctx.sql.all<BaseModelRow>('SELECT * FROM base_models ORDER BY name')).map(toBaseModel);
}
