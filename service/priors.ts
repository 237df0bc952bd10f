/**
 * Which prior a fit or comparison runs under: the one a request names (`prior: {id}` or
 * `{name, version?}`), else the newest prior trained on a zoo the task belongs to, else the
 * newest prior of the task's base model (null when none was trained).
 */
import { ConflictError, orNull } from '../registry/errors.ts';
import type { RegistryStore } from '../registry/store.ts';
import type { Prior, PriorSummary, Task } from '../registry/types.ts';
import { allPages } from '../registry/pages.ts';

export interface PriorRef {
  readonly id?: string;
  readonly name?: string;
  /** Default: the newest version of the name. */
  readonly version?: number;
}

/** Every prior of a base model, newest first. */
export async function allPriors(store: RegistryStore, baseModelSha: string): Promise<PriorSummary[]> {
  return allPages((token, size) => store.listPriors({ baseModelSha }, token, size));
}

/** Names of the zoos (of the task's base model) that hold the task as a live member. */
export async function zoosOfTask(store: RegistryStore, task: Task): Promise<string[]> {
  const names: string[] = [];
  for (const z of await allPages((token, size) => store.listZoos({ baseModelSha: task.baseModelSha }, token, size))) {
    if ((await store.listZooMembers(z.name)).some((m) => m.taskId === task.id)) names.push(z.name);
  }
  return names;
}

/**
 * The zoo a prior was trained from: `config.zoo`, or for a prior trained on a bundled suite the
 * zoo `npm start` seeds from it, which takes the suite's name (service/seed-zoos.ts).
 */
export const zooOfPrior = (p: PriorSummary): string | null =>
  (typeof p.config.zoo === 'string' ? p.config.zoo : typeof p.config.suite === 'string' ? p.config.suite : null);

export async function resolvePrior(store: RegistryStore, task: Task, ref?: PriorRef): Promise<Prior | null> {
  if (ref !== undefined) {
    const prior = ref.id !== undefined ? await store.getPrior(ref.id)
      : ref.version !== undefined ? await store.getPriorVersion(ref.name!, ref.version)
        : await store.getLatestPrior(task.baseModelSha, ref.name);
    if (prior.baseModelSha !== task.baseModelSha) {
      throw new ConflictError(`prior '${prior.name}' v${prior.version} was trained for another base model than task '${task.id}'`);
    }
    return prior;
  }
  const zoos = new Set(await zoosOfTask(store, task));
  if (zoos.size > 0) {
    const own = (await allPriors(store, task.baseModelSha)).find((p) => zoos.has(zooOfPrior(p) ?? ''));
    if (own) return store.getPrior(own.id);
  }
  return orNull(store.getLatestPrior(task.baseModelSha));
}
