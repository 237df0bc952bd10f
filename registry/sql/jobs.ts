/**
 * Jobs: the stored state of long work (training a prior, comparing, tuning), so any server
 * replica can answer GET /v1/jobs/:id and a restart shows what was interrupted. The runner
 * (service/jobs.ts) is the only writer of progress; cancellation is a flag it polls.
 */
import { randomUUID } from 'node:crypto';
import { NotFoundError } from '../errors.ts';
import type { Job, JobFilter, JobKind, JobStatus, JobTracePoint, JobUpdate, JsonObject, Page } from '../types.ts';
import { JOB_KINDS, JOB_STATUSES } from '../types.ts';
import { decodePageToken, parseJsonObject, requireMaxResults, requireOneOf, toJsonText } from '../validate.ts';
import { inTransaction, isNumberCursor, toPage, type StoreContext } from './connection.ts';

interface JobRow {
  rowid: number; id: string; kind: string; status: string; phase: string; phase_index: number; phase_count: number;
  progress: number; eta_ms: number | null; trace: string; params: string; result: string | null; error: string | null;
  run_id: string | null; cancel_requested: number; created_ms: number; started_ms: number | null; finished_ms: number | null;
}

function toJob(row: JobRow): Job {
  return {
    id: row.id, kind: row.kind as JobKind, status: row.status as JobStatus, phase: row.phase,
    phaseIndex: row.phase_index, phaseCount: row.phase_count, progress: row.progress, etaMs: row.eta_ms,
    trace: JSON.parse(row.trace) as JobTracePoint[], params: parseJsonObject(row.params),
    result: row.result === null ? null : parseJsonObject(row.result),
    error: row.error === null ? null : (JSON.parse(row.error) as { code: string; message: string }),
    runId: row.run_id, cancelRequested: row.cancel_requested === 1,
    createdMs: row.created_ms, startedMs: row.started_ms, finishedMs: row.finished_ms,
  };
}

export async function createJob(ctx: StoreContext, input: { kind: JobKind; params: JsonObject }): Promise<Job> {
  const kind = requireOneOf(input.kind, JOB_KINDS, 'kind');
  const params = toJsonText(input.params, 'params');
  const id = `job_${randomUUID().replaceAll('-', '')}`;
  await ctx.sql.run(`INSERT INTO jobs (id, kind, status, phase, phase_index, phase_count, progress, eta_ms, trace, params, created_ms)
    VALUES (?, ?, 'queued', 'queued', 0, 1, 0, NULL, '[]', ?, ?)`, [id, kind, params, ctx.now()]);
  return getJob(ctx, id);
}

export async function getJob(ctx: StoreContext, id: string): Promise<Job> {
  const row = await ctx.sql.get<JobRow>('SELECT rowid, * FROM jobs WHERE id = ?', [id]);
  if (!row) throw new NotFoundError('job', String(id));
  return toJob(row);
}

/** Applies an update; entering 'running' stamps started_ms, a finished status stamps finished_ms. */
export async function updateJob(ctx: StoreContext, id: string, update: JobUpdate): Promise<Job> {
  return inTransaction(ctx, 'job', async (tx) => {
    await tx.sql.lock(`job:${id}`);
    const job = await getJob(tx, id);
    const now = tx.now();
    const status = update.status ?? job.status;
    const row = {
      id, status: requireOneOf(status, JOB_STATUSES, 'status'),
      phase: update.phase ?? job.phase, phase_index: update.phaseIndex ?? job.phaseIndex, phase_count: update.phaseCount ?? job.phaseCount,
      progress: Math.min(1, Math.max(0, update.progress ?? job.progress)),
      eta_ms: update.etaMs === undefined ? job.etaMs : update.etaMs === null ? null : Math.max(0, Math.round(update.etaMs)),
      trace: JSON.stringify(update.trace ? [...job.trace, ...update.trace] : job.trace),
      result: update.result === undefined ? (job.result === null ? null : JSON.stringify(job.result)) : update.result === null ? null : toJsonText(update.result, 'result'),
      error: update.error === undefined ? (job.error === null ? null : JSON.stringify(job.error)) : update.error === null ? null : JSON.stringify(update.error),
      run_id: update.runId === undefined ? job.runId : update.runId,
      started_ms: job.startedMs ?? (status === 'running' ? now : null),
      finished_ms: job.finishedMs ?? (['succeeded', 'failed', 'cancelled'].includes(status) ? now : null),
    };
    await tx.sql.run(`UPDATE jobs SET status = ?, phase = ?, phase_index = ?, phase_count = ?,
      progress = ?, eta_ms = ?, trace = ?, result = ?, error = ?, run_id = ?, started_ms = ?, finished_ms = ? WHERE id = ?`,
    [row.status, row.phase, row.phase_index, row.phase_count, row.progress, row.eta_ms, row.trace, row.result, row.error, row.run_id,
      row.started_ms, row.finished_ms, id]);
    return getJob(tx, id);
  });
}

export async function requestJobCancel(ctx: StoreContext, id: string): Promise<Job> {
  await getJob(ctx, id);
  await ctx.sql.run('UPDATE jobs SET cancel_requested = 1 WHERE id = ?', [id]);
  return getJob(ctx, id);
}

export async function listJobs(ctx: StoreContext, filter: JobFilter = {}, pageToken?: string, maxResults?: number): Promise<Page<Job>> {
  const max = requireMaxResults(maxResults);
  const before = decodePageToken(pageToken, isNumberCursor);
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.kind !== undefined) { where.push('kind = ?'); params.push(requireOneOf(filter.kind, JOB_KINDS, 'kind')); }
  if (filter.status !== undefined) { where.push('status = ?'); params.push(requireOneOf(filter.status, JOB_STATUSES, 'status')); }
  if (before !== undefined) { where.push('rowid < ?'); params.push(before); }
  const rows = await ctx.sql.all<JobRow>(`SELECT rowid, * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY rowid DESC LIMIT ?`,
    [...params, max + 1]);
  return toPage(rows, max, toJob, (r) => Number(r.rowid));
}
