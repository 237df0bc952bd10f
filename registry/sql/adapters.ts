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
import { inTransaction, toPage, type StoreContext } from './connection.ts';

interface AdapterRow {
  id: string; name: string; version: number; content_hash: string; method: string; base_model_sha: string;
  task_id: string | null; labels: string; rank: number; alpha: number; parameters?: Uint8Array; extra: string;
  metrics: string; training_config: string; prior_id: string | null; created_ms: number;
}
const SUMMARY_COLUMNS = 'a.id, a.name, a.version, a.content_hash, a.method, a.base_model_sha, a.task_id, a.labels, a.rank, a.alpha, a.extra, a.metrics, a.training_config, a.prior_id, a.created_ms';

async function toSummary(ctx: StoreContext, row: AdapterRow): Promise<AdapterSummary> {
  const parents = await ctx.sql.all<{ parent_id: string }>('SELECT parent_id FROM adapter_parents WHERE child_id = ? ORDER BY ord', [row.id]);
  return {
    id: row.id, name: row.name, version: row.version, contentHash: row.content_hash, method: row.method,
    baseModelSha: row.base_model_sha, taskId: row.task_id, labels: JSON.parse(row.labels) as string[],
    rank: row.rank, alpha: row.alpha, extra: parseJsonObject(row.extra), metrics: parseJsonObject(row.metrics),
    trainingConfig: parseJsonObject(row.training_config),
    parents: { adapterIds: parents.map((p) => p.parent_id), priorId: row.prior_id },
    createdMs: row.created_ms,
  };
}

async function toAdapter(ctx: StoreContext, row: AdapterRow): Promise<Adapter> {
  return { ...(await toSummary(ctx, row)), parameters: unpackTensors(row.parameters!) };
}

async function findOne(ctx: StoreContext, where: string, params: unknown[], what: string, key: string): Promise<Adapter> {
  const row = await ctx.sql.get<AdapterRow>(`SELECT * FROM adapters WHERE ${where}`, params);
  if (!row) throw new NotFoundError(what, key);
  return toAdapter(ctx, row);
}

