/**
 * `npm run bench:auto`: chooses `method: auto`'s rule (closeness threshold, nearest members,
 * likelihood gate, fallback) per modality on meta-validation episodes only. On the in-domain suite
 * (the one a seeded zoo was trained on) and the held-out suites that have validation classes, it
 * scores every route auto can take and auto's signals once per episode, then keeps the rule that
 * maximises auto's mean accuracy over those cells. Writes the choice to reports/auto-val.json
 * (a modality not measured keeps its entry); `npm run report:auto` reports it on meta-test.
 * It never reads the meta-test split.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { AUTO_VAL_FILE, parseModalities, seededCandidates, DOMAINS, measured, objective, pct, PRIOR_FREE, ruleText, TOP_MEMBERS, type AutoValChoice, type Cell } from '../benchmarks/auto-bench.ts';
import type { Modality } from '../registry/types.ts';
import { AUTO_SETTINGS, type AutoSettings, type ZooPriorCandidate } from '../service/auto.ts';
import { startPhases } from '../service/progress.ts';
import { Runtime } from '../service/runtime.ts';
import { integerAtLeast } from './cli-options.ts';

const opts = new Command('bench:auto')
  .description('choose method auto\'s rule per modality on meta-validation episodes; writes reports/auto-val.json (npm run report:auto reports it on meta-test).')
  .option('--modalities <list>', 'text, image or both', 'text,image')
  .option('--episodes <n>', 'episodes per suite and shot count (default: each suite protocol)', integerAtLeast(1))
  .option('--registry <url>', 'registry URL (sqlite:<path> or postgres://…); seeded zoos are trained into it when missing')
  .option('--reuse', 'reuse the per-episode measurements data/bench-auto/ saved for the same priors, zoo versions and episodes (a new rule grid then costs seconds; the code they were measured with is printed)')
  .parse()
  .opts<{ modalities: string; episodes?: number; registry?: string; reuse?: boolean }>();

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

async function main(): Promise<void> {
  const modalities = parseModalities(opts.modalities);
  const rt = await Runtime.open({ registryUrl: opts.registry });
  const phases = startPhases('bench:auto', modalities.length * 2);
  const choices: Partial<Record<Modality, AutoValChoice>> = existsSync(AUTO_VAL_FILE) ? JSON.parse(readFileSync(AUTO_VAL_FILE, 'utf8')) : {};
  try {
    for (const modality of modalities) {
      phases.next(`${modality}: seed zoo '${DOMAINS[modality].inDomain}' (trained only when the registry lacks it)`);
      const candidates = await seededCandidates(rt, modality);
      phases.next(`${modality}: every route and signal on meta-validation episodes; choose the rule`);
      const val = await measured(rt, modality, 'val', candidates, opts);
      const { settings, score, range } = chooseRule(val, candidates);
      console.log(`  val-chosen rule: ${ruleText(settings)} (val mean ${pct(score)}, reached by thresholds ${range[0]}..${range[1]}; server rule ${ruleText(AUTO_SETTINGS[modality])}: ${pct(objective(val, AUTO_SETTINGS[modality], candidates))})`);
      choices[modality] = {
        // --reuse only skips re-measuring the same episodes, so it is not part of how to reproduce
        command: `npm run bench:auto -- ${process.argv.slice(2).filter((a) => a !== '--reuse').join(' ')}`.trim(),
        episodes: opts.episodes ?? 'protocol', createdAt: new Date().toISOString(),
        zoos: candidates.map((c) => `${c.zoo} v${c.zooVersion} (prior ${c.prior.name} v${c.prior.version})`),
        cells: val.map((c) => `${c.suite} ${c.shots}-shot`), settings, valMean: score, thresholdRange: range,
      };
    }
  } finally {
    await rt.close();
  }
  mkdirSync(path.dirname(AUTO_VAL_FILE), { recursive: true });
  writeFileSync(AUTO_VAL_FILE, `${JSON.stringify(choices, null, 2)}\n`);
  console.log(`wrote ${AUTO_VAL_FILE}; npm run report:auto reports the rule on meta-test`);
}

main().catch((err: unknown) => {
  console.error(`bench:auto: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
