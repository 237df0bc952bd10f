/**
 * The table of benchmark suites. `loadSuite(name)` only looks a name up and loads it; each loader
 * is deterministic (fixed seed, recorded caps), so the same name always gives the same suite.
 * Loaders share parsed sources within a process (e.g. `wordnet` and `wordnet-domains` parse the
 * dictionary once; both emoji suites render once), and `loadSuite` memoises finished suites.
 * Mixed-family suites (`text-mixed`, `image-mixed`) pool the training tasks of their members.
 */
import { loadBrown } from './brown.ts';
import { loadEmoji, loadEmojiSubcategory } from './emoji.ts';
import { buildMixedSuite, MIXED_SPECS, type MixedSpec } from './mixed.ts';
import { loadMnist } from './mnist.ts';
import type { Suite } from './types.ts';
import { loadWordnetDomains, loadWordnetSupersenses } from './wordnet.ts';

export const SUITES = Object.freeze({
  wordnet: loadWordnetSupersenses,
  'wordnet-domains': loadWordnetDomains,
  brown: loadBrown,
  emoji: loadEmoji,
  'emoji-subcategory': loadEmojiSubcategory,
  mnist: loadMnist,
  'text-mixed': () => loadMixed(MIXED_SPECS['text-mixed']),
  'image-mixed': () => loadMixed(MIXED_SPECS['image-mixed']),
} as const);

/** Short names for tables and charts (the README results table). */
export const SUITE_TITLES: Readonly<Record<keyof typeof SUITES, string>> = Object.freeze({
  wordnet: 'WordNet supersenses',
  'wordnet-domains': 'WordNet topic domains',
  brown: 'Brown genres',
  emoji: 'emoji identity across styles',
  'emoji-subcategory': 'emoji subcategories',
  mnist: 'MNIST, cross-domain from emoji',
  'text-mixed': 'text, mixed families',
  'image-mixed': 'images, mixed families',
});

/** A mixed-family suite from its members, each loaded (and memoised) through `loadSuite`. */
async function loadMixed(spec: MixedSpec): Promise<Suite> {
  return buildMixedSuite(spec, await Promise.all(spec.families.map((f) => loadSuite(f))));
}

export type SuiteName = keyof typeof SUITES;
export const SUITE_NAMES = Object.keys(SUITES) as SuiteName[];

export function isSuiteName(name: string): name is SuiteName {
  return Object.hasOwn(SUITES, name);
}

const loaded = new Map<SuiteName, Promise<Suite>>();

/** Load a suite by name; rejects, listing the valid names, when `name` is not one. */
export async function loadSuite(name: string): Promise<Suite> {
  if (!isSuiteName(name)) {
    throw new Error(`unknown suite "${name}"; expected one of: ${SUITE_NAMES.join(', ')}`);
  }
  let suite = loaded.get(name);
  if (suite === undefined) {
    const load = SUITES[name];
    suite = Promise.resolve().then(load);
    suite.catch(() => loaded.delete(name));
    loaded.set(name, suite);
  }
  return suite;
}
