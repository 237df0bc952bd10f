/**
 * The job seam: long work (training a prior, comparisons, tuning) runs as a job whose state lives
 * in the registry, so any replica answers GET /v1/jobs/:id and the console can watch it.
 *
 * - A handler is `(params, ctx) => Promise<result>`: params and result are JSON, the context
 *   gives an AbortSignal, a `report` for phase/progress/ETA/trace, and the runtime. Handlers
 *   close over nothing from the request, so another runner can run them in a worker or process.
 * - `JOB_HANDLERS` (service/job-handlers.ts) maps each kind to its handler; a `JobRunner` takes
 *   the table and runs submitted jobs; `executeJob` is how every runner runs one (run record,
 *   progress writes, cancel flag, final state). `openJobRunner` (job-runners.ts) is the one place
 *   a runner is chosen: worker threads of this process (`LocalJobRunner` with
 *   `threadJobExecutor`), or a Redis queue served by worker processes (queue-runner.ts).
 * - Cancelling sets the job's flag in the registry; `executeJob` polls it, so a job stops
 *   wherever it runs (another thread, another machine).
 * - Every job is also a run (service/runs.ts): the runner creates it when the job starts and
 *   finishes it with the result's `metrics` and `refs`.
 * - What goes wrong outside a job's own result (a progress write or heartbeat the store refused)
 *   goes to the runner's `log` as a JSON line; a job prints no progress lines of its own.
 */
import { setImmediate as nextTick } from 'node:timers/promises';
import { ConflictError, ValidationError } from '../registry/errors.ts';
import type { RegistryStore } from '../registry/store.ts';
import type { Job, JobKind, JobTracePoint, JobUpdate, JsonObject, RunKind, RunRefs } from '../registry/types.ts';
import { FINISHED_JOB_STATUSES } from '../registry/types.ts';
import { defaultLogger, type Logger } from './log.ts';
import { withoutProgressLines } from './progress.ts';
import { recordRun } from './runs.ts';
import type { Runtime } from './runtime.ts';

/** What a handler may use besides its params. */
export type JobRuntime = Runtime;

export interface JobProgress {
  readonly phase: string;
  /** 1-based index of the phase and the number of phases. */
  readonly phaseIndex: number;
  readonly phaseCount: number;
  /** 0..1 within the whole job. */
  readonly progress: number;
  /** Default: estimated from elapsed time and progress. */
  readonly etaMs?: number;
  /** Points appended to the job's log-likelihood trace. */
  readonly trace?: readonly JobTracePoint[];
}

export interface JobContext {
  readonly signal: AbortSignal;
  report(progress: JobProgress): void;
  readonly runtime: JobRuntime;
  /** The run recording this job. */
  readonly runId: string;
}

export type JobHandler = (params: JsonObject, ctx: JobContext) => Promise<JsonObject>;
export type JobHandlers = Readonly<Partial<Record<JobKind, JobHandler>>>;

export interface JobRunner {
  /**
   * Starts taking jobs as `instance` (this server's host:port, unique among the servers sharing
   * the registry). A local runner fails the jobs a previous process of the same instance left
   * queued or running, and any whose runner stopped heartbeating; never a live server's.
   */
  start(instance: string): Promise<void>;
  /** Stores the job (status queued) and schedules it; ValidationError for a kind without handler. */
  submit(kind: JobKind, params: JsonObject): Promise<Job>;
  /** Idempotent while the job is queued or running; ConflictError once it finished. */
  cancel(id: string): Promise<Job>;
  /** Called with the stored job after every change; returns the unsubscribe function. */
  subscribe(listener: (job: Job) => void): () => void;
  /** Cancels running work and waits for it to stop. */
  close(): Promise<void>;
}

/** Thrown (or checked) by handlers when their signal fired. */
export class JobCancelledError extends Error {
  constructor() {
    super('job cancelled');
    this.name = 'JobCancelledError';
  }
}

/** Lets the event loop answer requests; throws JobCancelledError once the job was cancelled. */
export async function yieldToEventLoop(signal?: AbortSignal): Promise<void> {
  await nextTick();
  if (signal?.aborted) throw new JobCancelledError();
}

