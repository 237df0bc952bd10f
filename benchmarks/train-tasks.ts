/**
 * The fixed set of meta-training tasks of a suite. LiFT, MAML, the LoRA zoo and every other
 * meta-learner train on exactly these tasks (the same classes and the same examples), so a
 * comparison between them is not confounded by which tasks each happened to see.
 */
import { createHash } from 'node:crypto';
import { createRng, shuffled } from '../adapters/rng.ts';
import type { Example, Suite, TaskSpec, TrainTaskOptions } from './types.ts';

export const DEFAULT_TRAIN_TASKS: TrainTaskOptions = { count: 200, nWay: 5, examplesPerClass: 20 };

/**
 * Draw `count` tasks of `nWay` distinct training classes each. Task i uses its own forked stream,
 * so task i does not change when `count` grows.
 */
export function makeTrainTasks(
  suiteName: string,
  trainClasses: readonly string[],
  examplesByClass: ReadonlyMap<string, readonly Example[]>,
  seed: number,
  options: TrainTaskOptions = DEFAULT_TRAIN_TASKS,
): TaskSpec[] {
  if (trainClasses.length === 0) return [];
  if (trainClasses.length < options.nWay) {
    throw new Error(
      `suite ${suiteName}: ${options.nWay}-way training tasks need ${options.nWay} training classes, got ${trainClasses.length}`,
    );
  }
  const root = createRng(seed).fork('train-tasks');
  const tasks: TaskSpec[] = [];
  for (let i = 0; i < options.count; i++) {
    const rng = root.fork(`task:${i}`);
    const classes = shuffled(trainClasses, rng).slice(0, options.nWay);
    const exampleHashes = classes.map((cls) =>
      shuffled(examplesByClass.get(cls) ?? [], rng.fork(cls))
        .slice(0, options.examplesPerClass)
        .map((ex) => ex.hash),
    );
    tasks.push({ id: `${suiteName}:train:${String(i).padStart(3, '0')}`, classes, exampleHashes });
  }
  return tasks;
}

/** sha256 over the task list, recorded in splits.json so a changed task set is detected. */
export function digestTasks(tasks: readonly TaskSpec[]): string {
  return createHash('sha256').update(JSON.stringify(tasks)).digest('hex');
}

/** A task's examples per class (aligned with `task.classes`), looked up in its suite. */
export function resolveTask(suite: Suite, task: TaskSpec): Example[][] {
  return task.classes.map((cls, c) => {
    const byHash = new Map((suite.examplesByClass.get(cls) ?? []).map((ex) => [ex.hash, ex]));
    return task.exampleHashes[c].map((hash) => {
      const ex = byHash.get(hash);
      if (ex === undefined) throw new Error(`task ${task.id}: class ${cls} has no example ${hash}`);
      return ex;
    });
  });
}
