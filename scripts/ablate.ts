/**
 * `npm run ablate -- --suite wordnet`: LiFT variants trained in-process on the same training
 * tasks and warm start, each evaluated as LiFT-MAP (test-time settings as `npm run tune` chose
 * them, else the defaults) on the same meta-**validation** episodes: K ∈ {1, 2, 4, 8}, without
 * the cached J, the exact conjugate φ draw, a σ²/β² grid, and the mixture hierarchy. Ablations
 * inform choices, so they never look at the meta-test split. Nothing
 * is stored in the registry except cached features. Writes reports/ablation-<suite>.{json,md,png}.
 */
import { Command } from 'commander';
import type { LiftConfig } from '../adapters/lift.ts';
import { liftMap } from '../adapters/method.ts';
import { createRng } from '../adapters/rng.ts';
import { sampleEpisodes } from '../benchmarks/episodes.ts';
import { evaluate } from '../benchmarks/protocol.ts';
import { EPISODE_SEED, PROTOCOLS } from '../benchmarks/protocols.ts';
import { toMarkdown, toReportRow, writeSuiteReport, type ReportRow } from '../benchmarks/report.ts';
import { loadSuite, SUITE_NAMES, type SuiteName } from '../benchmarks/suites.ts';
import { featureLookup } from '../service/features.ts';
import { chosenOptions, readTuned } from '../benchmarks/tuned.ts';
import { DEFAULT_BUDGET, fitOptionsFrom } from '../service/methods.ts';
import { priorConfigFor, runLift, trainingTaskData, warmStart, type PriorTrainConfig } from '../service/train-prior.ts';
import { Runtime } from '../service/runtime.ts';

interface Variant {
  readonly name: string;
  readonly cfg?: Partial<PriorTrainConfig>;
  readonly sampler?: Partial<LiftConfig>;
}

const VARIANTS: readonly Variant[] = [
  { name: 'default (K=4)' },
  { name: 'K=1', cfg: { K: 1 } },
  { name: 'K=2', cfg: { K: 2 } },
  { name: 'K=8', cfg: { K: 8 } },
  { name: 'no J', sampler: { useJ: false } },
  { name: 'exact φ draw', sampler: { phiUpdate: 'gibbs' } },
  // SGLD on θ_i is stable only for η < 2σ² (the prior term's curvature is 1/σ²), so η shrinks with σ².
  { name: 'σ²=1e-4', cfg: { sigma2: 1e-4, stepSize: 1e-4 } },
  { name: 'σ²=1e-2', cfg: { sigma2: 1e-2 } },
  { name: 'β²=0.1', cfg: { beta2: 0.1 } },
  { name: 'β²=10', cfg: { beta2: 10 } },
  { name: 'mixture hierarchy K=4', sampler: { hierarchy: { kind: 'mixture', K: 4 } } },
  { name: 'pooled start', cfg: { pooledSteps: 800 } },
];

const program = new Command()
  .name('ablate')
  .requiredOption('--suite <name>', `one of: ${SUITE_NAMES.join(', ')}`)
  .option('--episodes <n>', 'validation episodes per shot count', '300')
  .option('--registry <url>', 'registry URL (sqlite:<path> or postgres://…) (feature cache)')
  .option('--out <dir>', 'report directory', 'reports')
  .parse();
const opts = program.opts<{ suite: string; episodes: string; registry?: string; out: string }>();

async function main(): Promise<void> {
  if (!(SUITE_NAMES as string[]).includes(opts.suite)) program.error(`--suite: unknown suite '${opts.suite}'; valid: ${SUITE_NAMES.join(', ')}`);
  const count = Number(opts.episodes);
  if (!Number.isInteger(count) || count < 2) program.error(`--episodes: expected an integer >= 2, got '${opts.episodes}'`);
  const protocol = PROTOCOLS[opts.suite as SuiteName];
  const runtime = await Runtime.open({ registryUrl: opts.registry });
  try {
    const trainSuite = await loadSuite(protocol.trainOn);
    const suite = await loadSuite(opts.suite);
    const backbone = await runtime.backbones.forModality(suite.modality);
    const layer = backbone.encoder.layer;
    const { data } = await trainingTaskData(runtime.store, backbone, trainSuite);
    const valExamples = suite.split.val.flatMap((cls) => suite.examplesByClass.get(cls) ?? []);
    const { lookup } = await featureLookup(runtime.store, backbone, valExamples, `${suite.name} val features`);
    const tuned = readTuned(opts.suite);
    const base = priorConfigFor(protocol.trainOn);
    const warm = warmStart(layer, data, base);
    const rows: ReportRow[] = [];
    const trainSeconds: Record<string, number> = {};
    for (const variant of VARIANTS) {
      const cfg = { ...base, ...variant.cfg };
      const started = Date.now();
      const start = variant.cfg?.pooledSteps === undefined ? warm : warmStart(layer, data, cfg);
      const { prior } = runLift(layer, data, cfg, variant.sampler, start, `LiFT ${variant.name}`);
      trainSeconds[variant.name] = (Date.now() - started) / 1000;
      for (const kShot of protocol.shots) {
        const chosen = fitOptionsFrom(chosenOptions(tuned, 'lift-map', kShot) ?? {});
        const method = { ...liftMap(prior, layer, { ...DEFAULT_BUDGET, ...chosen, rank: cfg.rank, alpha: cfg.alpha, a0Seed: cfg.a0Seed, tau: cfg.tau }), name: variant.name };
        const episodes = sampleEpisodes(suite, 'val', { nWay: protocol.nWay, kShot, queriesPerClass: protocol.queriesPerClass, count, seed: EPISODE_SEED });
        rows.push(toReportRow(evaluate(method, episodes, lookup, { seed: createRng(EPISODE_SEED).fork('lift-map').seed }), kShot));
      }
    }
    const report = {
      suite: `ablation-${opts.suite}`, trainedOn: protocol.trainOn, baseModel: backbone.baseModel.name,
      protocol: { nWay: protocol.nWay, queriesPerClass: protocol.queriesPerClass, episodes: count, episodeSeed: EPISODE_SEED },
      createdAt: new Date().toISOString(),
      split: 'val' as const,
      methods: { base, variants: VARIANTS, trainSeconds, budget: DEFAULT_BUDGET, testTime: tuned?.choices['lift-map'] ?? 'defaults (no tuned file)' },
      rows: [...rows].sort((a, b) => a.shots - b.shots),
    };
    console.log(toMarkdown(report));
    console.log(`wrote ${(await writeSuiteReport(opts.out, report)).join(', ')}`);
  } finally {
    await runtime.close();
  }
}

main().catch((err: unknown) => {
  console.error(`ablate: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
