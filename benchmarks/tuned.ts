/**
 * The committed record of what meta-validation chose: `benchmarks/tuned/<suite>.json`, written by
 * `npm run tune` and read by `npm run eval` (and shown in every report). For each method and shot
 * count it holds the chosen settings (test-time steps, learning rate, the method's own knobs) and
 * every grid point's validation accuracy, so a choice can be checked and re-made by anyone.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A method's settings: steps, lr and its own knobs (k, variant, …). */
export type TunedOptions = Readonly<Record<string, number | string>>;

/** One grid point's validation result (accuracy pooled over the families' episodes). */
export interface GridResult {
  readonly method: string;
  readonly shots: number;
  readonly options: TunedOptions;
  /** Mean validation accuracy over families (each family's mean over its episodes). */
  readonly accuracy: number;
  /** Per family: mean accuracy and 95% CI half-width. */
  readonly families: Readonly<Record<string, { accuracy: number; ci95: number }>>;
  /** Fit + predict time per task (ms, mean over episodes): what the setting costs. */
  readonly msPerTask: number;
  /** The settings as resolved (e.g. the MAML inner loop an empty setting replays). */
  readonly config?: Readonly<Record<string, unknown>>;
}

export interface TunedFile {
  readonly suite: string;
  readonly split: 'val';
  /** Validation episodes per family and shot count. */
  readonly episodes: number;
  readonly episodeSeed: number;
  readonly createdAt: string;
  /** The LiFT prior (and so the competitors' meta-training run) the choices were made under. */
  readonly priorId?: string;
  /** The command that produced this file. */
  readonly command: string;
  /** Methods that take another method's choice (LiFT posterior: LiFT-MAP's fit). */
  readonly follows?: Readonly<Record<string, string>>;
  /** method -> shots -> chosen settings. */
  readonly choices: Readonly<Record<string, Readonly<Record<string, TunedOptions>>>>;
  readonly results: readonly GridResult[];
}

export const TUNED_DIR = new URL('./tuned/', import.meta.url).pathname;

export const tunedPath = (suite: string, dir = TUNED_DIR): string => path.join(dir, `${suite}.json`);

/** The recorded choices of a suite, or null when it was never tuned. */
export function readTuned(suite: string, dir = TUNED_DIR): TunedFile | null {
  const file = tunedPath(suite, dir);
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as TunedFile;
}

/**
 * Merges `update` into what is recorded (methods tuned now replace their old entries, others are
 * kept), so tuning a subset of methods never loses the rest. Returns the path written.
 */
export function writeTuned(update: TunedFile, dir = TUNED_DIR): string {
  const old = readTuned(update.suite, dir);
  const tunedNow = new Set(Object.keys(update.choices));
  const merged: TunedFile = old === null ? update : {
    ...update,
    // Both runs made the file: keep both commands (a subset run does not re-make the others).
    command: [...new Set([...old.command.split('; '), update.command])].join('; '),
    follows: { ...old.follows, ...update.follows },
    choices: { ...old.choices, ...update.choices },
    results: [...old.results.filter((r) => !tunedNow.has(r.method)), ...update.results],
  };
  mkdirSync(dir, { recursive: true });
  const file = tunedPath(update.suite, dir);
  writeFileSync(file, `${JSON.stringify(merged, null, 1)}\n`);
  return file;
}

/**
 * Whose recorded choices a suite's eval uses: its own, or, for a suite with no meta-validation
 * classes (cross-domain MNIST: every class is test), those chosen on the validation of the suite
 * it was trained on, the only validation there is; shot counts that suite has no choice for run
 * with the defaults.
 */
export function settingsSuiteFor(suite: string, valClasses: number, trainOn: string): string {
  return valClasses > 0 ? suite : trainOn;
}

/** The chosen settings of a method at a shot count, or null when none were recorded. */
export function chosenOptions(tuned: TunedFile | null, method: string, shots: number): TunedOptions | null {
  return tuned?.choices[method]?.[String(shots)] ?? null;
}

/**
 * The best grid point: highest accuracy; a point within `tolerance` of the best that comes
 * earlier in the grid (grids list cheaper settings first) wins, so noise does not buy cost.
 */
export function pickBest<T extends { accuracy: number }>(points: readonly T[], tolerance = 0): T {
  if (points.length === 0) throw new Error('pickBest: no grid points');
  const best = Math.max(...points.map((p) => p.accuracy));
  return points.find((p) => p.accuracy >= best - tolerance)!;
}