const RUN_KIND_OF: Readonly<Record<JobKind, RunKind>> = { 'train-prior': 'train', compare: 'compare', fit: 'fit', tune: 'tune', eval: 'eval' };

/** How often progress reaches the store at most (trace points and phase changes always do). */
const REPORT_INTERVAL_MS = 200;
/** How often a running job reads its cancel flag from the store. */
const CANCEL_POLL_MS = 500;

const interrupted = (why: string) => ({ code: 'INTERRUPTED', message: `${why}; submit it again` });

function errorOf(err: unknown): { code: string; message: string } {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return { code: err.code, message: err.message };
  return { code: 'INTERNAL_ERROR', message: err instanceof Error ? err.message : String(err) };
}

const isCancel = (err: unknown): boolean => err instanceof JobCancelledError || (err instanceof Error && err.name === 'AbortError');

export function isFinished(job: Job): boolean {
  return FINISHED_JOB_STATUSES.includes(job.status);
}

export interface ExecuteOptions {
  /** Aborts the handler (a local cancel); the stored cancel flag is polled as well. */
  readonly signal?: AbortSignal;
  /** Called with the stored job after every change. */
  readonly emit?: (job: Job) => void;
  /** Where a progress write the store refused is logged. Default: `defaultLogger()`. */
  readonly log?: Logger;
}

/**
 * Moves the job to a final state, unless another writer finished it first (a cancel, a sweep, its
 * runner): then the state that writer stored stands. Returns the stored job either way.
 */
export async function finishJob(store: RegistryStore, id: string, update: JobUpdate, emit?: (job: Job) => void): Promise<Job> {
  const job = await store.updateJob(id, { etaMs: null, ...update }).catch(async (err: unknown) => {
    if (err instanceof ConflictError) return store.getJob(id);
    throw err;
  });
  emit?.(job);
  return job;
}

/**
 * Runs one stored job to a final state with `runtime`: a cancelled or finished job is left
 * alone; otherwise it is marked running, recorded as a run, and ends succeeded (with its
 * result), cancelled, or failed (with its reason). Never throws for the job's own errors.
 */
