/**
 * What `npm run bench:auto` (choose the rule on meta-validation) and `npm run report:auto` (the
 * final meta-test report under that rule) share: per modality the in-domain suite and the suites
 * no zoo covers, every route auto can take and auto's signals measured once per episode, and
 * auto's accuracy on those measurements under a rule.
 *
 * Auto's accuracy on an episode is the accuracy of the route it picks there, the route having
 * been run on that episode with its own seeded stream, exactly as a fit under auto would run it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { applyRule, supportLikelihoodGain } from '../adapters/auto-choice.ts';
import { taskEmbedding } from '../adapters/lora-retriever.ts';
import { createRng } from '../adapters/rng.ts';
import type { Modality } from '../registry/types.ts';
import { autoCandidates, type AutoSettings, type ZooPriorCandidate } from '../service/auto.ts';
import { createMethod, methodContext, type MethodName } from '../service/methods.ts';
import type { Runtime } from '../service/runtime.ts';
import { codeVersion } from '../service/runs.ts';
import { seedZoo } from '../service/seed-zoos.ts';
import { suiteEpisodes } from '../service/suite-episodes.ts';
import { meanWithCi95 } from './metrics.ts';
import { evaluate } from './protocol.ts';
import { EPISODE_SEED } from './protocols.ts';
import { loadSuite, type SuiteName } from './suites.ts';

/**
 * Per modality: the suite of its seeded zoo (in-domain) and suites no zoo covers. A held-out suite
 * without validation classes (MNIST, test-only) is measured on test only; the image rule is then
 * chosen on emoji and emoji-subcategory validation (subcategory tasks on the same images: a task
 * family the emoji zoo does not hold).
 */
export const DOMAINS: Readonly<Record<Modality, { inDomain: SuiteName; heldOut: readonly SuiteName[] }>> = {
  text: { inDomain: 'wordnet', heldOut: ['brown'] },
  image: { inDomain: 'emoji', heldOut: ['emoji-subcategory', 'mnist'] },
};
export const PRIOR_FREE: readonly MethodName[] = ['prototypes', 'linear-probe', 'independent'];
export const TOP_MEMBERS = [1, 3, 5, 10] as const;

/** One (suite, shots, split) cell: per route its per-episode accuracy, per candidate its signals. */
export interface Cell {
  readonly suite: SuiteName;
  readonly domain: 'in-domain' | 'held-out';
  readonly shots: number;
  readonly routes: Map<string, number[]>;
  /** [candidate][episode]: top cosines (descending, up to 10) and the likelihood gain. */
  readonly signals: { top: number[]; gain: number | null }[][];
}

export const routeOfPrior = (c: ZooPriorCandidate): string => `lift-map@${c.zoo}`;

/** The modalities of a `--modalities` list; throws on anything else. */
export function parseModalities(list: string): Modality[] {
  const modalities = list.split(',').map((m) => m.trim()) as Modality[];
  for (const m of modalities) if (!(m in DOMAINS)) throw new Error(`--modalities: expected text and/or image, got '${m}'`);
  return modalities;
}

/** The zoo priors auto can choose from for a modality, after seeding its in-domain zoo when the registry lacks it. */
export async function seededCandidates(rt: Runtime, modality: Modality): Promise<ZooPriorCandidate[]> {
  await seedZoo(rt, DOMAINS[modality].inDomain);
  const backbone = await rt.forModality(modality);
  return autoCandidates(rt.store, backbone.encoder.layer, backbone.baseModel.sha256);
}

export interface MeasureOptions {
  /** Episodes per suite and shot count (default: each suite's protocol). */
  readonly episodes?: number;
  /** Reuse data/bench-auto/ measurements made for the same priors, zoo versions and episodes. */
  readonly reuse?: boolean;
}

