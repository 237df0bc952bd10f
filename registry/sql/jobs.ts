/**
 * Jobs: the stored state of long work (training a prior, comparing, tuning), so any server
 * replica can answer GET /v1/jobs/:id and a restart shows what was interrupted. The runner
 * (service/jobs.ts) is the only writer of progress; cancellation is a flag it polls.
 *
 * A finished job is final: every status change happens under the job's lock after reading the
 * current state, so of two writers racing to finish a job (a fit completing, a cancel, a sweep
 * of stale jobs) exactly one wins and the other gets ConflictError. A job run by a server's own
 * runner names it as `owner`; the runner stamps `heartbeat_ms` while alive, so other servers
 * sharing the registry fail only jobs whose runner stopped.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { Job, JobFilter, JobKind, JobStatus, JobTracePoint, JobUpdate, NewJob, Page } from '../types.ts';
import { FINISHED_JOB_STATUSES, JOB_KINDS, JOB_STATUSES } from '../types.ts';
import { decodePageToken, parseJsonObject, requireMaxResults, requireOneOf, toJsonText } from '../validate.ts';
import { inTransaction, isNumberCursor, toPage, type StoreContext } from './connection.ts';

interface JobRow {
  rowid: number; id: string; kind: string; status: string; phase: string; phase_index: number; phase_count: number;
  progress: number; eta_ms: number | null; trace: string; params: string; result: string | null; error: string | null;
  run_id: string | null; cancel_requested: number; owner: string | null; heartbeat_ms: number | string | null; created_ms: number; started_ms: number | null; finished_ms: number | null;
}

function toJob(row: JobRow): Job {
  return {
    id: row.id, kind: row.kind as JobKind, status: row.status as JobStatus, phase: row.phase,
    phaseIndex: row.phase_index, phaseCount: row.phase_count, progress: row.progress, etaMs: row.eta_ms,
    trace: JSON.parse(row.trace) as JobTracePoint[], params: parseJsonObject(row.params),
    result: row.result === null ? null : parseJsonObject(row.result),
    error: row.error === null ? null : (JSON.parse(row.error) as { code: string; message: string }),
    runId: row.run_id, cancelRequested: row.cancel_requested === 1,
    owner: row.owner, heartbeatMs: row.heartbeat_ms === null ? null : Number(row.heartbeat_ms),
    createdMs: row.created_ms, startedMs: row.started_ms, finishedMs: row.finished_ms,
  };
}

export async function createJob(ctx: StoreContext, input: NewJob): Promise<Job> {
  const kind = requireOneOf(input.kind, JOB_KINDS, 'kind');
  const params = toJsonText(input.params, 'params');
  const owner = input.owner ?? null;
  const id = `job_${randomUUID().replaceAll('-', '')}`;
  const now = ctx.now();
  await ctx.sql.run(`INSERT INTO jobs (id, kind, status, phase, phase_index, phase_count, progress, eta_ms, trace, params, owner, heartbeat_ms, created_ms)
    VALUES (?, ?, 'queued', 'queued', 0, 1, 0, NULL, '[]', ?, ?, ?, ?)`, [id, kind, params, owner, owner === null ? null : now, now]);
  return getJob(ctx, id);
}

export async function getJob(ctx: StoreContext, id: string): Promise<Job> {
  const row = await ctx.sql.get<JobRow>('SELECT rowid, * FROM jobs WHERE id = ?', [id]);
  if (!row) throw new NotFoundError('job', String(id));
  return toJob(row);
}

const UNFINISHED = `status IN ('queued', 'running')`;

/**
 * Applies an update; entering 'running' stamps started_ms, a finished status stamps finished_ms.
 * ConflictError when the job already finished (its final state stays).
 */
export async function updateJob(ctx: StoreContext, id: string, update: JobUpdate): Promise<Job> {
  return inTransaction(ctx, 'job', async (tx) => {
    await tx.sql.lock(`job:${id}`);
    const job = await getJob(tx, id);
    if (FINISHED_JOB_STATUSES.includes(job.status)) throw new ConflictError(`job '${id}' already finished (${job.status})`);
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
      finished_ms: job.finishedMs ?? (FINISHED_JOB_STATUSES.includes(status) ? now : null),
    };
    await tx.sql.run(`UPDATE jobs SET status = ?, phase = ?, phase_index = ?, phase_count = ?,
      progress = ?, eta_ms = ?, trace = ?, result = ?, error = ?, run_id = ?, started_ms = ?, finished_ms = ? WHERE id = ?`,
    [row.status, row.phase, row.phase_index, row.phase_count, row.progress, row.eta_ms, row.trace, row.result, row.error, row.run_id,
      row.started_ms, row.finished_ms, id]);
    return getJob(tx, id);
  });
}

export async function touchJobs(ctx: StoreContext, owner: string): Promise<number> {
  return ctx.sql.run(`UPDATE jobs SET heartbeat_ms = ? WHERE owner = ? AND ${UNFINISHED}`, [ctx.now(), owner]);
}

export async function failStaleJobs(ctx: StoreContext, staleMs: number, error: { code: string; message: string }): Promise<Job[]> {
  const before = ctx.now() - Math.max(0, staleMs);
  const candidates = await ctx.sql.all<{ id: string }>(`SELECT id FROM jobs WHERE ${UNFINISHED} AND owner IS NOT NULL AND heartbeat_ms < ?`, [before]);
  const failed: Job[] = [];
  for (const { id } of candidates) {
    // Checked again under the job's lock: its runner may have finished or touched it meanwhile.
    const job = await inTransaction(ctx, 'job', async (tx) => {
      await tx.sql.lock(`job:${id}`);
      const changed = await tx.sql.run(`UPDATE jobs SET status = 'failed', error = ?, eta_ms = NULL, finished_ms = ?
        WHERE id = ? AND ${UNFINISHED} AND heartbeat_ms < ?`, [JSON.stringify(error), tx.now(), id, before]);
      return changed === 1 ? getJob(tx, id) : null;
    });
    if (job) failed.push(job);
  }
  return failed;
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
