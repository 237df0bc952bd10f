/**
 * `npm run bench:auto`: does `method: auto` pick the right prior, or none? Per modality, on the
 * seeded episodes of an in-domain suite (the suite a seeded zoo was trained on) and of suites no
 * zoo covers (held out from every zoo), it scores every route auto can take (LiFT-MAP under each
 * zoo's prior, each prior-free method) and auto's signals (closeness to each zoo, support
 * likelihood gain under each prior) once per episode. The rule (threshold, nearest members,
 * likelihood gate, fallback) is chosen on meta-validation episodes only, maximising auto's mean
 * accuracy over the val cells; then meta-test reports auto with that rule and with the server's
 * AUTO_SETTINGS against the prior-free methods and the in-domain prior.
 *
 * Auto's accuracy on an episode is the accuracy of the route it picks there, the route having
 * been run on that episode with its own seeded stream, exactly as a fit under auto would run it.
 * Writes reports/auto.{md,json}; a modality not measured in this run keeps the section it has
 * there (each section names the command and episodes it was measured with).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { applyRule, supportLikelihoodGain, type AutoRule } from '../adapters/auto-choice.ts';
import { taskEmbedding } from '../adapters/lora-retriever.ts';
import { createRng } from '../adapters/rng.ts';
import { meanWithCi95 } from '../benchmarks/metrics.ts';
import { evaluate } from '../benchmarks/protocol.ts';
import { EPISODE_SEED } from '../benchmarks/protocols.ts';
import { loadSuite, type SuiteName } from '../benchmarks/suites.ts';
import type { Modality } from '../registry/types.ts';
import { AUTO_SETTINGS, autoCandidates, type AutoSettings, type ZooPriorCandidate } from '../service/auto.ts';
import { createMethod, methodContext, type MethodName } from '../service/methods.ts';
import { startPhases } from '../service/progress.ts';
import { Runtime } from '../service/runtime.ts';
import { codeVersion } from '../service/runs.ts';
import { seedZoo } from '../service/seed-zoos.ts';
import { suiteEpisodes } from '../service/suite-episodes.ts';
import { integerAtLeast } from './cli-options.ts';

/**
 * Per modality: the suite of its seeded zoo (in-domain) and suites no zoo covers. A held-out suite
 * without validation classes (MNIST, test-only) is measured on test only; the image rule is then
 * chosen on emoji and emoji-subcategory validation (subcategory tasks on the same images: a task
 * family the emoji zoo does not hold).
 */
const DOMAINS: Readonly<Record<Modality, { inDomain: SuiteName; heldOut: readonly SuiteName[] }>> = {
  text: { inDomain: 'wordnet', heldOut: ['brown'] },
  image: { inDomain: 'emoji', heldOut: ['emoji-subcategory', 'mnist'] },
};
const PRIOR_FREE: readonly MethodName[] = ['prototypes', 'linear-probe', 'independent'];
const TOP_MEMBERS = [1, 3, 5, 10] as const;

const opts = new Command('bench:auto')
  .description('method auto against the prior-free methods and the in-domain prior; its rule chosen on meta-validation episodes.')
  .option('--modalities <list>', 'text, image or both', 'text,image')
  .option('--episodes <n>', 'episodes per suite and shot count (default: each suite protocol)', integerAtLeast(1))
  .option('--registry <url>', 'registry URL (sqlite:<path> or postgres://…); seeded zoos are trained into it when missing')
  .option('--out <dir>', 'report directory', 'reports')
  .option('--reuse', 'reuse the per-episode measurements data/bench-auto/ saved for the same priors, zoo versions and episodes (a new rule grid then costs seconds; the code they were measured with is printed)')
  .parse()
  .opts<{ modalities: string; episodes?: number; registry?: string; out: string; reuse?: boolean }>();

/** One (suite, shots, split) cell: per route its per-episode accuracy, per candidate its signals. */
interface Cell {
  readonly suite: SuiteName;
  readonly domain: 'in-domain' | 'held-out';
  readonly shots: number;
  readonly routes: Map<string, number[]>;
  /** [candidate][episode]: top cosines (descending, up to 10) and the likelihood gain. */
  readonly signals: { top: number[]; gain: number | null }[][];
}

const routeOfPrior = (c: ZooPriorCandidate): string => `lift-map@${c.zoo}`;