const INSERT_ADAPTER = `INSERT INTO adapters (id, name, version, content_hash, method, base_model_sha, task_id, labels, rank, alpha, parameters, extra, metrics, training_config, prior_id, created_ms)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * Same content under the same name returns the existing version; new content gets max+1. The
 * per-name lock serialises concurrent writers (several processes on PostgreSQL), so versions
 * are 1..N without gaps or duplicates and a content hash is stored once per name.
 */
export async function createAdapterVersion(ctx: StoreContext, input: AdapterInput): Promise<Created<Adapter>> {
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
  const base = await getBaseModel(ctx, requireString(input.baseModel, 'baseModel'));
  checkLoraParameters(base.placement, rank, input.parameters);
  const contentHash = adapterContentHash({ method, rank, alpha, baseModelSha: base.sha256, labels, parameters: input.parameters, extra: parseJsonObject(extra) });
  const parameters = packTensors(input.parameters);
  return inTransaction(ctx, 'adapter', async (tx) => {
    await tx.sql.lock(`adapter:${name}`);
    const existing = await tx.sql.get<AdapterRow>('SELECT * FROM adapters WHERE name = ? AND content_hash = ?', [name, contentHash]);
    if (existing) return { value: await toAdapter(tx, existing), created: false };
    for (const pid of parentIds) {
      if (!(await tx.sql.get('SELECT 1 FROM adapters WHERE id = ?', [pid]))) throw new NotFoundError('parent adapter', pid);
    }
    if (priorId !== null && !(await tx.sql.get('SELECT 1 FROM priors WHERE id = ?', [priorId]))) throw new NotFoundError('parent prior', priorId);
    const { v } = (await tx.sql.get<{ v: number }>('SELECT COALESCE(MAX(version), 0) + 1 AS v FROM adapters WHERE name = ?', [name]))!;
    const version = Number(v);
    const row: AdapterRow = {
      id: versionId('ad', name, version, contentHash), name, version, content_hash: contentHash, method,
      base_model_sha: base.sha256, task_id: taskId, labels: JSON.stringify(labels), rank, alpha,
      parameters, extra, metrics, training_config: trainingConfig, prior_id: priorId, created_ms: tx.now(),
    };
    await tx.sql.run(INSERT_ADAPTER, [row.id, row.name, row.version, row.content_hash, row.method, row.base_model_sha, row.task_id,
      row.labels, row.rank, row.alpha, row.parameters, row.extra, row.metrics, row.training_config, row.prior_id, row.created_ms]);
    for (const [ord, pid] of [...new Set(parentIds)].entries()) {
      await tx.sql.run('INSERT INTO adapter_parents (child_id, parent_id, ord) VALUES (?, ?, ?)', [row.id, pid, ord]);
    }
    return { value: await toAdapter(tx, row), created: true };
  });
}

export async function getAdapter(ctx: StoreContext, id: string): Promise<Adapter> {
  return findOne(ctx, 'id = ?', [id], 'adapter', String(id));
}

export async function getAdapterVersion(ctx: StoreContext, name: string, version: number): Promise<Adapter> {
  return findOne(ctx, 'name = ? AND version = ?', [name, version], 'adapter version', `${name}@${version}`);
}

export async function getLatestAdapterVersion(ctx: StoreContext, name: string): Promise<Adapter> {
  return findOne(ctx, 'name = ? ORDER BY version DESC LIMIT 1', [name], 'adapter', String(name));
}

function isAdapterCursor(c: unknown): c is [string, number] {
  return Array.isArray(c) && c.length === 2 && typeof c[0] === 'string' && Number.isSafeInteger(c[1]);
}

export async function searchAdapters(ctx: StoreContext, filter: AdapterFilter = {}, pageToken?: string, maxResults?: number): Promise<Page<AdapterSummary>> {
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
  const rows = await ctx.sql.all<AdapterRow>(sql, [...params, max + 1]);
  return toPage(rows, max, (r) => toSummary(ctx, r), (r) => [r.name, r.version]);
}

interface AliasRow { name: string; alias: string; version: number; updated_ms: number }
const toAlias = (r: AliasRow): AdapterAlias => ({ name: r.name, alias: r.alias, version: r.version, updatedMs: r.updated_ms });

export async function setAlias(ctx: StoreContext, name: string, alias: string, version: number): Promise<AdapterAlias> {
  requireString(alias, 'alias', ALIAS_PATTERN);
  requireInt(version, 'version', 1);
  return inTransaction(ctx, 'alias', async (tx) => {
    if (!(await tx.sql.get('SELECT 1 FROM adapters WHERE name = ? AND version = ?', [name, version]))) {
      throw new NotFoundError('adapter version', `${name}@${version}`);
    }
    const row: AliasRow = { name, alias, version, updated_ms: tx.now() };
    await tx.sql.run('INSERT INTO adapter_aliases (name, alias, version, updated_ms) VALUES (?, ?, ?, ?) ' +
      'ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, updated_ms = excluded.updated_ms', [name, alias, version, row.updated_ms]);
    return toAlias(row);
  });
}

export async function getByAlias(ctx: StoreContext, name: string, alias: string): Promise<Adapter> {
  const row = await ctx.sql.get<{ version: number }>('SELECT version FROM adapter_aliases WHERE name = ? AND alias = ?', [name, alias]);
  if (!row) throw new NotFoundError('adapter alias', `${name}@${alias}`);
  return getAdapterVersion(ctx, name, row.version);
}

export async function deleteAlias(ctx: StoreContext, name: string, alias: string): Promise<void> {
  const changes = await ctx.sql.run('DELETE FROM adapter_aliases WHERE name = ? AND alias = ?', [name, alias]);
  if (changes === 0) throw new NotFoundError('adapter alias', `${name}@${alias}`);
}

export async function listAliases(ctx: StoreContext, name: string): Promise<AdapterAlias[]> {
  return (await ctx.sql.all<AliasRow>('SELECT * FROM adapter_aliases WHERE name = ? ORDER BY alias', [name])).map(toAlias);
}
