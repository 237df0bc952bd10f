/**
 * The nouns of the benchmark layer: an example, a suite of labelled examples with its class split
 * and fixed meta-training tasks, and a task spec that names examples by content hash.
 *
 * Examples are identified by the sha256 of their content (not by position or file name), so the
 * feature cache downstream is shared by every suite, task file and request that holds the same
 * text or pixels, and a re-upload can never return stale features.
 */
import type { RgbImage } from '../backbone/image.ts';

export type Modality = 'text' | 'image';
export type SplitName = 'train' | 'val' | 'test';

export interface Example {
  /** sha256 (hex) of the canonical content, see `content-hash.ts`. */
  readonly hash: string;
  readonly label: string;
  readonly text?: string;
  readonly image?: RgbImage;
  /**
   * Examples sharing a group (e.g. one emoji drawn in several styles, or sentences of one Brown
   * document) are never split between the support and query sets of an episode, so a query is
   * never answered by a near-copy of itself.
   */
  readonly group?: string;
  /** Rendering style of an image (e.g. `google`, `twitter`, `openmoji`), for cross-style reports. */
  readonly style?: string;
}

/** A meta-training task: N classes of a suite and the examples (by hash) each class contributes. */
export interface TaskSpec {
  readonly id: string;
  readonly classes: readonly string[];
  /** exampleHashes[c] are the hashes of class `classes[c]`'s examples in this task. */
  readonly exampleHashes: readonly (readonly string[])[];
}

/** How a suite was cut down from its source: recorded so a reported number can be reproduced. */
export interface SuiteCaps {
  /** Examples kept per class at most (seeded sample); classes with more are subsampled. */
  readonly maxPerClass: number;
  /** Classes with fewer examples (after de-duplication) are dropped. */
  readonly minPerClass: number;
  /** Seed of the subsampling, the class split and the training tasks. */
  readonly seed: number;
}

/** How the fixed meta-training tasks of a suite were drawn. */
export interface TrainTaskOptions {
  /** Number of tasks. */
  readonly count: number;
  /** Classes per task. */
  readonly nWay: number;
  /** Examples per class in a task (fewer when a class has fewer). */
  readonly examplesPerClass: number;
}

export interface ClassSplit {
  readonly train: readonly string[];
  readonly val: readonly string[];
  readonly test: readonly string[];
}

export interface Suite {
  readonly name: string;
  readonly modality: Modality;
  /** All kept classes, sorted. */
  readonly classes: readonly string[];
  readonly examplesByClass: ReadonlyMap<string, readonly Example[]>;
  /** Disjoint meta-train / meta-validation / meta-test classes. */
  readonly split: ClassSplit;
  /** Fixed meta-training tasks drawn from `split.train` (empty for test-only suites). */
  readonly trainTasks: readonly TaskSpec[];
  readonly trainTaskOptions: TrainTaskOptions;
  readonly caps: SuiteCaps;
  readonly description: string;
  /** Where the data comes from (package and files). */
  readonly source: string;
  readonly licence: string;
  /**
   * Mixed-family suites only (benchmarks/mixed.ts): the member suites whose training tasks were
   * pooled, in order. Classes are `<family>/<label>`; validation and test run per family.
   */
  readonly families?: readonly string[];
}
