/**
 * The meta-test protocol of each suite: shots, queries per class and episode count, and which
 * suite's meta-training a suite borrows when it has none of its own (cross-domain suites).
 * Emoji identity classes hold three renderings, so they allow 1-shot with 2 queries only; their
 * episodes are noisy, hence twice as many (DESIGN.md §6).
 */
import { MIXED_SPECS } from './mixed.ts';
import type { SuiteName } from './suites.ts';

export interface SuiteProtocol {
  readonly nWay: number;
  readonly shots: readonly number[];
  readonly queriesPerClass: number;
  readonly episodes: number;
  /** Suite whose training classes the prior and meta-learners are fitted on. */
  readonly trainOn: SuiteName;
  /**
   * Mixed-family suites: validation and test run on each member suite's own episodes (with that
   * member's protocol), under what was trained on this suite.
   */
  readonly families?: readonly SuiteName[];
}

const standard = { nWay: 5, shots: [1, 5], queriesPerClass: 15, episodes: 300 } as const;

export const PROTOCOLS: Readonly<Record<SuiteName, SuiteProtocol>> = Object.freeze({
  wordnet: { ...standard, trainOn: 'wordnet' },
  'wordnet-domains': { ...standard, trainOn: 'wordnet-domains' },
  brown: { ...standard, trainOn: 'brown' },
  emoji: { nWay: 5, shots: [1], queriesPerClass: 2, episodes: 600, trainOn: 'emoji' },
  'emoji-subcategory': { ...standard, trainOn: 'emoji-subcategory' },
  mnist: { ...standard, trainOn: 'emoji' },
  'text-mixed': { ...standard, trainOn: 'text-mixed', families: MIXED_SPECS['text-mixed'].families },
  'image-mixed': { ...standard, trainOn: 'image-mixed', families: MIXED_SPECS['image-mixed'].families },
});

/**
 * What one suite's validation or test is made of: (family suite, its protocol) pairs. A plain
 * suite is its own single family; a mixed suite lists its members.
 */
export function evaluationFamilies(suite: SuiteName): { family: SuiteName; protocol: SuiteProtocol }[] {
  const families = PROTOCOLS[suite].families ?? [suite];
  return families.map((family) => ({ family, protocol: family === suite ? PROTOCOLS[suite] : PROTOCOLS[family] }));
}

/** Seed of the meta-test episodes: fixed, so every method and every run sees the same ones. */
export const EPISODE_SEED = 2025;
