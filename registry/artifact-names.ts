/**
 * Names under which training stores its artifacts in the registry, and the methods and parameter
 * names that mark them. Writers and readers both build names here, so a stored artifact is always
 * found under the name it was stored with. (An adapter head's tensors are named in adapter-head.ts.)
 *
 *   lift/<suite or zoo>                     the LiFT prior trained on a suite's tasks or a zoo
 *   zoo/<suite>/<task>                      a per-task adapter LiFT training stores (method `zoo`)
 *   <suite>                                 the registry zoo seeded with those adapters
 *   meta/<suite>/<method>                   a competitor's meta-learned start
 *   meta/<suite>/independent/<task>         an independently fine-tuned LoRA (method `zoo-independent`)
 *   independent-<suite>                     the registry zoo of those LoRAs
 *   meta/<suite>/mbc/<variant>/<cluster>    an MBC cluster LoRA (method `mbc-cluster`)
 */

/** Task ids may hold ':' (e.g. WordNet synsets); adapter names may not. */
const nameSegment = (taskId: string): string => taskId.replaceAll(':', '-');

export const priorName = (suiteOrZoo: string): string => `lift/${suiteOrZoo}`;
export const zooAdapterName = (suite: string, taskId: string): string => `zoo/${suite}/${nameSegment(taskId)}`;
/** The registry zoo seeded from a bundled suite's per-task adapters has the suite's name. */
export const seededZooName = (suite: string): string => suite;
export const metaAdapterName = (suite: string, method: string): string => `meta/${suite}/${method}`;
/** Relative to `metaAdapterName`'s suite: the name part of an independent LoRA. */
export const independentAdapterPart = (taskId: string): string => `independent/${nameSegment(taskId)}`;
/** Relative to `metaAdapterName`'s suite: the name part of an MBC cluster LoRA. */
export const mbcClusterPart = (variant: string, cluster: number): string => `mbc/${variant}/${cluster}`;
/** The registry zoo of a suite's independently fine-tuned per-task LoRAs. */
export const independentZooName = (suite: string): string => `independent-${suite}`;

/** Methods of stored adapters that no fit request produces (they are not in the method table). */
export const STORED_METHODS = {
  /** A per-task adapter LiFT training stores beside its prior. */
  zoo: 'zoo',
  /** An independently fine-tuned LoRA (the zoo LoRA-retriever and MBC start from). */
  zooIndependent: 'zoo-independent',
  mbcCluster: 'mbc-cluster',
  /** A PEFT import whose files name no method. */
  peftImport: 'peft-import',
} as const;

/** Parameter of a zoo member: the task's embedding, which retrieval ranks members by. */
export const TASK_EMBEDDING = 'task_embedding';