export async function executeJob(runtime: JobRuntime, handlers: JobHandlers, id: string, options: ExecuteOptions = {}): Promise<Job> {
  const store = runtime.store;
  const emit = options.emit;
  const log = options.log ?? defaultLogger();
  const job = await store.getJob(id);
  if (isFinished(job)) return job;
  if (job.cancelRequested) return finishJob(store, id, { status: 'cancelled' }, emit);
  const handler = handlers[job.kind];
  if (!handler) return finishJob(store, id, { status: 'failed', error: { code: 'INVALID_PARAMETER_VALUE', message: `no handler for job kind '${job.kind}' here` } }, emit);
  if (job.status === 'running' && job.runId !== null) {
    // A worker stopped mid-job and the queue handed it out again: close the interrupted run.
    await store.finishRun(job.runId, { status: 'failed', error: 'the worker running this job stopped; the job was run again' }).catch(() => {});
  }
  // Claimed before anything is recorded: a job finished meanwhile (cancelled, swept) stays as it is.
  try {
    emit?.(await store.updateJob(id, { status: 'running', phase: 'starting' }));
  } catch (err) {
    if (err instanceof ConflictError) return store.getJob(id);
    throw err;
  }
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) controller.abort();
  // The flag in the store reaches a job wherever it runs.
  const poll = setInterval(() => {
    // A job finished by another writer (a sweep that took its runner for dead) stops as well.
    store.getJob(id).then((j) => { if (j.cancelRequested || isFinished(j)) controller.abort(); }, () => {});
  }, CANCEL_POLL_MS);
  poll.unref();
  const startedAt = performance.now();
  let lastWrite = 0;
  let lastPhase = '';
  let writes: Promise<void> = Promise.resolve();
  const report = (p: JobProgress): void => {
    const now = performance.now();
    const phaseChanged = p.phase !== lastPhase;
    if (!phaseChanged && !p.trace?.length && now - lastWrite < REPORT_INTERVAL_MS) return;
    lastWrite = now;
    lastPhase = p.phase;
    const elapsed = now - startedAt;
    const etaMs = p.etaMs ?? (p.progress > 0.01 ? (elapsed * (1 - p.progress)) / p.progress : null);
    // Progress writes are ordered but not awaited: the handler keeps computing.
    writes = writes.then(() => store.updateJob(id, {
      phase: p.phase, phaseIndex: p.phaseIndex, phaseCount: p.phaseCount, progress: p.progress, etaMs, trace: p.trace,
    })).then((j) => emit?.(j), (err: unknown) => log.error({ err, jobId: id }, 'job progress not stored'));
  };
  try {
    const { value, run } = await recordRun(store, { kind: RUN_KIND_OF[job.kind], name: `${job.kind} job ${id}`, config: job.params }, async (run) => {
      emit?.(await store.updateJob(id, { runId: run.id }));
      const result = await withoutProgressLines(() => handler(job.params, { signal: controller.signal, report, runtime, runId: run.id }));
      await writes;
      // Once the handler returned, its work is stored (e.g. the fitted adapter): a cancel that
      // arrives now is too late, and the job succeeds with its result rather than claiming
      // "cancelled" over an adapter that exists. The handler checks its signal before storing.
      const { metrics, refs } = result as { metrics?: JsonObject; refs?: RunRefs };
      return { value: result, metrics, refs };
    }, isCancel);
    return await finishJob(store, id, { status: 'succeeded', progress: 1, result: value, runId: run.id }, emit);
  } catch (err) {
    await writes;
    return finishJob(store, id, isCancel(err) || controller.signal.aborted ? { status: 'cancelled' } : { status: 'failed', error: errorOf(err) }, emit);
  } finally {
    clearInterval(poll);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Runs one stored job somewhere (this thread, a worker thread) until it reaches a final state. */
export type JobExecutor = (id: string, options: Required<ExecuteOptions>) => Promise<void>;

/** The executor that runs jobs on this thread's event loop (handlers yield between chunks of work). */
export function inlineJobExecutor(runtime: JobRuntime, handlers: JobHandlers): JobExecutor {
  return async (id, options) => { await executeJob(runtime, handlers, id, options); };
}

export interface LocalRunnerTiming {
  /** How often the runner stamps its jobs alive (and looks for stale ones and queued cancels). */
  readonly heartbeatMs: number;
  /** A job whose runner has not stamped it for this long is failed by any server's runner. */
  readonly staleMs: number;
}

export const DEFAULT_RUNNER_TIMING: LocalRunnerTiming = { heartbeatMs: 5_000, staleMs: 30_000 };

export interface LocalRunnerOptions {
  /** Where jobs run. Default: on this thread's event loop (`inlineJobExecutor`). */
  readonly executor?: JobExecutor;
  /** Jobs run at once. Default: 1. */
  readonly concurrency?: number;
  readonly timing?: LocalRunnerTiming;
  /** Where the runner's and its jobs' trouble is logged (the server passes its own). Default: `defaultLogger()`. */
  readonly log?: Logger;
}

/**
 * Jobs of this process, in submission order, at most `concurrency` at a time, each run by the
 * executor (in worker threads by default, see job-runners.ts). Several servers may share one
 * registry without a queue: each runs the jobs submitted to it, stored with its instance name as
 * owner and a heartbeat it renews; a job whose server stopped (no heartbeat for `staleMs`, or the
 * same instance started again) is failed by whichever server notices first.
 */
export class LocalJobRunner implements JobRunner {
  private readonly queue: string[] = [];
  private readonly controllers = new Map<string, AbortController>();
  private readonly listeners = new Set<(job: Job) => void>();
  private readonly active = new Set<Promise<void>>();
  private owner: string | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private beating: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly executor: JobExecutor;
  private readonly concurrency: number;
  private readonly timing: LocalRunnerTiming;
  private readonly log: Logger;

  constructor(private readonly runtime: JobRuntime, private readonly handlers: JobHandlers, options: LocalRunnerOptions = {}) {
    this.executor = options.executor ?? inlineJobExecutor(runtime, handlers);
    this.concurrency = options.concurrency ?? 1;
    this.timing = options.timing ?? DEFAULT_RUNNER_TIMING;
    this.log = options.log ?? defaultLogger();
  }

  async start(instance: string): Promise<void> {
    this.owner = instance;
    // The previous process of this instance cannot finish its jobs: fail them now, not after staleMs.
    for (const status of ['queued', 'running'] as const) {
      for (const job of (await this.store.listJobs({ status }, undefined, 1000)).items) {
        if (job.owner !== instance) continue;
        await finishJob(this.store, job.id, { status: 'failed', error: interrupted(`the server stopped while this job was ${status}`) }, (j) => this.emit(j));
      }
    }
    await this.beat();
    this.heartbeat = setInterval(() => { this.beating = this.beating.then(() => this.beat()); }, this.timing.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Stamps this runner's jobs alive, fails other runners' stale ones, and drops queued jobs cancelled elsewhere. */
  private async beat(): Promise<void> {
    try {
      if (this.owner === null || this.closed) return;
      if (this.queue.length > 0 || this.controllers.size > 0) await this.store.touchJobs(this.owner);
      const stale = await this.store.failStaleJobs(this.timing.staleMs, interrupted('the server running this job stopped answering'));
      for (const job of stale) this.emit(job);
      for (const id of [...this.queue]) {
        if (!(await this.store.getJob(id)).cancelRequested) continue;
        const i = this.queue.indexOf(id);
        if (i >= 0) this.queue.splice(i, 1);
        await finishJob(this.store, id, { status: 'cancelled' }, (j) => this.emit(j));
      }
    } catch (err) {
      this.log.error({ err }, 'job heartbeat failed');
    }
  }

  private get store(): RegistryStore {
    return this.runtime.store;
  }

  async submit(kind: JobKind, params: JsonObject): Promise<Job> {
    if (this.closed) throw new ConflictError('the server is shutting down; submit the job again later');
    if (!this.handlers[kind]) throw new ValidationError(`kind: expected one of ${Object.keys(this.handlers).join(', ')}, got '${kind}'`);
    if (this.owner === null) throw new ConflictError('the server is starting; submit the job again in a moment');
    const job = await this.store.createJob({ kind, params, owner: this.owner });
    this.queue.push(job.id);
    this.emit(job);
    this.pump();
    return job;
  }

  /**
   * Queued here: taken off the queue and cancelled. Running here or on another server: the flag
   * is set and the job's runner stops it (it polls the flag), so the answer may still say
   * running. Whatever finishes first (the work or the cancel) is the job's one final state.
   */
  async cancel(id: string): Promise<Job> {
    const job = await this.store.getJob(id);
    if (isFinished(job)) throw new ConflictError(`job '${id}' already finished (${job.status}); nothing to cancel`);
    const flagged = await this.store.requestJobCancel(id);
    const i = this.queue.indexOf(id);
    if (i >= 0) {
      this.queue.splice(i, 1);
      return finishJob(this.store, id, { status: 'cancelled' }, (j) => this.emit(j));
    }
    this.controllers.get(id)?.abort();
    return flagged;
  }

  subscribe(listener: (job: Job) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.beating;
    for (const id of this.queue.splice(0)) await finishJob(this.store, id, { status: 'cancelled' }, (j) => this.emit(j));
    for (const c of this.controllers.values()) c.abort();
    await Promise.all(this.active);
  }

  private emit(job: Job): void {
    for (const l of this.listeners) l(job);
  }

  private pump(): void {
    while (this.active.size < this.concurrency && this.queue.length > 0) {
      const id = this.queue.shift()!;
      const controller = new AbortController();
      this.controllers.set(id, controller);
      const done: Promise<void> = this.executor(id, { signal: controller.signal, emit: (j) => this.emit(j), log: this.log })
        // The final state once more, from the store: an executor in another thread may have
        // posted it on a channel that closed before it arrived.
        .then(async () => this.emit(await this.store.getJob(id)))
        .catch(async (err: unknown) => {
          // The executor itself broke (e.g. its thread died): never leave the job looking alive.
          const message = `the worker running this job stopped: ${err instanceof Error ? err.message : String(err)}`;
          const job = await this.store.getJob(id);
          if (!isFinished(job)) await finishJob(this.store, id, { status: 'failed', error: { code: 'INTERNAL_ERROR', message } }, (j) => this.emit(j));
        })
        .catch((err: unknown) => this.log.error({ err, jobId: id }, 'job not marked failed'))
        .finally(() => {
          this.controllers.delete(id);
          this.active.delete(done);
          this.pump();
        });
      this.active.add(done);
    }
  }
}
