/**
 * `npm run report:auto`: the final meta-test report of `method: auto`. Per modality it reads the
 * rule `npm run bench:auto` chose on meta-validation (reports/auto-val.json) and chooses nothing:
 * on the seeded meta-test episodes of the in-domain suite and the held-out suites it reports auto
 * under that rule and under the server's AUTO_SETTINGS against the prior-free methods and the
 * in-domain prior. Writes reports/auto.{md,json}; a modality not measured in this run keeps the
 * section it has there (each section names the command and episodes it was measured with).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { AUTO_VAL_FILE, parseModalities, seededCandidates, autoOnCell, ci, DOMAINS, mean, measured, pct, PRIOR_FREE, routeOfPrior, ruleText, type AutoValChoice, type Cell } from '../benchmarks/auto-bench.ts';
import type { Modality } from '../registry/types.ts';
import { AUTO_SETTINGS, type AutoSettings, type ZooPriorCandidate } from '../service/auto.ts';
import { startPhases } from '../service/progress.ts';
import { Runtime } from '../service/runtime.ts';
import { integerAtLeast } from './cli-options.ts';

const opts = new Command('report:auto')
  .description('method auto on meta-test under the rule npm run bench:auto chose on meta-validation, against the prior-free methods and the in-domain prior.')
  .option('--modalities <list>', 'text, image or both', 'text,image')
  .option('--episodes <n>', 'episodes per suite and shot count (default: each suite protocol)', integerAtLeast(1))
  .option('--registry <url>', 'registry URL (sqlite:<path> or postgres://…); seeded zoos are trained into it when missing')
  .option('--out <dir>', 'report directory', 'reports')
  .option('--reuse', 'reuse the per-episode measurements data/bench-auto/ saved for the same priors, zoo versions and episodes')
  .parse()
  .opts<{ modalities: string; episodes?: number; registry?: string; out: string; reuse?: boolean }>();

interface ModalityReport {
  readonly modality: Modality;
  /** How this section was measured (sections of other modalities may come from earlier runs). */
  readonly command: string;
  readonly episodes: number | 'protocol';
  readonly zoos: string[];
  readonly chosen: AutoSettings;
  /** Where the rule was chosen: bench:auto's command on meta-validation. */
  readonly chosenBy: string;
  readonly server: AutoSettings;
  readonly lines: string[];
  readonly checks: { cell: string; claim: string; auto: number; reference: number; pass: boolean }[];
}

function report(modality: Modality, test: readonly Cell[], choice: AutoValChoice, candidates: readonly ZooPriorCandidate[]): ModalityReport {
  const chosen = choice.settings;
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
    modality, command: `npm run report:auto -- ${process.argv.slice(2).filter((a) => a !== '--reuse').join(' ')}`.trim(), episodes: opts.episodes ?? 'protocol',
    zoos: candidates.map((c) => `${c.zoo} v${c.zooVersion} (prior ${c.prior.name} v${c.prior.version})`), chosen, chosenBy: choice.command, server, lines, checks,
  };
}

/** The sections of reports/auto.json for modalities this run does not measure (a section written before sections named their command gets the file's). */
function keptSections(file: string, measured: readonly Modality[]): ModalityReport[] {
  if (!existsSync(file)) return [];
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { episodes?: number | 'protocol'; reports?: (Omit<ModalityReport, 'command' | 'episodes' | 'chosenBy'> & Partial<ModalityReport>)[] };
  return (saved.reports ?? []).filter((r) => !measured.includes(r.modality)).map((r) => ({
    ...r, episodes: r.episodes ?? saved.episodes ?? 'protocol', chosenBy: r.chosenBy ?? r.command ?? 'npm run bench:auto',
    command: r.command ?? `npm run bench:auto -- --modalities ${r.modality}${typeof saved.episodes === 'number' ? ` --episodes ${saved.episodes}` : ''}`,
  }));
}

async function main(): Promise<void> {
  const modalities = parseModalities(opts.modalities);
  const choices: Partial<Record<Modality, AutoValChoice>> = existsSync(AUTO_VAL_FILE) ? JSON.parse(readFileSync(AUTO_VAL_FILE, 'utf8')) : {};
  for (const m of modalities) if (!choices[m]) throw new Error(`no rule chosen on validation for ${m}: run npm run bench:auto -- --modalities ${m} first`);
  const rt = await Runtime.open({ registryUrl: opts.registry });
  const phases = startPhases('report:auto', modalities.length * 2);
  const reports: ModalityReport[] = [];
  try {
    for (const modality of modalities) {
      phases.next(`${modality}: seed zoo '${DOMAINS[modality].inDomain}' (trained only when the registry lacks it)`);
      const candidates = await seededCandidates(rt, modality);
      phases.next(`${modality}: meta-test under the rule chosen on validation (${ruleText(choices[modality]!.settings)})`);
      const r = report(modality, await measured(rt, modality, 'test', candidates, opts), choices[modality]!, candidates);
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
      `Rule chosen on val by \`${r.chosenBy}\`: ${ruleText(r.chosen)}. Server rule (service/auto.ts) when measured: ${ruleText(r.server)}${
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
  console.error(`report:auto: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
