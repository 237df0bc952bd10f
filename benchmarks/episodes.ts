/**
 * Seeded N-way K-shot episodes. Episode i is drawn from its own stream forked from
 * (seed, suite, split, i), so every method evaluated with the same seed sees exactly the same
 * episodes, the first 300 of 600 episodes equal a 300-episode run, and a 1-shot and a 5-shot run
 * with the same seed pick the same classes for episode i (a paired comparison).
 */
import { createRng, shuffled, type Rng } from '../adapters/rng.ts';
import type { Example, SplitName, Suite } from './types.ts';

export interface EpisodeOptions {
  readonly nWay: number;
  readonly kShot: number;
  readonly queriesPerClass: number;
  readonly count: number;
  readonly seed: number;
}

export interface Episode {
  readonly index: number;
  /** Integer label c stands for `classes[c]`. */
  readonly classes: readonly string[];
  readonly support: readonly Example[];
  readonly supportLabels: Int32Array;
  readonly query: readonly Example[];
  readonly queryLabels: Int32Array;
}

const groupOf = (ex: Example): string => ex.group ?? ex.hash;

/**
 * Whether a class always has `queriesPerClass` queries left after any `kShot` support draw:
 * support removes its examples' whole groups, at worst the `kShot` largest ones.
 */
export function canServe(examples: readonly Example[], kShot: number, queriesPerClass: number): boolean {
  const sizes = new Map<string, number>();
  for (const ex of examples) sizes.set(groupOf(ex), (sizes.get(groupOf(ex)) ?? 0) + 1);
  const largest = [...sizes.values()].sort((a, b) => b - a).slice(0, kShot);
  if (largest.length < kShot) return false;
  return examples.length - largest.reduce((a, b) => a + b, 0) >= queriesPerClass;
}

/** Classes of `split` with enough examples for K shots and the requested queries. */
export function eligibleClasses(
  suite: Suite,
  split: SplitName,
  kShot: number,
  queriesPerClass: number,
): string[] {
  return suite.split[split].filter((cls) =>
    canServe(suite.examplesByClass.get(cls) ?? [], kShot, queriesPerClass),
  );
}

function checkOptions(o: EpisodeOptions): void {
  for (const key of ['nWay', 'kShot', 'queriesPerClass', 'count'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) {
      throw new Error(`episode option ${key} must be a positive integer, got ${o[key]}`);
    }
  }
  if (o.nWay < 2) throw new Error(`episode option nWay must be at least 2, got ${o.nWay}`);
  if (!Number.isInteger(o.seed)) throw new Error(`episode option seed must be an integer, got ${o.seed}`);
}

/** Support first (K examples), then queries from groups the support did not touch. */
function drawClass(examples: readonly Example[], o: EpisodeOptions, rng: Rng): [Example[], Example[]] {
  const order = shuffled(examples, rng);
  const support = order.slice(0, o.kShot);
  const taken = new Set(support.map(groupOf));
  const query = order
    .slice(o.kShot)
    .filter((ex) => !taken.has(groupOf(ex)))
    .slice(0, o.queriesPerClass);
  return [support, query];
}

export function sampleEpisodes(suite: Suite, split: SplitName, options: EpisodeOptions): Episode[] {
  checkOptions(options);
  const pool = eligibleClasses(suite, split, options.kShot, options.queriesPerClass);
  if (pool.length < options.nWay) {
    throw new Error(
      `suite ${suite.name} split ${split}: ${options.nWay}-way ${options.kShot}-shot with ` +
        `${options.queriesPerClass} queries per class needs ${options.nWay} classes that have enough ` +
        `examples, but only ${pool.length} of ${suite.split[split].length} do`,
    );
  }
  const root = createRng(options.seed);
  return Array.from({ length: options.count }, (_, index) => {
    const rng = root.fork(`${suite.name}:${split}:episode:${index}`);
    const classes = shuffled(pool, rng).slice(0, options.nWay);
    const support: Example[] = [];
    const query: Example[] = [];
    const supportLabels: number[] = [];
    const queryLabels: number[] = [];
    classes.forEach((cls, c) => {
      const [s, q] = drawClass(suite.examplesByClass.get(cls) ?? [], options, rng.fork(cls));
      support.push(...s);
      query.push(...q);
      supportLabels.push(...s.map(() => c));
      queryLabels.push(...q.map(() => c));
    });
    return {
      index,
      classes,
      support,
      supportLabels: Int32Array.from(supportLabels),
      query,
      queryLabels: Int32Array.from(queryLabels),
    };
  });
}
