/**
 * `method: auto`, the default of fit and compare: which prior (and so which zoo) suits this task,
 * or none. The candidates are the zoos of the task's base model that have a prior trained from
 * them; the rule (adapters/auto-choice.ts) scores each by how close the task's support lies to
 * the zoo's members and by the support likelihood under the prior, and fits LiFT-MAP under the
 * chosen prior, or the prior-free fallback when no zoo is close. The choice, every candidate's
 * scores and the reason are returned and stored with the adapter (training config `auto`).
 */
import { chooseAuto, type AutoCandidate, type AutoRule, type CandidateScore } from '../adapters/auto-choice.ts';
import type { SupportSet } from '../adapters/adapt.ts';
import type { LayerSpec } from '../adapters/lora.ts';
import type { JsonObject, Modality, Prior, PriorSummary, Task } from '../registry/types.ts';
import type { RegistryStore } from '../registry/store.ts';
import type { MethodName } from './methods.ts';
import { allPriors, resolvePrior, zooOfPrior, type PriorRef } from './priors.ts';
import { finiteOrUndefined } from '../registry/validate.ts';

export const AUTO_METHOD = 'auto';
export const AUTO_TITLE = 'Auto: LiFT-MAP under the prior of the closest zoo, or a prior-free method when no zoo is close';

/** What auto fits under a chosen prior. */
const PRIOR_METHOD: MethodName = 'lift-map';

export interface AutoSettings extends AutoRule {
  /** The prior-free method used when no zoo is close. */
  readonly fallback: MethodName;
}

/**
 * The rule per modality (closeness is measured in each backbone's own embedding space), chosen on
 * meta-validation episodes of an in-domain suite (a seeded zoo's) and a suite no zoo covers:
 * `npm run bench:auto` prints the choice and the meta-test figures (reports/auto.md).
 * text: chosen on 200 val episodes per cell of WordNet and Brown, 1 and 5 shots (val mean 49.5%,
 * as if each val cell had been given the better of the WordNet prior and prototypes; the
 * threshold is the middle of those reaching the best val mean).
 * image: chosen on 200 val episodes per cell of emoji (in-domain) and emoji-subcategory (a task
 * family the emoji zoo does not hold; MNIST has no validation classes). The emoji prior helped on
 * every val cell, so every threshold from -1 to 0.93 reached the best val mean (51.3%) and the
 * middle one was kept: on MNIST meta-test (closeness 0.86-0.94) auto then keeps the emoji prior
 * and loses to the prior-free methods (reports/auto.md); val has no image domain where the prior
 * hurts to place the threshold.
 */
export const AUTO_SETTINGS: Readonly<Record<Modality, AutoSettings>> = Object.freeze({
  text: { minCloseness: 0.75, topMembers: 1, likelihoodGate: false, fallback: 'prototypes' },
  image: { minCloseness: 0.46, topMembers: 1, likelihoodGate: false, fallback: 'prototypes' },
});

/** A zoo with the prior trained from it, as auto scores it. */
export interface ZooPriorCandidate {
  readonly zoo: string;
  readonly zooVersion: number;
  readonly prior: Prior;
  readonly candidate: AutoCandidate;
}

export interface AutoChoice {
  readonly method: MethodName;
  readonly prior: Prior | null;
  readonly zoo: { readonly name: string; readonly version: number } | null;
  readonly reason: string;
  readonly settings: AutoSettings;
  readonly candidates: readonly (CandidateScore & { readonly zoo: string; readonly zooVersion: number; readonly priorId: string })[];
}

const num = (v: unknown, fallback: number): number => finiteOrUndefined(v) ?? fallback;

/** The prior as a candidate: its heaviest component's mean with the rank, α and τ it was trained with. */
export function candidateOf(prior: Prior, layer: LayerSpec, embeddings: readonly Float32Array[]): AutoCandidate {
  let k = 0;
  for (let i = 1; i < prior.k; i++) if (prior.weights[i] > prior.weights[k]) k = i;
  const rank = prior.d / (layer.inDim + layer.outDim);
  return {
    embeddings, theta: prior.means.slice(k * prior.d, (k + 1) * prior.d), rank,
    alpha: num(prior.config.alpha, rank), tau: num(prior.config.tau, 10),
  };
}

