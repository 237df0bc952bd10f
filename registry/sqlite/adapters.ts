/**
 * Adapters: immutable versions under a name, identified by a content hash, with movable aliases
 * and parent links (adapters and/or the prior they were fitted under).
 */
import { packTensors, unpackTensors } from '../blobs.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { adapterContentHash, versionId } from '../identity.ts';
import { checkLoraParameters } from '../lora-layout.ts';
import type { Adapter, AdapterAlias, AdapterFilter, AdapterInput, AdapterSummary, Page } from '../types.ts';
import {
  ALIAS_PATTERN, NAME_PATTERN, decodePageToken, parseJsonObject, requireFinite, requireInt, requireLabels,
  requireMaxResults, requireString, requireStringArray, toJsonText,
} from '../validate.ts';
import type { Created } from '../store.ts';
import { getBaseModel } from './base-models.ts';
import { inTransaction, toPage, type StoreContext } from './context.ts';

interface AdapterRow {
  id: string; name: string; version: number; content_hash: string; method: string; base_model_sha: string;
  task_id: string | null; labels: string; rank: number; alpha: number; parameters?: Buffer; extra: string;
  metrics: string; training_config: string; prior_id: string | null; created_ms: number;
}
const SUMMARY_COLUMNS = 'a.id, a.name, a.version, a.content_hash, a.method, a.base_model_sha, a.task_id, a.labels, a.rank, a.alpha, a.extra, a.metrics, a.training_config, a.prior_id, a.created_ms';

function toSummary(ctx: StoreContext, row: AdapterRow): AdapterSummary {
  const parents = ctx.db.prepare('SELECT parent_id FROM adapter_parents WHERE child_id = ? ORDER BY ord').all(row.id) as { parent_id: string }[];
  return {
    id: row.id, name: row.name, version: row.version, contentHash: row.content_hash, method: row.method,
    baseModelSha: row.base_model_sha, taskId: row.task_id, labels: JSON.parse(row.labels) as string[],
    rank: row.rank, alpha: row.alpha, extra: parseJsonObject(row.extra), metrics: parseJsonObject(row.metrics),
    trainingConfig: parseJsonObject(row.training_config),
    parents: { adapterIds: parents.map((p) => p.parent_id), priorId: row.prior_id },
    createdMs: row.created_ms,
  };
}

function toAdapter(ctx: StoreContext, row: AdapterRow): Adapter {
  return { ...toSummary(ctx, row), parameters: unpackTensors(row.parameters!) };
}

function findOne(ctx: StoreContext, where: string, params: unknown[], what: string, key: string): Adapter {
  const row = ctx.db.prepare(`SELECT * FROM adapters WHERE ${where}`).get(...params) as AdapterRow | undefined;
  if (!row) throw new NotFoundError(what, key);
  return toAdapter(ctx, row);
}

