/**
 * Zoos are the users': any fitted adapter that can predict on its own task (LoRA factors plus a
 * prototype head) can be promoted into a named zoo, carrying its task embedding (normalised
 * mean frozen embedding of the task's inputs, adapters/lora-retriever.ts). Each promotion makes a
 * new zoo version; priors are trained from a version and retrieval ranks its members.
 */
import { taskEmbedding } from '../adapters/lora-retriever.ts';
import type { LabelledSet } from '../adapters/task-likelihood.ts';
import { hasHead } from '../registry/adapter-head.ts';
import { ConflictError, NotFoundError, ValidationError } from '../registry/errors.ts';
import type { Adapter, AdapterSummary, Split, Task, ZooChange, ZooMember, ZooRecord } from '../registry/types.ts';
import { noHeadMessage } from './adapter-heads.ts';
import type { AdapterRef, AdapterResolver } from './adapter-refs.ts';
import { exampleItems } from './tasks.ts';
import type { Runtime } from './runtime.ts';
import { adapterSummary } from '../registry/types.ts';

/** Examples that describe a task: what it is fitted and scored on. */
const TASK_SPLITS: readonly Split[] = ['support', 'train', 'val', 'query', 'test'];

/** Every labelled example of a task as feature rows (labels = index in the task's label set). */
export async function taskData(rt: Runtime, task: Task, splits: readonly Split[] = TASK_SPLITS): Promise<LabelledSet> {
  const examples = (await rt.store.listExamples(task.id)).filter((e) => splits.includes(e.split));
  if (examples.length === 0) throw new ConflictError(`task '${task.id}' has no examples in ${splits.join('/')}`);
  const backbone = await rt.taskBackbone(task);
  return {
    features: await rt.featurizer.features(backbone, await exampleItems(rt, examples)),
    labels: Int32Array.from(examples, (e) => task.labels.indexOf(e.label)),
  };
}

/** Why an adapter cannot join a zoo, or null when it can. */
function headProblem(a: Adapter): string | null {
  return a.taskId === null || !hasHead(a.extra, a.parameters) ? noHeadMessage(a) : null;
}

export interface PromoteOptions {
  readonly description?: string;
}

/**
 * Adds adapters to a zoo (created on first use, on the adapters' base model) as one new version.
 * Each needs its task (for the embedding) and a head; a newer adapter of a member's task
 * replaces the older one.
 */
export async function promoteAdapters(
  rt: Runtime, resolver: AdapterResolver, zooName: string, refs: readonly AdapterRef[], opts: PromoteOptions = {},
): Promise<ZooChange> {
  if (refs.length === 0) throw new ValidationError('adapters: expected at least one adapter to promote, got none');
  const adapters = await Promise.all(refs.map((ref, i) => resolver.resolve(ref, `adapters[${i}]`)));
  const add = [];
  for (const [i, summary] of adapters.entries()) {
    const adapter = await rt.store.getAdapter(summary.id);
    const problem = headProblem(adapter);
    if (problem) throw new ConflictError(`adapters[${i}]: ${problem}`);
    let task: Task;
    try {
      task = await rt.store.getTask(adapter.taskId!);
    } catch (err) {
      if (err instanceof NotFoundError) throw new ConflictError(`adapters[${i}]: task '${adapter.taskId}' of adapter '${adapter.name}' v${adapter.version} was deleted; a zoo member needs its task's examples`);
      throw err;
    }
    const backbone = await rt.taskBackbone(task);
    const data = await taskData(rt, task);
    add.push({ adapterId: adapter.id, taskId: task.id, embedding: taskEmbedding(backbone.encoder.layer, data.features) });
  }
  await rt.store.createZoo({ name: zooName, baseModel: adapters[0].baseModelSha, description: opts.description });
  return rt.store.changeZooMembers(zooName, add);
}

/** A zoo member with its adapter summary. */
export interface ZooEntryView {
  readonly member: ZooMember;
  readonly adapter: AdapterSummary;
}

/** Members of a zoo version with their adapters (default: the latest version). */
export async function zooEntries(rt: Runtime, zooName: string, version?: number): Promise<{ zoo: ZooRecord; version: number; entries: ZooEntryView[] }> {
  const zoo = await rt.store.getZoo(zooName);
  const members = await rt.store.listZooMembers(zooName, version);
  const entries = await Promise.all(members.map(async (member) => {
    const adapter = adapterSummary(await rt.store.getAdapter(member.adapterId));
    return { member, adapter };
  }));
  return { zoo, version: version ?? zoo.version, entries };
}
