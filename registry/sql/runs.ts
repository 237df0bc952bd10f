/**
 * Runs: one record per train, tune, eval, compare or fit, so every stored prior, adapter and
 * metric can be traced to the parameters, code version and registry versions that produced it.
 * Unlike versions, a run is updated once: `running` -> `succeeded` | `failed` | `cancelled`.
 */
import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { Page, Run, RunFilter, RunInput, RunKind, RunRefs, RunResult, RunStatus } from '../types.ts';
import { RUN_KINDS, RUN_STATUSES } from '../types.ts';
import {
  SLUG_PATTERN, decodePageToken, parseJsonObject, requireMaxResults, requireOneOf, requireString, toJsonText,
} from '../validate.ts';
import { inTransaction, isNumberCursor, toPage, type StoreContext } from './connection.ts';

interface RunRow {
  rowid: number; id: string; kind: string; name: string; config: string; status: string; started_ms: number;
  finished_ms: number | null; metrics: string; refs: string; code_version: string | null; error: string | null;
}

function toRun(row: RunRow): Run {
  return {
    id: row.id, kind: row.kind as RunKind, name: row.name, config: parseJsonObject(row.config), status: row.status as RunStatus,
    startedMs: row.started_ms, finishedMs: row.finished_ms, metrics: parseJsonObject(row.metrics),
    refs: parseJsonObject(row.refs) as RunRefs, codeVersion: row.code_version, error: row.error,
  };
}

const unique = (a: readonly string[] | undefined, b: readonly string[] | undefined): string[] | undefined =>
  a === undefined && b === undefined ? undefined : [...new Set([...(a ?? []), ...(b ?? [])])];

/** Later refs add to earlier ones: id lists are unioned, a zoo or suite is replaced. */
export function mergeRefs(a: RunRefs, b: RunRefs = {}): RunRefs {
  const out: Record<string, unknown> = { ...a, ...b };
  for (const key of ['prior_ids', 'adapter_ids', 'task_ids'] as const) {
    const merged = unique(a[key], b[key]);
    if (merged !== undefined) out[key] = merged;
  }
  return out as RunRefs;
}

export async function createRun(ctx: StoreContext, input: RunInput): Promise<Run> {
  const kind = requireOneOf(input.kind, RUN_KINDS, 'kind');
  const config = toJsonText(input.config, 'config');
  const refs = toJsonText(input.refs as Record<string, unknown> | undefined, 'refs');
  const id = input.id === undefined ? `run_${randomUUID().replaceAll('-', '')}` : requireString(input.id, 'id', SLUG_PATTERN);
  const name = input.name ?? kind;
  if (typeof name !== 'string' || name.length > 200) throw new ValidationError(`name: expected a string of at most 200 characters, got ${typeof name}`);
  return inTransaction(ctx, 'run', async (tx) => {
    if (await tx.sql.get('SELECT 1 FROM runs WHERE id = ?', [id])) throw new AlreadyExistsError('run', id);
    await tx.sql.run(`INSERT INTO runs (id, kind, name, config, status, started_ms, finished_ms, metrics, refs, code_version, error)
      VALUES (?, ?, ?, ?, 'running', ?, NULL, '{}', ?, ?, NULL)`, [id, kind, name, config, tx.now(), refs, input.codeVersion ?? null]);
    return getRun(tx, id);
  });
}

export async function getRun(ctx: StoreContext, id: string): Promise<Run> {
  const row = await ctx.sql.get<RunRow>('SELECT rowid, * FROM runs WHERE id = ?', [id]);
  if (!row) throw new NotFoundError('run', String(id));
  return toRun(row);
}

export async function finishRun(ctx: StoreContext, id: string, result: RunResult): Promise<Run> {
  const status = requireOneOf(result.status, RUN_STATUSES.filter((s) => s !== 'running'), 'status');
  const metrics = toJsonText(result.metrics, 'metrics');
  return inTransaction(ctx, 'run', async (tx) => {
    await tx.sql.lock(`run:${id}`);
    const run = await getRun(tx, id);
    if (run.status !== 'running') throw new ConflictError(`run '${id}': expected status 'running' to finish it, got '${run.status}'`);
    const refs = toJsonText(mergeRefs(run.refs, result.refs) as Record<string, unknown>, 'refs');
    await tx.sql.run('UPDATE runs SET status = ?, finished_ms = ?, metrics = ?, refs = ?, error = ? WHERE id = ?',
      [status, tx.now(), metrics, refs, result.error ?? null, id]);
    return getRun(tx, id);
  });
}

export async function listRuns(ctx: StoreContext, filter: RunFilter = {}, pageToken?: string, maxResults?: number): Promise<Page<Run>> {
  const max = requireMaxResults(maxResults);
  const before = decodePageToken(pageToken, isNumberCursor);
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.kind !== undefined) { where.push('kind = ?'); params.push(requireOneOf(filter.kind, RUN_KINDS, 'filter.kind')); }
  if (filter.status !== undefined) { where.push('status = ?'); params.push(requireOneOf(filter.status, RUN_STATUSES, 'filter.status')); }
  // refs is JSON text written by this module only; the engine's JSON functions look inside it.
  const pg = ctx.sql.dialect === 'postgres';
  if (filter.zoo !== undefined) {
    where.push(pg ? "(refs::jsonb -> 'zoo' ->> 'name') = ?" : "json_extract(refs, '$.zoo.name') = ?");
    params.push(filter.zoo);
  }
  for (const [value, key] of [[filter.priorId, 'prior_ids'], [filter.adapterId, 'adapter_ids'], [filter.taskId, 'task_ids']] as const) {
    if (value === undefined) continue;
    where.push(pg ? `(refs::jsonb -> '${key}') @> jsonb_build_array(?::text)` : `EXISTS (SELECT 1 FROM json_each(refs, '$.${key}') WHERE value = ?)`);
    params.push(value);
  }
  if (before !== undefined) { where.push('rowid < ?'); params.push(before); }
  const sql = `SELECT rowid, * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY rowid DESC LIMIT ?`;
  const rows = await ctx.sql.all<RunRow>(sql, [...params, max + 1]);
  return toPage(rows, max, toRun, (r) => Number(r.rowid));
}
