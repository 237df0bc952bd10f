/**
 * Entry point of the server's worker threads (piscina): `fit` runs one fit job and replies with
 * the fitted parameters or the domain error (pure computation, see fitter.ts); `job` runs one
 * stored job with a runtime of the thread's own (see job-runners.ts).
 */
import os from 'node:os';
import { fitReply, type FitJob, type FitReply } from './fitter.ts';
import { JOB_HANDLERS } from './job-handlers.ts';
import type { JobThreadMessage, JobThreadTask } from './job-runners.ts';
import { executeJob } from './jobs.ts';
import { createLogger, parseLogLevel, type Logger } from './log.ts';
import { Runtime } from './runtime.ts';

// On Linux a nice value belongs to a thread: lowering this one's lets the event loop (and the
// backbone's threads) take a core first whenever both want one, so fits never slow predictions.
try {
  os.setPriority(os.constants.priority.PRIORITY_BELOW_NORMAL);
} catch { /* not permitted here: run at normal priority */ }

export function fit(job: FitJob): FitReply {
  return fitReply(job);
}

/** Answers once the thread has loaded this module (the pool's warm-up). */
export function ping(): true {
  return true;
}

const runtimes = new Map<string, Promise<Runtime>>();
const logs = new Map<string, Logger>();

/** The thread's JSON log on stdout, at the level of the runner that sent the job. */
function jobLog(level: string): Logger {
  let log = logs.get(level);
  if (!log) {
    log = createLogger(parseLogLevel(level)).child({ component: 'jobs' });
    logs.set(level, log);
  }
  return log;
}

/**
 * Runs one stored job (job-runners.ts `JobThreads`) with this thread's own runtime on the same
 * registry, opened on the first job and kept. Changes go back over `port`; 'cancel' comes in.
 */
export async function job(task: JobThreadTask): Promise<void> {
  const key = JSON.stringify(task.options);
  let opening = runtimes.get(key);
  if (!opening) {
    opening = Runtime.open({ ...task.options, fitThreads: 0 });
    runtimes.set(key, opening);
  }
  const runtime = await opening;
  const controller = new AbortController();
  task.port.on('message', (m: JobThreadMessage) => { if (m === 'cancel') controller.abort(); });
  try {
    await executeJob(runtime, JOB_HANDLERS, task.id, {
      signal: controller.signal, emit: (j) => task.port.postMessage({ job: j } satisfies JobThreadMessage), log: jobLog(task.logLevel),
    });
  } finally {
    task.port.close();
  }
}
