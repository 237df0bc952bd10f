/**
 * The one place a job runner is chosen, from the configuration:
 *
 * - no queue (the embedded default): `LocalJobRunner` runs this process's jobs in a worker
 *   thread that opens its own runtime on the same registry, so training never stalls requests;
 *   a registry only this process can see (an in-memory one) runs them on the event loop instead.
 * - `--queue redis://…`: jobs go through BullMQ on Redis and run in `npm run worker` processes
 *   on any machine that reaches the registry and Redis (queue-runner.ts).
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { ValidationError } from '../registry/errors.ts';
import { registryEngine, sqlitePath } from '../registry/open.ts';
import type { Job } from '../registry/types.ts';
import type { ServiceConfig } from './config.ts';
import { WORKER_THREAD_FILE } from './fitter.ts';
import { JOB_HANDLERS } from './job-handlers.ts';
import { inlineJobExecutor, LocalJobRunner, type JobExecutor, type JobRunner } from './jobs.ts';
import { defaultLogger, type Logger } from './log.ts';
import { QueueJobRunner } from './queue-runner.ts';
import type { Runtime, RuntimeOptions } from './runtime.ts';

/** What a job thread needs to open its own runtime (plain data: it crosses to the thread). */
export type JobThreadOptions = Partial<RuntimeOptions>;

/** Messages on a job thread's port: the thread posts the stored job after each change; the runner posts 'cancel'. */
export type JobThreadMessage = { job: Job } | 'cancel';

/** One job for a job thread: the thread logs at `logLevel` (the runner's), to its own stdout logger. */
export interface JobThreadTask {
  readonly options: JobThreadOptions;
  readonly logLevel: string;
  readonly id: string;
  readonly port: MessagePort;
}

/** Whether another thread or process can open the same registry (not an in-memory one). */
export function registryIsShared(url: string): boolean {
  const engine = registryEngine(url);
  if (engine === 'postgres') return true;
  if (engine === 'pglite') return url.slice('pglite:'.length).replace(/\?.*$/, '') !== '';
  return sqlitePath(url) !== ':memory:';
}

/** Runs each job in a thread of a small pool; the thread keeps its runtime between jobs. */
export class JobThreads {
  private readonly pool: Piscina;

  constructor(private readonly options: JobThreadOptions, readonly threads = 1) {
    this.pool = new Piscina({ filename: WORKER_THREAD_FILE, name: 'job', minThreads: 0, maxThreads: threads, idleTimeout: 5 * 60_000 });
  }

  readonly executor: JobExecutor = async (id, { signal, emit, log }) => {
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (m: JobThreadMessage) => { if (m !== 'cancel') emit(m.job); });
    const onAbort = () => port1.postMessage('cancel' satisfies JobThreadMessage);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.pool.run({ options: this.options, logLevel: log.level, id, port: port2 } satisfies JobThreadTask, { transferList: [port2] });
    } finally {
      signal.removeEventListener('abort', onAbort);
      port1.close();
    }
  };

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

export interface JobRunnerChoice {
  readonly runner: JobRunner;
  /** Stops what the choice started (threads, queue connections) after the runner closed. */
  close(): Promise<void>;
}

/** `log`: the server's; the runner logs under `component: 'jobs'` (or `'queue'`). */
export function openJobRunner(runtime: Runtime, config: ServiceConfig, log: Logger = defaultLogger()): JobRunnerChoice {
  if (config.queueUrl !== null) {
    if (!registryIsShared(config.registryUrl)) throw new ValidationError('queue: workers must share the registry; use postgres://… or a SQLite file, not an in-memory registry');
    const runner = new QueueJobRunner(runtime, JOB_HANDLERS, config.queueUrl, log.child({ component: 'queue' }));
    return { runner, close: async () => {} };
  }
  const jobLog = log.child({ component: 'jobs' });
  if (config.fitThreads === 0 || !registryIsShared(config.registryUrl)) {
    return { runner: new LocalJobRunner(runtime, JOB_HANDLERS, { executor: inlineJobExecutor(runtime, JOB_HANDLERS), log: jobLog }), close: async () => {} };
  }
  // The server's settings are plain data; the thread's runtime takes what it knows of them.
  const threads = new JobThreads(config);
  return { runner: new LocalJobRunner(runtime, JOB_HANDLERS, { executor: threads.executor, log: jobLog }), close: () => threads.close() };
}
