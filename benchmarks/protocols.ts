/**
 * The meta-test protocol of each suite: shots, queries per class and episode count, and which
 * suite's meta-training a suite borrows when it has none of its own (cross-domain suites).
 * Emoji identity classes hold three renderings, so they allow 1-shot with 2 queries only; their
 * episodes are noisy, hence twice as many (DESIGN.md §6).
 */
import type { SuiteName } from './suites.ts';

export interface SuiteProtocol {
  readonly nWay: number;
  readonly shots: readonly number[];
  readonly queriesPerClass: number;
  readonly episodes: number;
  /** Suite whose training classes the prior and meta-learners are fitted on. */
  readonly trainOn: SuiteName;
}

const standard = { nWay: 5, shots: [1, 5], queriesPerClass: 15, episodes: 300 } as const;

export const PROTOCOLS: Readonly<Record<SuiteName, SuiteProtocol>> = Object.freeze({
  wordnet: { ...standard, trainOn: 'wordnet' },
  'wordnet-domains': { ...standard, trainOn: 'wordnet-domains' },
  brown: { ...standard, trainOn: 'brown' },
  emoji: { nWay: 5, shots: [1], queriesPerClass: 2, episodes: 600, trainOn: 'emoji' },
  'emoji-subcategory': { ...standard, trainOn: 'emoji-subcategory' },
  mnist: { ...standard, trainOn: 'emoji' },
});

/** Seed of the meta-test episodes: fixed, so every method and every run sees the same ones. */
export const EPISODE_SEED = 2025;