/**
 * Every zoo of the base model with members and a prior trained from it (its newest), or only the
 * zoo of `only` when a request names the prior.
 */
export async function autoCandidates(store: RegistryStore, layer: LayerSpec, baseModelSha: string, only?: Prior): Promise<ZooPriorCandidate[]> {
  const priors: PriorSummary[] = only ? [only] : await allPriors(store, baseModelSha);
  const out: ZooPriorCandidate[] = [];
  const seen = new Set<string>();
  for (const summary of priors) {
    const zoo = zooOfPrior(summary);
    if (zoo === null || seen.has(zoo)) continue; // newest first: the first prior of a zoo is its newest
    seen.add(zoo);
    let members;
    try {
      members = await store.listZooMembers(zoo);
    } catch {
      continue; // the zoo was deleted; its prior stays usable by name
    }
    if (members.length === 0) continue;
    const prior = only ?? await store.getPrior(summary.id);
    if (prior.d % (layer.inDim + layer.outDim) !== 0) continue;
    const record = await store.getZoo(zoo);
    out.push({ zoo, zooVersion: record.version, prior, candidate: candidateOf(prior, layer, members.map((m) => m.embedding)) });
  }
  return out;
}

const f2 = (v: number): string => v.toFixed(2);

/** Chooses the prior (or none) for a support set; `priorRef` limits the candidates to that prior. */
export async function chooseForTask(
  store: RegistryStore, task: Task, layer: LayerSpec, support: SupportSet, nWay: number, priorRef?: PriorRef,
): Promise<AutoChoice> {
  const settings = AUTO_SETTINGS[task.modality];
  const only = priorRef ? (await resolvePrior(store, task, priorRef)) ?? undefined : undefined;
  const candidates = await autoCandidates(store, layer, task.baseModelSha, only);
  const decision = chooseAuto(layer, candidates.map((c) => c.candidate), support, nWay, settings);
  const scored = candidates.map((c, i) => ({ ...decision.scores[i], zoo: c.zoo, zooVersion: c.zooVersion, priorId: c.prior.id }));
  const describe = (i: number): string => {
    const s = decision.scores[i];
    const gain = s.likelihoodGain === null ? 'support likelihood undefined at 1 shot' : `support log-likelihood gain ${s.likelihoodGain.toFixed(3)}`;
    return `zoo '${candidates[i].zoo}' closeness ${f2(s.closeness)} (threshold ${f2(settings.minCloseness)}), ${gain}`;
  };
  if (decision.chosen !== null) {
    const c = candidates[decision.chosen];
    const others = candidates.length > 1 ? `; other zoos: ${candidates.map((_, i) => i).filter((i) => i !== decision.chosen).map(describe).join('; ')}` : '';
    return {
      method: PRIOR_METHOD, prior: c.prior, zoo: { name: c.zoo, version: c.zooVersion }, settings, candidates: scored,
      reason: `${describe(decision.chosen)}: ${PRIOR_METHOD} under prior '${c.prior.name}' v${c.prior.version}${others}`,
    };
  }
  const why = candidates.length === 0
    ? `no zoo of this base model has a trained prior${only ? ` (prior '${only.name}' v${only.version} has no zoo with members)` : ''}`
    : `no zoo is close enough: ${candidates.map((_, i) => describe(i)).join('; ')}`;
  return { method: settings.fallback, prior: null, zoo: null, settings, candidates: scored, reason: `${why}: prior-free ${settings.fallback}` };
}

/** The choice as stored with the adapter and the run, and returned by fit and compare. */
export function autoJson(a: AutoChoice): JsonObject {
  return {
    method: a.method, prior_id: a.prior?.id ?? null, zoo: a.zoo ? { name: a.zoo.name, version: a.zoo.version } : null, reason: a.reason,
    rule: { ...a.settings },
    candidates: a.candidates.map((c) => ({
      zoo: c.zoo, zoo_version: c.zooVersion, prior_id: c.priorId, closeness: c.closeness, likelihood_gain: c.likelihoodGain, close: c.close,
    })),
  };
}
