/**
 * Progress for long work (model build, feature extraction, training, evaluation): a live bar with
 * an ETA on a terminal, and a line every 10% (with the ETA) when output is a log file or CI, so
 * progress is never silent and logs stay short. `startPhase` prints "phase k of n" headers for
 * work made of several such steps. They are for people running scripts: work run as a job
 * (`withoutProgressLines`) prints none, since a job reports its progress to the store and its
 * process's output is the JSON log.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, detail?: string): void;
  stop(): void;
}

const quiet = new AsyncLocalStorage<true>();

/** Runs `fn` so that no progress started within it (however deep) prints anything. */
export function withoutProgressLines<T>(fn: () => T): T {
  return quiet.run(true, fn);
}

const SILENT: Progress = { update: () => {}, stop: () => {} };

export function startProgress(label: string, total: number): Progress {
  if (quiet.getStore()) return SILENT;
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar({
      format: `${label.padEnd(28)} [{bar}] {percentage}% {value}/{total} ETA {eta_formatted} {detail}`,
      stream: process.stderr,
      hideCursor: true,
    }, cliProgress.Presets.shades_classic);
    bar.start(total, 0, { detail: '' });
    return { update: (done, detail = '') => bar.update(done, { detail }), stop: () => bar.stop() };
  }
  let nextTenth = 1;
  const started = Date.now();
  return {
    update(done, detail = '') {
      while (total > 0 && done >= (nextTenth * total) / 10) {
        const eta = done < total ? ` ETA ${formatDuration(((Date.now() - started) * (total - done)) / done)}` : '';
        process.stderr.write(`${label}: ${Math.round((done / total) * 100)}% (${done}/${total})${eta} ${detail}\n`);
        nextTenth++;
      }
    },
    stop() {
      process.stderr.write(`${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    },
  };
}

/** 95 s -> '1 min 35 s'. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/**
 * Headers of a job made of `count` phases: "[phase k of n] <what>", with the time elapsed so far
 * and, when the caller knows how long the remaining phases usually take, an ETA.
 */
export function startPhases(label: string, count: number) {
  const started = Date.now();
  let index = 0;
  return {
    next(what: string, remainingMs?: number): void {
      index++;
      if (quiet.getStore()) return;
      const elapsed = formatDuration(Date.now() - started);
      const eta = remainingMs !== undefined ? `, ETA ${formatDuration(remainingMs)}` : '';
      process.stderr.write(`[${label} phase ${index} of ${count}] ${what} (elapsed ${elapsed}${eta})\n`);
    },
    done(): number {
      return Date.now() - started;
    },
  };
}
