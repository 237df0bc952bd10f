/**
 * Runs: one record per training, evaluation or fitting job, so every stored prior and metric
 * can be traced to the configuration that produced it. Unlike versions, a run is updated once:
 * `running` -> `succeeded` | `failed`.
 */
import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../errors.ts';
import type { JsonObject, Page, Run, RunFilter, RunKind, RunStatus } from '../types.ts';
import { RUN_KINDS, RUN_STATUSES } from '../types.ts';
import {
  SLUG_PATTERN, decodePageToken, parseJsonObject, requireMaxResults, requireOneOf, requireString, toJsonText,
} from '../validate.ts';
import { inTransaction, isNumberCursor, toPage, type StoreContext } from './context.ts';

interface RunRow {
  rowid: number; id: string; kind: string; config: string; status: string; started_ms: number; finished_ms: number | null; metrics: string;
}

function toRun(row: RunRow): Run {
  return {
    id: row.id, kind: row.kind as RunKind, config: parseJsonObject(row.config), status: row.status as RunStatus,
    startedMs: row.started_ms, finishedMs: row.finished_ms, metrics: parseJsonObject(row.metrics),
  };
}

export function createRun(ctx: StoreContext, input: { kind: RunKind; config?: JsonObject; id?: string }): Run {
  const kind = requireOneOf(input.kind, RUN_KINDS, 'kind');
  const config = toJsonText(input.config, 'config');
  const id = input.id === undefined ? `run_${randomUUID().replaceAll('-', '')}` : requireString(input.id, 'id', SLUG_PATTERN);
  return inTransaction(ctx, 'run', () => {
    if (ctx.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(id)) throw new AlreadyExistsError('run', id);
    ctx.db.prepare("INSERT INTO runs (id, kind, config, status, started_ms, finished_ms, metrics) VALUES (?, ?, ?, 'running', ?, NULL, '{}')")
      .run(id, kind, config, ctx.now());
    return getRun(ctx, id);
  });
}

export function getRun(ctx: StoreContext, id: string): Run {
  const row = ctx.db.prepare('SELECT rowid, * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
  if (!row) throw new NotFoundError('run', String(id));
  return toRun(row);
}

export function finishRun(ctx: StoreContext, id: string, result: { status: Exclude<RunStatus, 'running'>; metrics?: JsonObject }): Run {
  const status = requireOneOf(result.status, RUN_STATUSES.filter((s) => s !== 'running'), 'status');
  const metrics = toJsonText(result.metrics, 'metrics');
  return inTransaction(ctx, 'run', () => {
    const run = getRun(ctx, id);
    if (run.status !== 'running') throw new ConflictError(`run '${id}': expected status 'running' to finish it, got '${run.status}'`);
    ctx.db.prepare('UPDATE runs SET status = ?, finished_ms = ?, metrics = ? WHERE id = ?').run(status, ctx.now(), metrics, id);
    return getRun(ctx, id);
  });
}

export function listRuns(ctx: StoreContext, filter: RunFilter = {}, pageToken?: string, maxResults?: number): Page<Run> {
  const max = requireMaxResults(maxResults);
  const before = decodePageToken(pageToken, isNumberCursor);
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.kind !== undefined) { where.push('kind = ?'); params.push(requireOneOf(filter.kind, RUN_KINDS, 'filter.kind')); }
  if (filter.status !== undefined) { where.push('status = ?'); params.push(requireOneOf(filter.status, RUN_STATUSES, 'filter.status')); }
  if (before !== undefined) { where.push('rowid < ?'); params.push(before); }
  const sql = `SELECT rowid, * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY rowid DESC LIMIT ?`;
  const rows = ctx.db.prepare(sql).all(...params, max + 1) as RunRow[];
  return toPage(rows, max, toRun, (r) => r.rowid);
}
