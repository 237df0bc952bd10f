/**
 * Turns a loader's raw labelled examples into a `Suite`: the same de-duplication, per-class cap,
 * minimum class size, class split and training tasks for every data source, so the loaders only
 * parse their format and the protocol is defined in one place.
 */
import { createRng, shuffled } from '../adapters/rng.ts';
import { splitClasses, type SplitLayout } from './splits.ts';
import { DEFAULT_TRAIN_TASKS, makeTrainTasks } from './train-tasks.ts';
import type { Example, Modality, Suite, SuiteCaps, TrainTaskOptions } from './types.ts';

export interface RawSuite {
  readonly name: string;
  readonly modality: Modality;
  readonly description: string;
  readonly source: string;
  readonly licence: string;
  /** Every example the source has, by label, in source order (not yet capped). */
  readonly examplesByClass: ReadonlyMap<string, readonly Example[]>;
  readonly caps: SuiteCaps;
  readonly layout: SplitLayout;
  readonly trainTasks?: TrainTaskOptions;
}

/** Default seed of every suite: changing it re-draws all caps, splits and tasks. */
export const SUITE_SEED = 20250;

export function buildSuite(raw: RawSuite): Suite {
  const unique = dropAmbiguous(raw.examplesByClass);
  const examplesByClass = new Map<string, readonly Example[]>();
  for (const cls of [...unique.keys()].sort()) {
    const examples = unique.get(cls) ?? [];
    if (examples.length < raw.caps.minPerClass) continue;
    examplesByClass.set(cls, capClass(cls, examples, raw.caps));
  }
  const classes = [...examplesByClass.keys()];
  const split = splitClasses(classes, raw.caps.seed, raw.layout);
  const taskOptions =
    raw.layout === 'test-only' ? { ...DEFAULT_TRAIN_TASKS, count: 0 } : (raw.trainTasks ?? DEFAULT_TRAIN_TASKS);
  const trainTasks = makeTrainTasks(raw.name, split.train, examplesByClass, raw.caps.seed, taskOptions);
  return {
    name: raw.name,
    modality: raw.modality,
    classes,
    examplesByClass,
    split,
    trainTasks,
    trainTaskOptions: taskOptions,
    caps: raw.caps,
    description: raw.description,
    source: raw.source,
    licence: raw.licence,
  };
}

/**
 * Keep the first copy of each content hash within a class, and drop hashes that occur under more
 * than one label: such an example has no single right answer, and a hash must name one example.
 */
function dropAmbiguous(
  byClass: ReadonlyMap<string, readonly Example[]>,
): Map<string, readonly Example[]> {
  const labelsOf = new Map<string, Set<string>>();
  for (const [cls, examples] of byClass) {
    for (const ex of examples) {
      const labels = labelsOf.get(ex.hash) ?? new Set<string>();
      labels.add(cls);
      labelsOf.set(ex.hash, labels);
    }
  }
  const out = new Map<string, readonly Example[]>();
  for (const [cls, examples] of byClass) {
    const seen = new Set<string>();
    const kept: Example[] = [];
    for (const ex of examples) {
      if (seen.has(ex.hash) || (labelsOf.get(ex.hash)?.size ?? 0) > 1) continue;
      seen.add(ex.hash);
      kept.push(ex);
    }
    out.set(cls, kept);
  }
  return out;
}

/** A seeded sample of at most `maxPerClass` examples, kept in source order. */
function capClass(cls: string, examples: readonly Example[], caps: SuiteCaps): readonly Example[] {
  if (examples.length <= caps.maxPerClass) return examples;
  const indices = examples.map((_, i) => i);
  const kept = shuffled(indices, createRng(caps.seed).fork(`cap:${cls}`))
    .slice(0, caps.maxPerClass)
    .sort((a, b) => a - b);
  return kept.map((i) => examples[i]);
}
