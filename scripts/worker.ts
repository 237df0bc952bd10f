/**
 * A job worker process: takes jobs (fit, compare, train-prior, …) off the Redis queue that
 * servers started with `--queue` submit to, and runs them against the shared registry. Run any
 * number, on any machine that reaches the registry and Redis (docs/deploy.md).
 *
 *   npm run worker -- --registry postgres://… --queue redis://127.0.0.1:6379
 *
 * SIGTERM/SIGINT: finish the running job, then exit. A worker killed outright loses nothing:
 * after --lock-ms another worker runs its job again. Its log is JSON lines on stdout, as the
 * server's (`--log-level`, LIFT_LOG_LEVEL).
 */
import { Command, Option } from 'commander';
import { integerAtLeast } from './cli-options.ts';
import { registryIsShared } from '../service/job-runners.ts';
import { JOB_HANDLERS } from '../service/job-handlers.ts';
import { queueLocation, startQueueWorker } from '../service/queue-runner.ts';
import { DEFAULT_SERVICE_CONFIG } from '../service/config.ts';
import { createLogger, LOG_LEVELS, type LogLevel } from '../service/log.ts';
import { Runtime } from '../service/runtime.ts';
import { redactUrl } from '../registry/open.ts';

const program = new Command().name('worker').description('Runs queued jobs (fit, compare, train-prior) from Redis against the shared registry')
  .addOption(new Option('--registry <url>', 'registry URL shared with the servers: postgres://… or a SQLite file on this machine').env('LIFT_REGISTRY').makeOptionMandatory())
  .addOption(new Option('--queue <url>', 'Redis queue URL, as given to the servers (redis://host:port[/db][?prefix=name])').env('LIFT_QUEUE').makeOptionMandatory())
  .addOption(new Option('--models-dir <dir>', 'directory of the converted ONNX backbones').env('LIFT_MODELS_DIR').default(DEFAULT_SERVICE_CONFIG.modelsDir))
  .addOption(new Option('--concurrency <n>', 'jobs this process runs at once').argParser(integerAtLeast(1)).default(1))
  .addOption(new Option('--fit-threads <n>', 'worker threads for fits (keeps this process free to renew its job locks)').env('LIFT_FIT_THREADS').argParser(integerAtLeast(0)).default(1))
  .addOption(new Option('--lock-ms <ms>', "how long a job stays claimed without renewal; a killed worker's job is run again after this").argParser(integerAtLeast(1000)).default(30_000))
  .addOption(new Option('--log-level <level>', 'JSON log lines on stdout from this level up').env('LIFT_LOG_LEVEL').choices(LOG_LEVELS).default('info'))
  .allowExcessArguments(false);
program.parse();
const opts = program.opts<{ registry: string; queue: string; modelsDir: string; concurrency: number; fitThreads: number; lockMs: number; logLevel: LogLevel }>();
const log = createLogger(opts.logLevel).child({ component: 'worker', pid: process.pid });

try {
  queueLocation(opts.queue);
  if (!registryIsShared(opts.registry)) throw new Error(`registry: a worker needs a registry the servers share (postgres://… or a SQLite file), got '${redactUrl(opts.registry)}'`);
} catch (err) {
  log.fatal({ err }, 'worker not started');
  process.exit(2);
}

const runtime = await Runtime.open({ registryUrl: opts.registry, modelsDir: opts.modelsDir, fitThreads: opts.fitThreads });
const worker = startQueueWorker(runtime, JOB_HANDLERS, opts.queue, { concurrency: opts.concurrency, lockMs: opts.lockMs, log });
const jobIdOf = (job: { data: unknown }) => (job.data as { id: string }).id;
worker.on('active', (job) => log.info({ jobId: jobIdOf(job), kind: job.name, attempt: job.attemptsMade + 1 }, 'job started'));
worker.on('completed', (job, result: { status?: string }) => log.info({ jobId: jobIdOf(job), status: result?.status ?? 'done' }, 'job ended'));
await worker.waitUntilReady();
log.info({ registry: redactUrl(opts.registry), queue: redactUrl(opts.queue), concurrency: opts.concurrency }, 'worker ready');

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'finishing the running job, then exiting');
    worker.close().then(() => runtime.close()).then(() => process.exit(0), (err: unknown) => { log.fatal({ err }, 'worker did not stop cleanly'); process.exit(1); });
  });
}