async function measure(rt: Runtime, modality: Modality, split: 'val' | 'test', candidates: ZooPriorCandidate[]): Promise<Cell[]> {
  const backbone = await rt.forModality(modality);
  const layer = backbone.encoder.layer;
  const free = await methodContext(rt.store, layer, null);
  const cells: Cell[] = [];
  const suites = [['in-domain', DOMAINS[modality].inDomain] as const, ...DOMAINS[modality].heldOut.map((s) => ['held-out', s] as const)];
  for (const [domain, suite] of suites) {
    if (split === 'val' && (await loadSuite(suite)).split.val.length === 0) {
      console.log(`  val: ${suite} has no validation classes; measured on test only`);
      continue;
    }
    for (const family of await suiteEpisodes(rt.store, backbone, suite, { split, count: opts.episodes })) {
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
async function measured(rt: Runtime, modality: Modality, split: 'val' | 'test', candidates: ZooPriorCandidate[]): Promise<Cell[]> {
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
  const cells = await measure(rt, modality, split, candidates);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ key, code: await codeVersion(), cells: cells.map((c) => ({ ...c, routes: Object.fromEntries(c.routes) })) }));
  return cells;
}

const mean = (a: readonly number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
const pct = (v: number): string => (100 * v).toFixed(1);

/** Auto's per-episode accuracies in a cell under a rule, and how often it used a prior. */
function autoOnCell(cell: Cell, settings: AutoSettings, candidates: readonly ZooPriorCandidate[]): { acc: number[]; priorShare: number } {
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

const objective = (cells: readonly Cell[], s: AutoSettings, c: readonly ZooPriorCandidate[]): number => mean(cells.map((cell) => mean(autoOnCell(cell, s, c).acc)));

/** The rule maximising auto's mean val accuracy; among equal thresholds the middle one. */
function chooseRule(val: readonly Cell[], candidates: readonly ZooPriorCandidate[]): { settings: AutoSettings; score: number; range: [number, number] } {
  const thresholds = [-1, ...Array.from({ length: 101 }, (_, i) => i / 100), 2];
  let best: { settings: AutoSettings; score: number; range: [number, number] } | null = null;
  for (const fallback of PRIOR_FREE) for (const topMembers of TOP_MEMBERS) for (const likelihoodGate of [false, true]) {
    const scores = thresholds.map((minCloseness) => objective(val, { minCloseness, topMembers, likelihoodGate, fallback }, candidates));
    const top = Math.max(...scores);
    if (best !== null && top <= best.score + 1e-12) continue;
    const argmaxes = thresholds.filter((_, i) => scores[i] >= top - 1e-12);
    best = { settings: { minCloseness: argmaxes[Math.floor(argmaxes.length / 2)], topMembers, likelihoodGate, fallback }, score: top, range: [argmaxes[0], argmaxes.at(-1)!] };
  }
  return best!;
}

function ci(a: readonly number[]): string {
  const m = meanWithCi95(a);
  return `${pct(m.mean)} ± ${pct(m.ci95)}`;
}

interface ModalityReport {
  readonly modality: Modality;
  /** How this section was measured (sections of other modalities may come from earlier runs). */
  readonly command: string;
  readonly episodes: number | 'protocol';
  readonly zoos: string[];
  readonly chosen: AutoSettings;
  readonly server: AutoSettings;
  readonly lines: string[];
  readonly checks: { cell: string; claim: string; auto: number; reference: number; pass: boolean }[];
}

function report(modality: Modality, test: readonly Cell[], chosen: AutoSettings, candidates: readonly ZooPriorCandidate[]): ModalityReport {
  const server = AUTO_SETTINGS[modality];
  const routes = [...test[0].routes.keys()];
  const lines = [
    `| suite (domain) | shots | auto (val rule) | prior used | auto (server rule) | ${routes.join(' | ')} |`,
    `|---|---:|---:|---:|---:|${routes.map(() => '---:').join('|')}|`,
  ];
  const checks: ModalityReport['checks'] = [];
  for (const cell of test) {
    const a = autoOnCell(cell, chosen, candidates);
    const s = autoOnCell(cell, server, candidates);
    lines.push(`| ${cell.suite} (${cell.domain}) | ${cell.shots} | ${ci(a.acc)} | ${(100 * a.priorShare).toFixed(0)}% | ${ci(s.acc)} | ${routes.map((r) => ci(cell.routes.get(r)!)).join(' | ')} |`);
    const name = `${cell.suite} ${cell.shots}-shot`;
    const bestFree = Math.max(...PRIOR_FREE.map((m) => mean(cell.routes.get(m)!)));
    checks.push({ cell: name, claim: 'auto >= best prior-free', auto: mean(a.acc), reference: bestFree, pass: mean(a.acc) >= bestFree - 1e-12 });
    const own = candidates.find((c) => c.zoo === cell.suite);
    if (cell.domain === 'in-domain' && own) {
      const inPrior = mean(cell.routes.get(routeOfPrior(own))!);
      checks.push({ cell: name, claim: 'auto >= in-domain prior', auto: mean(a.acc), reference: inPrior, pass: mean(a.acc) >= inPrior - 1e-12 });
    }
  }
  return {
    // --reuse only skips re-measuring the same episodes, so it is not part of how to reproduce
    modality, command: `npm run bench:auto -- ${process.argv.slice(2).filter((a) => a !== '--reuse').join(' ')}`.trim(), episodes: opts.episodes ?? 'protocol',
    zoos: candidates.map((c) => `${c.zoo} v${c.zooVersion} (prior ${c.prior.name} v${c.prior.version})`), chosen, server, lines, checks,
  };
}

/** The sections of reports/auto.json for modalities this run does not measure (a section written before sections named their command gets the file's). */
function keptSections(file: string, measured: readonly Modality[]): ModalityReport[] {
  if (!existsSync(file)) return [];
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { episodes?: number | 'protocol'; reports?: (Omit<ModalityReport, 'command' | 'episodes'> & Partial<ModalityReport>)[] };
  return (saved.reports ?? []).filter((r) => !measured.includes(r.modality)).map((r) => ({
    ...r, episodes: r.episodes ?? saved.episodes ?? 'protocol',
    command: r.command ?? `npm run bench:auto -- --modalities ${r.modality}${typeof saved.episodes === 'number' ? ` --episodes ${saved.episodes}` : ''}`,
  }));
}

const ruleText = (s: AutoSettings): string =>
  `closeness ≥ ${s.minCloseness} (mean cosine to the ${s.topMembers} nearest members), likelihood gate ${s.likelihoodGate ? 'on' : 'off'}, fallback ${s.fallback}`;

async function main(): Promise<void> {
  const modalities = opts.modalities.split(',').map((m) => m.trim()) as Modality[];
  for (const m of modalities) if (!(m in DOMAINS)) throw new Error(`--modalities: expected text and/or image, got '${m}'`);
  const rt = await Runtime.open({ registryUrl: opts.registry });
  const phases = startPhases('bench:auto', modalities.length * 3);
  const reports: ModalityReport[] = [];
  try {
    for (const modality of modalities) {
      phases.next(`${modality}: seed zoo '${DOMAINS[modality].inDomain}' (trained only when the registry lacks it)`);
      await seedZoo(rt, DOMAINS[modality].inDomain);
      const backbone = await rt.forModality(modality);
      const candidates = await autoCandidates(rt.store, backbone.encoder.layer, backbone.baseModel.sha256);
      phases.next(`${modality}: every route and signal on meta-validation episodes; choose the rule`);
      const val = await measured(rt, modality, 'val', candidates);
      const { settings, score, range } = chooseRule(val, candidates);
      console.log(`  val-chosen rule: ${ruleText(settings)} (val mean ${pct(score)}, reached by thresholds ${range[0]}..${range[1]}; server rule ${ruleText(AUTO_SETTINGS[modality])}: ${pct(objective(val, AUTO_SETTINGS[modality], candidates))})`);
      phases.next(`${modality}: meta-test`);
      const r = report(modality, await measured(rt, modality, 'test', candidates), settings, candidates);
      reports.push(r);
      console.log(r.lines.join('\n'));
      for (const c of r.checks) console.log(`  ${c.pass ? 'pass' : 'MISS'} ${c.cell}: ${c.claim}: ${pct(c.auto)} vs ${pct(c.reference)}`);
    }
  } finally {
    await rt.close();
  }
  const jsonFile = path.join(opts.out, 'auto.json');
  const all = [...keptSections(jsonFile, modalities), ...reports].sort((a, b) => a.modality.localeCompare(b.modality));
  const md = [
    '# method auto: the right prior for the task, or none',
    '',
    '5-way; accuracy %, mean ± 95% CI over the seeded meta-test episodes. Each modality\'s rule is chosen on meta-validation episodes of its suites that have validation classes; "prior used" is the share of test episodes where auto fitted LiFT-MAP under a zoo\'s prior.',
    ...all.flatMap((r) => [
      '', `## ${r.modality}`, '', `Reproduce: \`${r.command}\` (${r.episodes === 'protocol' ? 'each suite\'s protocol episode count' : `${r.episodes} episodes per suite and shot count`}). Zoos: ${r.zoos.join('; ')}.`, '',
      `Rule chosen on val: ${ruleText(r.chosen)}. Server rule (service/auto.ts) when measured: ${ruleText(r.server)}${
        JSON.stringify(r.server) === JSON.stringify(AUTO_SETTINGS[r.modality]) ? '' : `; the server rule is now ${ruleText(AUTO_SETTINGS[r.modality])}`}.`, '',
      ...r.lines, '',
      ...r.checks.map((c) => `- ${c.pass ? 'pass' : '**miss**'}: ${c.cell}, ${c.claim}: ${pct(c.auto)} vs ${pct(c.reference)}`),
    ]),
  ];
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(path.join(opts.out, 'auto.md'), `${md.join('\n')}\n`);
  writeFileSync(jsonFile, `${JSON.stringify({ createdAt: new Date().toISOString(), reports: all }, null, 2)}\n`);
  console.log(`wrote ${path.join(opts.out, 'auto.md')}, ${path.join(opts.out, 'auto.json')}`);
}

main().catch((err: unknown) => {
  console.error(`bench:auto: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