async function measure(rt: Runtime, modality: Modality, split: 'val' | 'test', candidates: ZooPriorCandidate[], count?: number): Promise<Cell[]> {
  const backbone = await rt.forModality(modality);
  const layer = backbone.encoder.layer;
  const free = await methodContext(rt.store, layer, null);
  const cells: Cell[] = [];
  const suites = [['in-domain', DOMAINS[modality].inDomain] as const, ...DOMAINS[modality].heldOut.map((s) => ['held-out', s] as const)];
  for (const [domain, suite] of suites) {
    if (split === 'val' && (await loadSuite(suite)).split.val.length === 0) {
      console.log(`  val: ${suite} has no validation classes; it is only in the meta-test report`);
      continue;
    }
    for (const family of await suiteEpisodes(rt.store, backbone, suite, { split, count })) {
      for (const [shots, episodes] of family.episodes) {
        const routes = new Map<string, number[]>();
        const run = (name: string, method: ReturnType<typeof createMethod>['method']) => {
          const r = evaluate({ ...method, name }, episodes, family.lookup, { seed: createRng(EPISODE_SEED).fork(name).seed });
          routes.set(name, r.perEpisode.map((e) => e.accuracy));
        };
        for (const m of PRIOR_FREE) run(m, createMethod(m, free).method);
        for (const c of candidates) run(routeOfPrior(c), createMethod('lift-map', await methodContext(rt.store, layer, c.prior)).method);
        const signals = candidates.map((c) => episodes.map((ep) => {
          const features = ep.support.map(family.lookup);
          const e = taskEmbedding(layer, features);
          const top = c.candidate.embeddings.map((m) => m.reduce((s, v, j) => s + v * e[j], 0)).sort((a, b) => b - a).slice(0, 10);
          return { top, gain: supportLikelihoodGain(layer, c.candidate, features, ep.supportLabels, ep.classes.length) };
        }));
        cells.push({ suite: family.family, domain, shots, routes, signals });
        console.log(`  ${split} ${family.family} ${shots}-shot: ${[...routes].map(([n, a]) => `${n} ${pct(mean(a))}`).join(', ')}`);
      }
    }
  }
  return cells;
}

/** measure(), or with --reuse the saved measurements of the same priors, zoo versions and episodes. */
export async function measured(
  rt: Runtime, modality: Modality, split: 'val' | 'test', candidates: ZooPriorCandidate[], opts: MeasureOptions,
): Promise<Cell[]> {
  const key = JSON.stringify({ episodes: opts.episodes ?? null, zoos: candidates.map((c) => [c.zoo, c.zooVersion, c.prior.id]) });
  const file = path.join('data', 'bench-auto', `${modality}-${split}.json`);
  if (opts.reuse && existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { key: string; code: string | null; cells: (Omit<Cell, 'routes'> & { routes: Record<string, number[]> })[] };
    if (saved.key === key) {
      console.log(`  ${split}: reusing ${file} (measured with code ${saved.code ?? 'unknown'})`);
      return saved.cells.map((c) => ({ ...c, routes: new Map(Object.entries(c.routes)) }));
    }
    console.log(`  ${file} was measured for other priors, zoo versions or episodes; measuring again`);
  }
  const cells = await measure(rt, modality, split, candidates, opts.episodes);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ key, code: await codeVersion(), cells: cells.map((c) => ({ ...c, routes: Object.fromEntries(c.routes) })) }));
  return cells;
}

export const mean = (a: readonly number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
export const pct = (v: number): string => (100 * v).toFixed(1);

/** Auto's per-episode accuracies in a cell under a rule, and how often it used a prior. */
export function autoOnCell(cell: Cell, settings: AutoSettings, candidates: readonly ZooPriorCandidate[]): { acc: number[]; priorShare: number } {
  const n = cell.routes.get(settings.fallback)!.length;
  let withPrior = 0;
  const acc = Array.from({ length: n }, (_, i) => {
    const scores = cell.signals.map((perEp) => {
      const { top, gain } = perEp[i];
      const k = Math.min(settings.topMembers, top.length);
      return { closeness: mean(top.slice(0, k)), likelihoodGain: gain };
    });
    const chosen = applyRule(scores, settings);
    if (chosen === null) return cell.routes.get(settings.fallback)![i];
    withPrior++;
    return cell.routes.get(routeOfPrior(candidates[chosen]))![i];
  });
  return { acc, priorShare: withPrior / n };
}

export const objective = (cells: readonly Cell[], s: AutoSettings, c: readonly ZooPriorCandidate[]): number => mean(cells.map((cell) => mean(autoOnCell(cell, s, c).acc)));

export function ci(a: readonly number[]): string {
  const m = meanWithCi95(a);
  return `${pct(m.mean)} ± ${pct(m.ci95)}`;
}

/** The rule `npm run bench:auto` chose on meta-validation, as `npm run report:auto` reads it. */
export const AUTO_VAL_FILE = new URL('../reports/auto-val.json', import.meta.url).pathname;

export interface AutoValChoice {
  readonly command: string;
  readonly episodes: number | 'protocol';
  readonly createdAt: string;
  readonly zoos: string[];
  /** The validation cells the rule was chosen on. */
  readonly cells: string[];
  readonly settings: AutoSettings;
  readonly valMean: number;
  /** Thresholds that reached the same val mean (the middle one is kept). */
  readonly thresholdRange: [number, number];
}

export const ruleText = (s: AutoSettings): string =>
  `closeness ≥ ${s.minCloseness} (mean cosine to the ${s.topMembers} nearest members), likelihood gate ${s.likelihoodGate ? 'on' : 'off'}, fallback ${s.fallback}`;
