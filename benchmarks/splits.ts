/**
 * Disjoint class splits (meta-train / meta-validation / meta-test) and their record.
 *
 * Splits are computed from a seed every time a suite loads; `splits.json` (written by
 * `scripts/make-splits.ts`) records the result, and a test checks that loading reproduces it, so
 * a changed data package or sampling rule cannot silently move a class from test to train.
 */
import { readFileSync } from 'node:fs';
import { createRng, shuffled } from '../adapters/rng.ts';
import { digestTasks } from './train-tasks.ts';
import type { ClassSplit, Suite } from './types.ts';

/** `meta`: classes split three ways; `test-only`: a cross-domain suite, every class in test. */
export type SplitLayout = 'meta' | 'test-only';

/** Fraction of the classes held out for validation, and again for test. */
export const HELD_OUT_FRACTION = 0.2;
/** Fewest classes in a held-out split, so 5-way episodes are possible. */
export const MIN_HELD_OUT = 5;

export function splitClasses(classes: readonly string[], seed: number, layout: SplitLayout): ClassSplit {
  const sorted = [...classes].sort();
  if (layout === 'test-only') return { train: [], val: [], test: sorted };
  const held = Math.max(MIN_HELD_OUT, Math.round(HELD_OUT_FRACTION * sorted.length));
  if (sorted.length < 3 * held) {
    throw new Error(`a meta split needs at least ${3 * held} classes, got ${sorted.length}`);
  }
  const order = shuffled(sorted, createRng(seed).fork('class-split'));
  return {
    test: order.slice(0, held).sort(),
    val: order.slice(held, 2 * held).sort(),
    train: order.slice(2 * held).sort(),
  };
}

/** What splits.json holds for one suite. */
export interface RecordedSuite {
  readonly seed: number;
  readonly maxPerClass: number;
  readonly minPerClass: number;
  readonly classCount: number;
  readonly exampleCount: number;
  readonly examplesPerSplit: { readonly train: number; readonly val: number; readonly test: number };
  readonly split: ClassSplit;
  readonly trainTasks: {
    readonly count: number;
    readonly nWay: number;
    readonly examplesPerClass: number;
    readonly digest: string;
  };
}

export function recordSuite(suite: Suite): RecordedSuite {
  const count = (classes: readonly string[]): number =>
    classes.reduce((n, cls) => n + (suite.examplesByClass.get(cls)?.length ?? 0), 0);
  return {
    seed: suite.caps.seed,
    maxPerClass: suite.caps.maxPerClass,
    minPerClass: suite.caps.minPerClass,
    classCount: suite.classes.length,
    exampleCount: count(suite.classes),
    examplesPerSplit: {
      train: count(suite.split.train),
      val: count(suite.split.val),
      test: count(suite.split.test),
    },
    split: suite.split,
    trainTasks: {
      count: suite.trainTasks.length,
      nWay: suite.trainTaskOptions.nWay,
      examplesPerClass: suite.trainTaskOptions.examplesPerClass,
      digest: digestTasks(suite.trainTasks),
    },
  };
}

export const SPLITS_PATH = new URL('./splits.json', import.meta.url);

/** The committed record, keyed by suite name ({} when the file does not exist yet). */
export function readRecordedSplits(): Record<string, RecordedSuite> {
  try {
    return JSON.parse(readFileSync(SPLITS_PATH, 'utf8')) as Record<string, RecordedSuite>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}
