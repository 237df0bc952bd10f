/**
 * Priors: learned mixture priors over LoRA parameters, immutable versions under a name like
 * adapters. "Latest" means most recently created (insertion order), which is what a server
 * wants after a retraining run.
 */
import { packTensor, unpackTensor } from '../blobs.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { priorContentHash, versionId } from '../identity.ts';
import type { Page, Prior, PriorFilter, PriorInput, PriorSummary } from '../types.ts';
import {
  NAME_PATTERN, decodePageToken, parseJsonObject, requireFinite, requireFloat32, requireInt, requireMaxResults,
  requireString, requireStringArray, toJsonText,
} from '../validate.ts';
import type { Created } from '../store.ts';
import { getBaseModel } from './base-models.ts';
import { inTransaction, isNumberCursor, toPage, type StoreContext } from './connection.ts';

interface PriorRow {
  rowid: number; id: string; name: string; version: number; content_hash: string; base_model_sha: string;
  k: number; d: number; sigma2: number; beta2: number; training_task_ids: string; config: string; seed: number;
  weights?: Uint8Array; means?: Uint8Array; variances?: Uint8Array; created_ms: number;
}
const SUMMARY_COLUMNS = 'rowid, id, name, version, content_hash, base_model_sha, k, d, sigma2, beta2, training_task_ids, config, seed, created_ms';

function toSummary(row: PriorRow): PriorSummary {
  return {
    id: row.id, name: row.name, version: row.version, contentHash: row.content_hash, baseModelSha: row.base_model_sha,
    k: row.k, d: row.d, sigma2: row.sigma2, beta2: row.beta2,
    trainingTaskIds: JSON.parse(row.training_task_ids) as string[], config: parseJsonObject(row.config),
    seed: row.seed, createdMs: row.created_ms,
  };
}

function toPrior(row: PriorRow): Prior {
  return { ...toSummary(row), weights: unpackTensor(row.weights!), means: unpackTensor(row.means!), variances: unpackTensor(row.variances!) };
}

function checkFinite(name: string, t: Float32Array, positive: boolean): void {
  for (let i = 0; i < t.length; i++) {
    if (!Number.isFinite(t[i]) || (positive && t[i] <= 0)) {
      throw new ValidationError(`${name}[${i}]: expected a finite${positive ? ' positive' : ''} value, got ${t[i]}`);
    }
  }
}

export async function createPrior(ctx: StoreContext, input: PriorInput): Promise<Created<Prior>> {
  const name = requireString(input.name, 'name', NAME_PATTERN);
  const weights = requireFloat32(input.weights, 'weights');
  const k = requireInt(weights.length, 'weights.length (K)', 1);
  const means = requireFloat32(input.means, 'means');
  if (means.length === 0 || means.length % k !== 0) {
    throw new ValidationError(`means: expected K*D values with K = ${k}, got ${means.length}`);
  }
  const d = means.length / k;
  const variances = requireFloat32(input.variances, 'variances', k * d);
  checkFinite('weights', weights, false);
  checkFinite('means', means, false);
  checkFinite('variances', variances, true);
  const sigma2 = requireFinite(input.sigma2, 'sigma2', { positive: true });
  const beta2 = requireFinite(input.beta2, 'beta2', { positive: true });
  const seed = requireInt(input.seed, 'seed', 0);
  const trainingTaskIds = requireStringArray(input.trainingTaskIds ?? [], 'trainingTaskIds');
  const config = toJsonText(input.config, 'config');
  const base = await getBaseModel(ctx, requireString(input.baseModel, 'baseModel'));
  const contentHash = priorContentHash({ baseModelSha: base.sha256, k, d, weights, means, variances, sigma2, beta2 });
  return inTransaction(ctx, 'prior', async (tx) => {
    await tx.sql.lock(`prior:${name}`);
    const existing = await tx.sql.get<PriorRow>('SELECT rowid, * FROM priors WHERE name = ? AND content_hash = ?', [name, contentHash]);
    if (existing) return { value: toPrior(existing), created: false };
    const { v: next } = (await tx.sql.get<{ v: number }>('SELECT COALESCE(MAX(version), 0) + 1 AS v FROM priors WHERE name = ?', [name]))!;
    const v = Number(next);
    const row = {
      id: versionId('pr', name, v, contentHash), name, version: v, content_hash: contentHash, base_model_sha: base.sha256,
      k, d, sigma2, beta2, training_task_ids: JSON.stringify(trainingTaskIds), config, seed,
      weights: packTensor(weights), means: packTensor(means), variances: packTensor(variances), created_ms: tx.now(),
    };
    await tx.sql.run(`INSERT INTO priors (id, name, version, content_hash, base_model_sha, k, d, sigma2, beta2, training_task_ids, config, seed, weights, means, variances, created_ms)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [row.id, row.name, row.version, row.content_hash, row.base_model_sha, row.k, row.d,
      row.sigma2, row.beta2, row.training_task_ids, row.config, row.seed, row.weights, row.means, row.variances, row.created_ms]);
    return { value: toPrior({ ...row, rowid: 0 }), created: true };
  });
}

async function findOne(ctx: StoreContext, where: string, params: unknown[], what: string, key: string): Promise<Prior> {
  const row = await ctx.sql.get<PriorRow>(`SELECT rowid, * FROM priors WHERE ${where}`, params);
  if (!row) throw new NotFoundError(what, key);
  return toPrior(row);
}

export async function getPrior(ctx: StoreContext, id: string): Promise<Prior> {
  return findOne(ctx, 'id = ?', [id], 'prior', String(id));
}

export async function getPriorVersion(ctx: StoreContext, name: string, version: number): Promise<Prior> {
  return findOne(ctx, 'name = ? AND version = ?', [name, version], 'prior version', `${name}@${version}`);
}

export async function getLatestPrior(ctx: StoreContext, baseModel: string, name?: string): Promise<Prior> {
  const base = await getBaseModel(ctx, baseModel);
  return name === undefined
    ? findOne(ctx, 'base_model_sha = ? ORDER BY rowid DESC LIMIT 1', [base.sha256], 'prior for base model', base.name)
    : findOne(ctx, 'base_model_sha = ? AND name = ? ORDER BY rowid DESC LIMIT 1', [base.sha256, name], 'prior for base model', `${base.name}/${name}`);
}

export async function listPriors(ctx: StoreContext, filter: PriorFilter = {}, pageToken?: string, maxResults?: number): Promise<Page<PriorSummary>> {
  const max = requireMaxResults(maxResults);
  const before = decodePageToken(pageToken, isNumberCursor);
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.name !== undefined) { where.push('name = ?'); params.push(filter.name); }
  if (filter.baseModelSha !== undefined) { where.push('base_model_sha = ?'); params.push(filter.baseModelSha); }
  if (before !== undefined) { where.push('rowid < ?'); params.push(before); }
  const sql = `SELECT ${SUMMARY_COLUMNS} FROM priors ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY rowid DESC LIMIT ?`;
  const rows = await ctx.sql.all<PriorRow>(sql, [...params, max + 1]);
  return toPage(rows, max, toSummary, (r) => Number(r.rowid));
}
