/**
 * Jobs through a BullMQ queue on Redis, run by worker processes (`npm run worker`) on any
 * machine that reaches the registry and Redis. The registry keeps each job's state (so any server
 * answers GET /v1/jobs/:id); the queue only carries the job id to a worker.
 *
 * Nothing is lost when a worker dies (kill -9): BullMQ sees its lock expire and hands the job to
 * another worker, which runs it again from the start (a version is written in one transaction,
 * so none is half-visible); a job that keeps killing workers ends failed with the queue's reason.
 * A `prefix` query parameter on the queue URL (redis://host:6379/0?prefix=name) keeps a
 * deployment's (or a test's) keys apart from others on the same Redis.
 */
import { Queue, QueueEvents, Worker, type ConnectionOptions } from 'bullmq';
import { ConflictError, ValidationError } from '../registry/errors.ts';
import type { RegistryStore } from '../registry/store.ts';
import type { Job, JobKind, JsonObject } from '../registry/types.ts';
import { executeJob, finishJob, isFinished, type JobHandlers, type JobRunner, type JobRuntime } from './jobs.ts';
import { defaultLogger, type Logger } from './log.ts';

export const QUEUE_NAME = 'lift-jobs';

export interface QueueLocation {
  readonly connection: ConnectionOptions;
  readonly prefix: string;
}

/** redis://[user:password@]host[:port][/db][?prefix=name] -> BullMQ connection and key prefix. */
export function queueLocation(url: string): QueueLocation {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new ValidationError(`queue: expected redis://host:port[/db], got '${u.protocol}…'`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new ValidationError(`queue: expected a database number after the host, got '${u.pathname.slice(1)}'`);
  const prefix = u.searchParams.get('prefix') ?? 'lift';
  if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(prefix)) throw new ValidationError(`queue: prefix: expected letters, digits and _.:- , got '${prefix}'`);
  return {
    connection: {
      host: u.hostname || '127.0.0.1', port: u.port ? Number(u.port) : 6379, db,
      username: u.username ? decodeURIComponent(u.username) : undefined, password: u.password ? decodeURIComponent(u.password) : undefined,
      ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
      // Workers block on Redis; BullMQ needs requests that wait rather than fail.
      maxRetriesPerRequest: null,
    },
    prefix,
  };
}

/** Attempts per job: a killed worker's job runs again, up to this many times in all. */
const ATTEMPTS = 3;

/** The server side: submits to the queue and follows the queue's events for its listeners. */
export class QueueJobRunner implements JobRunner {
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly listeners = new Set<(job: Job) => void>();
  private closed = false;

  constructor(private readonly runtime: JobRuntime, private readonly handlers: JobHandlers, url: string, log: Logger = defaultLogger()) {
    const { connection, prefix } = queueLocation(url);
    this.queue = new Queue(QUEUE_NAME, { connection, prefix });
    this.events = new QueueEvents(QUEUE_NAME, { connection, prefix });
    const forward = ({ jobId }: { jobId: string }) => { void this.forward(jobId); };
    this.events.on('active', forward);
    this.events.on('progress', forward);
    this.events.on('completed', forward);
    this.events.on('failed', ({ jobId, failedReason }) => { void this.failed(jobId, failedReason); });
    // A lost Redis connection is reported by the next submit; it must not crash the server.
    this.queue.on('error', (err) => log.error({ err }, 'job queue error'));
    this.events.on('error', (err) => log.error({ err }, 'job queue events error'));
  }

  private get store(): RegistryStore {
    return this.runtime.store;
  }

  /** Jobs of other servers may be running: nothing to clean up here (the queue retries them). */
  async start(_instance: string): Promise<void> {
    await this.queue.waitUntilReady();
    await this.events.waitUntilReady();
  }

  async submit(kind: JobKind, params: JsonObject): Promise<Job> {
    if (this.closed) throw new ConflictError('the server is shutting down; submit the job again later');
    if (!this.handlers[kind]) throw new ValidationError(`kind: expected one of ${Object.keys(this.handlers).join(', ')}, got '${kind}'`);
    const job = await this.store.createJob({ kind, params });
    await this.queue.add(kind, { id: job.id }, {
      jobId: job.id, attempts: ATTEMPTS, backoff: { type: 'fixed', delay: 500 }, removeOnComplete: 1000, removeOnFail: 5000,
    });
    this.emit(job);
    return job;
  }

  async cancel(id: string): Promise<Job> {
    const job = await this.store.getJob(id);
    if (isFinished(job)) throw new ConflictError(`job '${id}' already finished (${job.status}); nothing to cancel`);
    const flagged = await this.store.requestJobCancel(id);
    // Not started yet: take it off the queue. Running: its worker sees the flag.
    const queued = await this.queue.getJob(id);
    if (queued && ['waiting', 'delayed', 'prioritized'].includes(await queued.getState())) {
      await queued.remove().catch(() => {});
      return finishJob(this.store, id, { status: 'cancelled' }, (j) => this.emit(j));
    }
    return flagged;
  }

  subscribe(listener: (job: Job) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.events.close();
    await this.queue.close();
  }

  private emit(job: Job): void {
    for (const l of this.listeners) l(job);
  }

  private async forward(id: string): Promise<void> {
    try {
      this.emit(await this.store.getJob(id));
    } catch { /* a job of another registry on the same queue: not ours */ }
  }

  /** The queue gave up on a job (e.g. its workers kept dying): record why, unless a worker did. */
  private async failed(id: string, reason: string): Promise<void> {
    try {
      const job = await this.store.getJob(id);
      if (isFinished(job)) return this.emit(job);
      await finishJob(this.store, id, { status: 'failed', error: { code: 'WORKER_FAILED', message: `the job queue gave up on this job: ${reason}` } }, (j) => this.emit(j));
    } catch { /* not ours */ }
  }
}

export interface QueueWorkerOptions {
  /** Jobs one worker process runs at once. */
  readonly concurrency?: number;
  /** How long a worker's claim on a job lasts without renewal; a killed worker's job is handed out again after it. */
  readonly lockMs?: number;
  /** Where the worker's and its jobs' trouble is logged. Default: `defaultLogger()`. */
  readonly log?: Logger;
}

/** The worker side: takes job ids off the queue and runs them with this process's runtime. */
export function startQueueWorker(runtime: JobRuntime, handlers: JobHandlers, url: string, options: QueueWorkerOptions = {}): Worker {
  const { connection, prefix } = queueLocation(url);
  const lockDuration = options.lockMs ?? 30_000;
  const log = options.log ?? defaultLogger();
  const worker = new Worker(QUEUE_NAME, async (bull) => {
    const id = (bull.data as { id: string }).id;
    const job = await executeJob(runtime, handlers, id, {
      emit: (j) => { void bull.updateProgress({ status: j.status, progress: j.progress }).catch(() => {}); },
      log,
    });
    return { status: job.status };
  }, {
    connection, prefix, concurrency: options.concurrency ?? 1, lockDuration, stalledInterval: Math.max(1000, Math.floor(lockDuration / 2)), maxStalledCount: ATTEMPTS - 1,
  });
  worker.on('error', (err) => log.error({ err }, 'job worker error'));
  return worker;
}
