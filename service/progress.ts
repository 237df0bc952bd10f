/**
 * Progress for long work (model build, feature extraction, training, evaluation): a live bar on a
 * terminal, and a line every 10% when output is a log file or CI, so progress is never silent
 * and logs stay short.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, detail?: string): void;
  stop(): void;
}

export function startProgress(label: string, total: number): Progress {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar({
      format: `${label.padEnd(28)} [{bar}] {percentage}% {value}/{total} {detail}`,
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
        process.stderr.write(`${label}: ${Math.round((done / total) * 100)}% (${done}/${total}) ${detail}\n`);
        nextTenth++;
      }
    },
    stop() {
      process.stderr.write(`${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    },
  };
}
