/**
 * The Fitter seam: fitting a few-shot method is a pure function of a serialisable job (method,
 * options, layer, prior tensors, competitors' meta-training results, support features, seed) that
 * returns fitted parameters, or query probabilities for a comparison. Nothing in a job refers to
 * the registry or the request, so it can run anywhere:
 *
 * - `InlineFitter` runs it on the calling thread (CLIs, tests, a worker process).
 * - `ThreadPoolFitter` runs it in a pool of worker threads (piscina; service/worker-thread.ts),
 *   so a 300-step fit never stalls the server's event loop; several fits run in parallel.
 *
 * Domain errors (e.g. a LiFT method without a prior) cross the thread boundary as their code and
 * message and are rethrown as the same class, so HTTP statuses do not depend on where a fit ran.
 */
import os from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Piscina } from 'piscina';
import type { SupportSet } from '../adapters/adapt.ts';
import type { LayerSpec } from '../adapters/lora.ts';
import { createRng } from '../adapters/rng.ts';
import { accuracy } from '../benchmarks/metrics.ts';
import { AlreadyExistsError, ConflictError, ERROR_CODES, NotFoundError, RegistryError, ValidationError } from '../registry/errors.ts';
import type { JsonObject, Prior } from '../registry/types.ts';
import type { MetaArtifacts } from './meta-artifacts.ts';
import { createMethod, toMixturePrior, type FitOptions, type MethodName } from './methods.ts';
import { samplePosterior, type PosteriorSampleOptions } from './posterior-samples.ts';

export interface FitJob {
  readonly method: MethodName;
  readonly options: FitOptions;
  /** The pretrained layer LoRA attaches to. */
  readonly layer: LayerSpec;
  readonly prior: Prior | null;
  /** The competitors' meta-training results for this prior (null: none stored). */
  readonly artifacts: MetaArtifacts | null;
  readonly support: SupportSet;
  readonly nWay: number;
  readonly seed: number;
  /** Also draw posterior samples around the fitted adapter (LiFT posterior). */
  readonly posterior?: PosteriorSampleOptions;
  /** Score these query features instead of returning the adapter (comparisons). */
  readonly query?: readonly Float32Array[];
}

export interface FittedParameters {
  readonly A: Float32Array;
  readonly B: Float32Array;
  readonly prototypes: Float32Array;
  readonly rank: number;
  readonly alpha: number;
  readonly tau: number;
  /** Posterior sample tensors by stored name (empty without `posterior`). */
  readonly posterior: Readonly<Record<string, Float32Array>>;
}

interface Resolved {
  /** The method's resolved settings, recorded as the adapter's training config. */
  readonly config: JsonObject;
  readonly priorId: string | null;
  /** Fitting time (and query scoring for comparisons), in ms. */
  readonly fitMs: number;
}
export interface FittedAdapterResult extends Resolved { readonly kind: 'adapter'; readonly adapter: FittedParameters; readonly supportAccuracy: number }
export interface ScoredQueryResult extends Resolved { readonly kind: 'scores'; readonly probs: Float32Array[] }
export type FitResult = FittedAdapterResult | ScoredQueryResult;

/** Runs a fit job on this thread. */
export function runFitJob(job: FitJob): FitResult {
  const { method, config, priorId } = createMethod(job.method, { layer: job.layer, prior: job.prior, options: job.options, artifacts: () => job.artifacts });
  const rng = createRng(job.seed);
  const started = performance.now();
  if (job.query !== undefined) {
    const probs = method.fitPredict(job.support, job.query, job.nWay, rng.fork('fit'));
    return { kind: 'scores', probs, config, priorId, fitMs: performance.now() - started };
  }
  const fitted = method.fit(job.support, job.nWay, rng.fork('fit'));
  const posterior = job.posterior && job.prior ? samplePosterior(toMixturePrior(job.prior), fitted, job.support, job.posterior, rng.fork('posterior')) : {};
  const fitMs = performance.now() - started;
  return {
    kind: 'adapter', config, priorId, fitMs,
    supportAccuracy: accuracy(fitted.predict(job.support.features), job.support.labels),
    adapter: { A: fitted.A, B: fitted.B, prototypes: fitted.prototypes, rank: fitted.rank, alpha: fitted.alpha, tau: fitted.tau, posterior },
  };
}

export interface Fitter {
  /** Fits; rejects with the job's domain error, or an AbortError once `signal` fired. */
  run(job: FitJob, signal?: AbortSignal): Promise<FitResult>;
  /** Parallel fits it runs at most (1 for inline). */
  readonly concurrency: number;
  /** Starts threads ahead of the first fit (a thread takes a second or so to load the code). */
  warm(): Promise<void>;
  close(): Promise<void>;
}

export class InlineFitter implements Fitter {
  readonly concurrency = 1;
  /** Yields first, so a cancel (or a request) queued behind this thread's work is seen between fits. */
  async run(job: FitJob, signal?: AbortSignal): Promise<FitResult> {
    await nextTurn();
    signal?.throwIfAborted();
    return runFitJob(job);
  }
  async warm(): Promise<void> {}
  async close(): Promise<void> {}
}

/** What crosses back from a worker thread: the result, or a domain error to rethrow. */
export type FitReply = { ok: true; result: FitResult } | { ok: false; code: string; message: string };

/** Worker side of the pool (service/worker-thread.ts): never throws a domain error across. */
export function fitReply(job: FitJob): FitReply {
  try {
    return { ok: true, result: runFitJob(job) };
  } catch (err) {
    if (err instanceof RegistryError) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}

/** A domain error from its code and message (the inverse of `fitReply`'s error branch). */
export function domainError(code: string, message: string): Error {
  const err: RegistryError = code === ERROR_CODES.validation ? new ValidationError(message)
    : code === ERROR_CODES.conflict ? new ConflictError(message)
      : code === ERROR_CODES.notFound ? Object.assign(new NotFoundError('', ''), { message })
        : code === ERROR_CODES.alreadyExists ? Object.assign(new AlreadyExistsError('', ''), { message })
          : Object.assign(new Error(message), { code }) as RegistryError;
  return err;
}

export const WORKER_THREAD_FILE = new URL('./worker-thread.ts', import.meta.url).href;

/** Default pool size: one thread per core, leaving the event loop its own core where there are several. */
export function defaultFitThreads(): number {
  return Math.max(1, os.availableParallelism() - 1);
}

export class ThreadPoolFitter implements Fitter {
  private pool: Piscina | null = null;

  constructor(readonly concurrency: number = defaultFitThreads()) {}

  /** Created on first use, so a CLI that never fits starts no thread. */
  private get threads(): Piscina {
    this.pool ??= new Piscina({ filename: WORKER_THREAD_FILE, name: 'fit', minThreads: this.concurrency, maxThreads: this.concurrency, idleTimeout: 60_000 });
    return this.pool;
  }

  async warm(): Promise<void> {
    await Promise.all(Array.from({ length: this.concurrency }, () => this.threads.run(null, { name: 'ping' })));
  }

  async run(job: FitJob, signal?: AbortSignal): Promise<FitResult> {
    const reply = await this.threads.run(job, signal ? { signal } : {}) as FitReply;
    if (!reply.ok) throw domainError(reply.code, reply.message);
    return reply.result;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.destroy();
  }
}
