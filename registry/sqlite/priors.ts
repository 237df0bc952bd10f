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
import { inTransaction, isNumberCursor, toPage, type StoreContext } from './context.ts';

interface PriorRow {
  rowid: number; id: string; name: string; version: number; content_hash: string; base_model_sha: string;
  k: number; d: number; sigma2: number; beta2: number; training_task_ids: string; config: string; seed: number;
  weights?: Buffer; means?: Buffer; variances?: Buffer; created_ms: number;
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

export function createPrior(ctx: StoreContext, input: PriorInput): Created<Prior> {
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
  return inTransaction(ctx, 'prior', () => {
    const base = getBaseModel(ctx, requireString(input.baseModel, 'baseModel'));
    const contentHash = priorContentHash({ baseModelSha: base.sha256, k, d, weights, means, variances, sigma2, beta2 });
    const existing = ctx.db.prepare('SELECT rowid, * FROM priors WHERE name = ? AND content_hash = ?').get(name, contentHash) as PriorRow | undefined;
    if (existing) return { value: toPrior(existing), created: false };
    const { v } = ctx.db.prepare('SELECT COALESCE(MAX(version), 0) + 1 AS v FROM priors WHERE name = ?').get(name) as { v: number };
    const row = {
      id: versionId('pr', name, v, contentHash), name, version: v, content_hash: contentHash, base_model_sha: base.sha256,
      k, d, sigma2, beta2, training_task_ids: JSON.stringify(trainingTaskIds), config, seed,
      weights: packTensor(weights), means: packTensor(means), variances: packTensor(variances), created_ms: ctx.now(),
    };
    const info = ctx.db.prepare(`INSERT INTO priors (id, name, version, content_hash, base_model_sha, k, d, sigma2, beta2, training_task_ids, config, seed, weights, means, variances, created_ms)
      VALUES (@id, @name, @version, @content_hash, @base_model_sha, @k, @d, @sigma2, @beta2, @training_task_ids, @config, @seed, @weights, @means, @variances, @created_ms)`).run(row);
    return { value: toPrior({ ...row, rowid: Number(info.lastInsertRowid) }), created: true };
  });
}

function findOne(ctx: StoreContext, where: string, params: unknown[], what: string, key: string): Prior {
  const row = ctx.db.prepare(`SELECT rowid, * FROM priors WHERE ${where}`).get(...params) as PriorRow | undefined;
  if (!row) throw new NotFoundError(what, key);
  return toPrior(row);
}

export function getPrior(ctx: StoreContext, id: string): Prior {
  return findOne(ctx, 'id = ?', [id], 'prior', String(id));
}

export function getPriorVersion(ctx: StoreContext, name: string, version: number): Prior {
  return findOne(ctx, 'name = ? AND version = ?', [name, version], 'prior version', `${name}@${version}`);
}

export function getLatestPrior(ctx: StoreContext, baseModel: string, name?: string): Prior {
  const base = getBaseModel(ctx, baseModel);
  return name === undefined
    ? findOne(ctx, 'base_model_sha = ? ORDER BY rowid DESC LIMIT 1', [base.sha256], 'prior for base model', base.name)
    : findOne(ctx, 'base_model_sha = ? AND name = ? ORDER BY rowid DESC LIMIT 1', [base.sha256, name], 'prior for base model', `${base.name}/${name}`);
}

export function listPriors(ctx: StoreContext, filter: PriorFilter = {}, pageToken?: string, maxResults?: number): Page<PriorSummary> {
  const max = requireMaxResults(maxResults);
  const before = decodePageToken(pageToken, isNumberCursor);
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.name !== undefined) { where.push('name = ?'); params.push(filter.name); }
  if (filter.baseModelSha !== undefined) { where.push('base_model_sha = ?'); params.push(filter.baseModelSha); }
  if (before !== undefined) { where.push('rowid < ?'); params.push(before); }
  const sql = `SELECT ${SUMMARY_COLUMNS} FROM priors ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY rowid DESC LIMIT ?`;
  const rows = ctx.db.prepare(sql).all(...params, max + 1) as PriorRow[];
  return toPage(rows, max, toSummary, (r) => r.rowid);
}
