/**
 * The seeded episodes a suite is validated or tested on, with their cached backbone features:
 * one entry per family (a plain suite is its own family; a mixed-family suite has one per member,
 * each on the member's own protocol and episodes). Training (early stopping), `tune` (val) and
 * `eval` (test) all draw them here, so they see the same episodes.
 */
import type { SupportSet } from '../adapters/adapt.ts';
import type { LabelledSet } from '../adapters/task-likelihood.ts';
import { sampleEpisodes, type Episode } from '../benchmarks/episodes.ts';
import { EPISODE_SEED, evaluationFamilies, type SuiteProtocol } from '../benchmarks/protocols.ts';
import { loadSuite, type SuiteName } from '../benchmarks/suites.ts';
import type { Example, Suite } from '../benchmarks/types.ts';
import type { RegistryStore } from '../registry/store.ts';
import type { LoadedBackbone } from './backbones.ts';
import { featureLookup } from './features.ts';

export interface FamilyEpisodes {
  readonly family: SuiteName;
  readonly suite: Suite;
  readonly protocol: SuiteProtocol;
  /** Shot count -> episodes. */
  readonly episodes: ReadonlyMap<number, readonly Episode[]>;
  readonly lookup: (ex: Example) => Float32Array;
}

export interface EpisodeRequest {
  readonly split: 'val' | 'test';
  /** Shot counts (default: each family's protocol); counts a family's protocol lacks are skipped. */
  readonly shots?: readonly number[];
  /** Episodes per family and shot count (default: each family's protocol). */
  readonly count?: number;
}

export async function suiteEpisodes(
  store: RegistryStore, backbone: LoadedBackbone<unknown>, suiteName: SuiteName, req: EpisodeRequest,
): Promise<FamilyEpisodes[]> {
  const out: FamilyEpisodes[] = [];
  for (const { family, protocol } of evaluationFamilies(suiteName)) {
    const suite = await loadSuite(family);
    const examples = suite.split[req.split].flatMap((cls) => suite.examplesByClass.get(cls) ?? []);
    const { lookup } = await featureLookup(store, backbone, examples, `${family} ${req.split} features`);
    const shots = (req.shots ?? protocol.shots).filter((k) => protocol.shots.includes(k));
    const episodes = new Map(shots.map((kShot) => [kShot, sampleEpisodes(suite, req.split, {
      nWay: protocol.nWay, kShot, queriesPerClass: protocol.queriesPerClass, count: req.count ?? protocol.episodes, seed: EPISODE_SEED,
    })]));
    out.push({ family, suite, protocol, episodes, lookup });
  }
  return out;
}

/** Episodes as feature rows (support set, labelled query), e.g. for early stopping during training. */
export function featureEpisodes(families: readonly FamilyEpisodes[]): { support: SupportSet; query: LabelledSet; nWay: number }[] {
  return families.flatMap((f) => [...f.episodes.values()].flat().map((ep) => ({
    support: { features: ep.support.map(f.lookup), labels: ep.supportLabels },
    query: { features: ep.query.map(f.lookup), labels: ep.queryLabels },
    nWay: ep.classes.length,
  })));
}