export function createAdapterVersion(ctx: StoreContext, input: AdapterInput): Created<Adapter> {
  const name = requireString(input.name, 'name', NAME_PATTERN);
  const method = requireString(input.method, 'method', /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
  const labels = requireLabels(input.labels);
  const rank = requireInt(input.rank, 'rank', 1, 4096);
  const alpha = requireFinite(input.alpha, 'alpha', { positive: true });
  const taskId = input.taskId == null ? null : requireString(input.taskId, 'taskId');
  const [extra, metrics, trainingConfig] = [toJsonText(input.extra, 'extra'), toJsonText(input.metrics, 'metrics'), toJsonText(input.trainingConfig, 'trainingConfig')];
  const parentIds = requireStringArray(input.parents?.adapterIds ?? [], 'parents.adapterIds');
  const priorId = input.parents?.priorId == null ? null : requireString(input.parents.priorId, 'parents.priorId');
  if (typeof input.parameters !== 'object' || input.parameters === null) {
    throw new ValidationError(`parameters: expected named Float32Arrays, got ${typeof input.parameters}`);
  }
  return inTransaction(ctx, 'adapter', () => {
    const base = getBaseModel(ctx, requireString(input.baseModel, 'baseModel'));
    checkLoraParameters(base.placement, rank, input.parameters);
    const contentHash = adapterContentHash({ method, rank, alpha, baseModelSha: base.sha256, labels, parameters: input.parameters, extra: parseJsonObject(extra) });
    const existing = ctx.db.prepare('SELECT * FROM adapters WHERE name = ? AND content_hash = ?').get(name, contentHash) as AdapterRow | undefined;
    if (existing) return { value: toAdapter(ctx, existing), created: false };
    for (const pid of parentIds) {
      if (!ctx.db.prepare('SELECT 1 FROM adapters WHERE id = ?').get(pid)) throw new NotFoundError('parent adapter', pid);
    }
    if (priorId !== null && !ctx.db.prepare('SELECT 1 FROM priors WHERE id = ?').get(priorId)) throw new NotFoundError('parent prior', priorId);
    const { v } = ctx.db.prepare('SELECT COALESCE(MAX(version), 0) + 1 AS v FROM adapters WHERE name = ?').get(name) as { v: number };
    const row: AdapterRow = {
      id: versionId('ad', name, v, contentHash), name, version: v, content_hash: contentHash, method,
      base_model_sha: base.sha256, task_id: taskId, labels: JSON.stringify(labels), rank, alpha,
      parameters: packTensors(input.parameters), extra, metrics, training_config: trainingConfig, prior_id: priorId,
      created_ms: ctx.now(),
    };
    ctx.db.prepare(`INSERT INTO adapters (id, name, version, content_hash, method, base_model_sha, task_id, labels, rank, alpha, parameters, extra, metrics, training_config, prior_id, created_ms)
      VALUES (@id, @name, @version, @content_hash, @method, @base_model_sha, @task_id, @labels, @rank, @alpha, @parameters, @extra, @metrics, @training_config, @prior_id, @created_ms)`).run(row);
    const link = ctx.db.prepare('INSERT INTO adapter_parents (child_id, parent_id, ord) VALUES (?, ?, ?)');
    [...new Set(parentIds)].forEach((pid, ord) => link.run(row.id, pid, ord));
    return { value: toAdapter(ctx, row), created: true };
  });
}

export function getAdapter(ctx: StoreContext, id: string): Adapter {
  return findOne(ctx, 'id = ?', [id], 'adapter', String(id));
}

export function getAdapterVersion(ctx: StoreContext, name: string, version: number): Adapter {
  return findOne(ctx, 'name = ? AND version = ?', [name, version], 'adapter version', `${name}@${version}`);
}

export function getLatestAdapterVersion(ctx: StoreContext, name: string): Adapter {
  return findOne(ctx, 'name = ? ORDER BY version DESC LIMIT 1', [name], 'adapter', String(name));
}

function isAdapterCursor(c: unknown): c is [string, number] {
  return Array.isArray(c) && c.length === 2 && typeof c[0] === 'string' && Number.isSafeInteger(c[1]);
}

export function searchAdapters(ctx: StoreContext, filter: AdapterFilter = {}, pageToken?: string, maxResults?: number): Page<AdapterSummary> {
  const max = requireMaxResults(maxResults);
  const after = decodePageToken(pageToken, isAdapterCursor);
  const where: string[] = [];
  const params: unknown[] = [];
  let join = '';
  const eq = (column: string, value: string | undefined) => { if (value !== undefined) { where.push(`${column} = ?`); params.push(value); } };
  eq('a.task_id', filter.taskId);
  eq('a.method', filter.method);
  eq('a.name', filter.name);
  eq('a.base_model_sha', filter.baseModelSha);
  if (filter.alias !== undefined) {
    join = 'JOIN adapter_aliases al ON al.name = a.name AND al.version = a.version AND al.alias = ?';
    params.unshift(filter.alias);
  }
  if (after) { where.push('(a.name > ? OR (a.name = ? AND a.version > ?))'); params.push(after[0], after[0], after[1]); }
  const sql = `SELECT ${SUMMARY_COLUMNS} FROM adapters a ${join} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.name, a.version LIMIT ?`;
  const rows = ctx.db.prepare(sql).all(...params, max + 1) as AdapterRow[];
  return toPage(rows, max, (r) => toSummary(ctx, r), (r) => [r.name, r.version]);
}

interface AliasRow { name: string; alias: string; version: number; updated_ms: number }
const toAlias = (r: AliasRow): AdapterAlias => ({ name: r.name, alias: r.alias, version: r.version, updatedMs: r.updated_ms });

export function setAlias(ctx: StoreContext, name: string, alias: string, version: number): AdapterAlias {
  requireString(alias, 'alias', ALIAS_PATTERN);
  requireInt(version, 'version', 1);
  return inTransaction(ctx, 'alias', () => {
    if (!ctx.db.prepare('SELECT 1 FROM adapters WHERE name = ? AND version = ?').get(name, version)) {
      throw new NotFoundError('adapter version', `${name}@${version}`);
    }
    const row: AliasRow = { name, alias, version, updated_ms: ctx.now() };
    ctx.db.prepare('INSERT INTO adapter_aliases (name, alias, version, updated_ms) VALUES (@name, @alias, @version, @updated_ms) ' +
      'ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, updated_ms = excluded.updated_ms').run(row);
    return toAlias(row);
  });
}

export function getByAlias(ctx: StoreContext, name: string, alias: string): Adapter {
  const row = ctx.db.prepare('SELECT version FROM adapter_aliases WHERE name = ? AND alias = ?').get(name, alias) as { version: number } | undefined;
  if (!row) throw new NotFoundError('adapter alias', `${name}@${alias}`);
  return getAdapterVersion(ctx, name, row.version);
}

export function deleteAlias(ctx: StoreContext, name: string, alias: string): void {
  const info = ctx.db.prepare('DELETE FROM adapter_aliases WHERE name = ? AND alias = ?').run(name, alias);
  if (info.changes === 0) throw new NotFoundError('adapter alias', `${name}@${alias}`);
}

export function listAliases(ctx: StoreContext, name: string): AdapterAlias[] {
  return (ctx.db.prepare('SELECT * FROM adapter_aliases WHERE name = ? ORDER BY alias').all(name) as AliasRow[]).map(toAlias);
}
