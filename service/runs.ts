/**
 * Recording runs: every train, tune, eval, compare (and job) writes one through `recordRun`, with
 * its parameters, metrics, duration, the registry versions involved and the code version, so
 * `GET /v1/runs` can answer "what produced this prior / adapter / figure".
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { RegistryStore } from '../registry/store.ts';
import type { JsonObject, Run, RunInput, RunRefs } from '../registry/types.ts';

const execFileAsync = promisify(execFile);
let cachedCodeVersion: Promise<string | null> | undefined;

/**
 * `git rev-parse HEAD` of this checkout (with `-dirty` when the tree has changes), or null; asked
 * once per process. Asynchronous: `git status` on a busy machine took 1.8 s, which as a
 * synchronous call stalled every request of a server at its first fit.
 */
export function codeVersion(): Promise<string | null> {
  cachedCodeVersion ??= (async () => {
    try {
      const cwd = new URL('..', import.meta.url).pathname;
      const git = async (...args: string[]) => (await execFileAsync('git', args, { cwd })).stdout.trim();
      const [head, dirty] = await Promise.all([git('rev-parse', 'HEAD'), git('status', '--porcelain', '--untracked-files=no')]);
      return dirty ? `${head}-dirty` : head;
    } catch {
      return process.env.LIFT_CODE_VERSION ?? null;
    }
  })();
  return cachedCodeVersion;
}

/** What the work returns: its value plus the run's metrics and the versions it stored. */
export interface RunOutcome<T> {
  readonly value: T;
  readonly metrics?: JsonObject;
  readonly refs?: RunRefs;
}

/** A run in progress, finished as succeeded (with metrics and refs) or failed / cancelled; only the first finish counts. */
export interface OpenRun {
  readonly run: Run;
  succeed(out?: Omit<RunOutcome<unknown>, 'value'>): Promise<Run>;
  fail(err: unknown, cancelled?: boolean): Promise<Run>;
}

/** Creates a `running` run for work that is not one function call (a CLI's main loop). */
export async function startRun(store: RegistryStore, input: Omit<RunInput, 'codeVersion'>): Promise<OpenRun> {
  const run = await store.createRun({ ...input, codeVersion: await codeVersion() });
  const started = performance.now();
  const duration = () => Math.round(performance.now() - started);
  let finished: Promise<Run> | null = null;
  return {
    run,
    succeed: (out = {}) => (finished ??= store.finishRun(run.id, { status: 'succeeded', metrics: { ...out.metrics, duration_ms: duration() }, refs: out.refs })),
    fail: (err, cancelled = false) => (finished ??= store.finishRun(run.id, {
      status: cancelled ? 'cancelled' : 'failed', metrics: { duration_ms: duration() }, error: err instanceof Error ? err.message : String(err),
    })),
  };
}

/**
 * Runs `work` as a run: created `running`, then finished `succeeded` with its metrics and refs,
 * or `failed` / `cancelled` with the error message (and the error rethrown).
 */
export async function recordRun<T>(
  store: RegistryStore, input: Omit<RunInput, 'codeVersion'>, work: (run: Run) => Promise<RunOutcome<T>>,
  isCancel: (err: unknown) => boolean = () => false,
): Promise<{ value: T; run: Run }> {
  const open = await startRun(store, input);
  try {
    const out = await work(open.run);
    return { value: out.value, run: await open.succeed(out) };
  } catch (err) {
    await open.fail(err, isCancel(err));
    throw err;
  }
}
