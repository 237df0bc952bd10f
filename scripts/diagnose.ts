/**
 * `npm run diagnose -- --suite <name>`: whether LiFT adapts, on the validation split.
 * Prints the stored prior's chain diagnostics (θ_i spread vs √(Dσ²), ESS, live components), then
 * per shot count, over the same seeded episodes: ‖θ_MAP − μ‖, the share of query predictions that
 * differ from "no fine-tuning" (prototypes under the chosen component mean μ), both accuracies,
 * and the posterior predictive (diagonal Laplace at θ_MAP) against MAP by NLL and ECE with 95%
 * confidence intervals over episodes. `--prior-scales 1,0.1,0.01` repeats it per test-time prior
 * scale λ (the prior's precision times λ) on the same episodes, or with `--tuned` at what LiFT-MAP
 * chose on val per shot count (the setting the reports evaluate); the figures are also written to
 * reports/diagnose-<suite>-<split>.{json,md}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { adaptMap, averagePredictive, predictQuery, prepareSupport, samplePosterior } from '../adapters/adapt.ts';
import { loraShape } from '../adapters/lora.ts';
import { scalePrior } from '../adapters/method.ts';
import { inducePrior } from '../adapters/mixture-prior.ts';
import { createRng } from '../adapters/rng.ts';
import { cacheRows } from '../adapters/task-likelihood.ts';
import { sampleEpisodes } from '../benchmarks/episodes.ts';
import { accuracy, argmax, expectedCalibrationError, meanWithCi95, negativeLogLikelihood, type MeanCi } from '../benchmarks/metrics.ts';
import { EPISODE_SEED, PROTOCOLS } from '../benchmarks/protocols.ts';
import { loadSuite, SUITE_NAMES, type SuiteName } from '../benchmarks/suites.ts';
import { chosenOptions, readTuned } from '../benchmarks/tuned.ts';
import { featureLookup } from '../service/features.ts';
import { findPrior } from '../service/meta-artifacts.ts';
import { DEFAULT_BUDGET, toMixturePrior } from '../service/methods.ts';
import { startProgress } from '../service/progress.ts';
import { Runtime } from '../service/runtime.ts';

const program = new Command()
  .name('diagnose')
  .description('Does LiFT adapt? Chain diagnostics of the stored prior and test-time movement, per shot count, on meta-validation episodes only.')
  .requiredOption('--suite <name>', `one of: ${SUITE_NAMES.join(', ')}`)
  .option('--shots <list>', 'comma-separated shot counts', '1,5')
  .option('--episodes <n>', 'episodes per shot count', '100')
  .option('--steps <n>', 'LiFT-MAP fine-tuning steps', String(DEFAULT_BUDGET.steps))
  .option('--lr <x>', 'LiFT-MAP learning rate of θ', String(DEFAULT_BUDGET.lr))
  .option('--head-lr <x>', 'learning rate of the cosine head (default: --lr)')
  .option('--samples <n>', 'posterior samples (Laplace)', '30')
  .option('--prior-scales <list>', 'comma-separated multipliers λ of the prior precision at test time', '1')
  .option('--tuned', 'per shot count, the steps, lr and λ LiFT-MAP chose on val (benchmarks/tuned/<suite>.json) instead of --steps, --lr and --prior-scales')
  .option('--registry <url>', 'registry URL (sqlite:<path> or postgres://…)')
  .parse();

const opts = program.opts<{ suite: string; shots: string; episodes: string; steps: string; lr: string; headLr?: string; samples: string; priorScales: string; tuned?: boolean; registry?: string }>();

function num(text: string, what: string, int = false): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v < 0 || (int && !Number.isInteger(v))) program.error(`--${what}: expected a ${int ? 'non-negative integer' : 'non-negative number'}, got '${text}'`);
  return v;
}

const fmt = (m: MeanCi, digits = 3) => `${m.mean.toFixed(digits)} ± ${m.ci95.toFixed(digits)}`;

interface Fit { readonly steps: number; readonly lr: number; readonly headLr?: number }

interface DiagnoseReport {
  readonly prior: string;
  readonly chain: unknown;
  /** Where each row's fit and λ came from. */
  readonly settings: string;
  readonly samples: number;
  readonly rows: readonly { priorScale: number; shots: number; fit: Fit; episodes: number; figures: Record<string, MeanCi> }[];
}

function writeReport(suite: string, split: string, r: DiagnoseReport): void {
  const base = new URL(`../reports/diagnose-${suite}-${split}`, import.meta.url).pathname;
  const command = `npm run diagnose -- ${process.argv.slice(2).join(' ')}`;
  mkdirSync(new URL('../reports/', import.meta.url).pathname, { recursive: true });
  writeFileSync(`${base}.json`, `${JSON.stringify({ suite, split, command, createdAt: new Date().toISOString(), ...r }, null, 1)}\n`);
  const pct = (m: MeanCi) => `${(100 * m.mean).toFixed(1)} ± ${(100 * m.ci95).toFixed(1)}`;
  const lines = [
    `# Does LiFT adapt? ${suite} (${split})`, '',
    `\`${command}\` — prior ${r.prior}; LiFT-MAP ${r.settings}; posterior: diagonal Laplace at θ_MAP, ${r.samples} samples.`, '',
    `Chain: ${JSON.stringify(r.chain)}`, '',
    '| λ | shots | steps, lr | episodes | ‖θ_MAP − μ‖ | predictions changed by fine-tuning (%) | LiFT-MAP acc (%) | no fine-tuning acc (%) | NLL MAP | NLL posterior | ECE MAP | ECE posterior |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.rows.map(({ priorScale, shots, fit, episodes, figures: f }) => `| ${priorScale} | ${shots} | ${fit.steps}, ${fit.lr} | ${episodes} | ${fmt(f.move)} | ${pct(f.differ)} | ${pct(f.accMap)} | ${pct(f.acc0)} | ${fmt(f.nllMap)} | ${fmt(f.nllPost)} | ${fmt(f.eceMap)} | ${fmt(f.ecePost)} |`),
  ];
  writeFileSync(`${base}.md`, `${lines.join('\n')}\n`);
  console.log(`wrote ${base}.md`);
}

/** Per shot count, LiFT-MAP's fit and λ as chosen on val (`npm run tune`), so the figures describe the evaluated setting. */
function tunedJobs(suite: SuiteName, shots: readonly number[], headLr?: number): { jobs: { priorScale: number; kShot: number; fit: Fit }[]; settings: string } {
  const tuned = readTuned(suite);
  const jobs = shots.map((kShot) => {
    const o = chosenOptions(tuned, 'lift-map', kShot);
    if (o === null) return program.error(`--tuned: no LiFT-MAP choice for ${suite} at ${kShot} shots; run npm run tune -- --suite ${suite} first`);
    const n = (v: unknown, fallback: number) => (typeof v === 'number' ? v : fallback);
    return { priorScale: n(o.priorScale, 1), kShot, fit: { steps: n(o.steps, DEFAULT_BUDGET.steps), lr: n(o.lr, DEFAULT_BUDGET.lr), headLr } };
  });
  return { jobs, settings: `at the steps, lr and λ chosen on val per shot count (${tuned!.command})` };
}

async function main(): Promise<void> {
  if (!(SUITE_NAMES as string[]).includes(opts.suite)) program.error(`--suite: unknown suite '${opts.suite}'; valid: ${SUITE_NAMES.join(', ')}`);
  const split = 'val';   // diagnostics compare prior scales, which is choosing a setting
  const suiteName = opts.suite as SuiteName;
  const protocol = PROTOCOLS[suiteName];
  const shots = opts.shots.split(',').map((s) => num(s.trim(), 'shots', true));
  const count = num(opts.episodes, 'episodes', true);
  const fit = { steps: num(opts.steps, 'steps', true), lr: num(opts.lr, 'lr'), headLr: opts.headLr === undefined ? undefined : num(opts.headLr, 'head-lr') };
  const samples = num(opts.samples, 'samples', true);

  const runtime = await Runtime.open({ registryUrl: opts.registry });
  try {
    const suite = await loadSuite(suiteName);
    const backbone = await runtime.backbones.forModality(suite.modality);
    const stored = await findPrior(runtime.store, backbone.baseModel, protocol.trainOn);
    if (!stored) return program.error(`no prior lift/${protocol.trainOn} for ${backbone.baseModel.name}; train one first: npm run train -- --suite ${protocol.trainOn}`);
    const layer = backbone.encoder.layer;
    const rank = stored.d / (layer.inDim + layer.outDim);
    const c = stored.config;
    const shape = loraShape(layer, rank, typeof c.alpha === 'number' ? c.alpha : rank);
    const tau = typeof c.tau === 'number' ? c.tau : DEFAULT_BUDGET.tau;
    const priorScales = opts.priorScales.split(',').map((s) => num(s.trim(), 'prior-scales'));
    if (priorScales.some((x) => x <= 0)) program.error(`--prior-scales: expected positive numbers, got '${opts.priorScales}'`);
    const { jobs, settings } = opts.tuned ? tunedJobs(suiteName, shots, fit.headLr) : {
      jobs: priorScales.flatMap((priorScale) => shots.map((kShot) => ({ priorScale, kShot, fit }))),
      settings: `${fit.steps} steps, lr ${fit.lr}`,
    };
    console.log(`prior ${stored.name} v${stored.version}: K=${stored.k}, D=${stored.d}, σ²=${stored.sigma2}, β²=${stored.beta2}`);
    console.log(`chain: ${JSON.stringify(c.diagnostics ?? 'not recorded (prior trained before diagnostics were kept)')}`);
    console.log(`fit: ${opts.tuned ? settings : `${fit.steps} steps, lr ${fit.lr}, head lr ${fit.headLr ?? fit.lr}; prior scales ${priorScales.join(', ')}`}; posterior: diagonal Laplace, ${samples} samples; split ${split}`);

    const examples = suite.split.val.flatMap((cls) => suite.examplesByClass.get(cls) ?? []);
    const { lookup } = await featureLookup(runtime.store, backbone, examples, `${suiteName} ${split} features`);
    const rows: { priorScale: number; shots: number; fit: Fit; episodes: number; figures: Record<string, MeanCi> }[] = [];
    for (const { priorScale, kShot, fit } of jobs) {
      const ind = inducePrior(scalePrior(toMixturePrior(stored), priorScale));
      const episodes = sampleEpisodes(suite, 'val', { nWay: protocol.nWay, kShot, queriesPerClass: protocol.queriesPerClass, count, seed: EPISODE_SEED });
      const per = { move: [] as number[], differ: [] as number[], accMap: [] as number[], acc0: [] as number[], nllMap: [] as number[], nllPost: [] as number[], eceMap: [] as number[], ecePost: [] as number[] };
      const progress = startProgress(`λ ${priorScale}, ${kShot}-shot episodes`, episodes.length);
      const rng = createRng(EPISODE_SEED).fork(`diagnose/${kShot}`);
      for (const ep of episodes) {
        const nWay = ep.classes.length;
        const ctx = prepareSupport(layer, shape, { features: ep.support.map(lookup), labels: ep.supportLabels }, nWay, tau);
        const query = cacheRows(layer, ep.query.map(lookup));
        const map = adaptMap(ind, ctx, fit);
        const mu = ind.prior.means[map.component];
        let d2 = 0;
        for (let j = 0; j < mu.length; j++) d2 += (map.theta[j] - mu[j]) ** 2;
        const pMap = predictQuery(ctx, map.theta, query, map.head);
        const p0 = predictQuery(ctx, mu as Float32Array, query);
        const thetas = samplePosterior(ind, ctx, map.theta, map.head, { kind: 'laplace', samples }, rng.fork(`ep/${ep.index}`));
        const pPost = averagePredictive(thetas.map((t) => predictQuery(ctx, t, query, map.head))).probs;
        const y = ep.queryLabels;
        per.move.push(Math.sqrt(d2));
        per.differ.push(pMap.filter((p, i) => argmax(p) !== argmax(p0[i])).length / pMap.length);
        per.accMap.push(accuracy(pMap, y));
        per.acc0.push(accuracy(p0, y));
        per.nllMap.push(negativeLogLikelihood(pMap, y));
        per.nllPost.push(negativeLogLikelihood(pPost, y));
        per.eceMap.push(expectedCalibrationError(pMap, y));
        per.ecePost.push(expectedCalibrationError(pPost, y));
        progress.update(per.move.length);
      }
      progress.stop();
      const m = Object.fromEntries(Object.entries(per).map(([k, v]) => [k, meanWithCi95(v)])) as unknown as Record<keyof typeof per, MeanCi>;
      rows.push({ priorScale, shots: kShot, fit, episodes: episodes.length, figures: m });
      console.log(`\n${suiteName} ${split} ${protocol.nWay}-way ${kShot}-shot, ${episodes.length} episodes, λ ${priorScale}`);
      console.log(`  ‖θ_MAP − μ‖                       ${fmt(m.move)}   (√(Dσ²) = ${Math.sqrt(stored.d * stored.sigma2).toFixed(3)})`);
      console.log(`  predictions differing from no FT  ${fmt(m.differ)}`);
      console.log(`  accuracy  LiFT-MAP ${fmt(m.accMap)}   no fine-tuning ${fmt(m.acc0)}`);
      console.log(`  NLL       MAP ${fmt(m.nllMap)}   posterior ${fmt(m.nllPost)}`);
      console.log(`  ECE/episode MAP ${fmt(m.eceMap)}   posterior ${fmt(m.ecePost)}`);
    }
    writeReport(suiteName, split, { prior: `${stored.name} v${stored.version}`, chain: c.diagnostics ?? null, settings, samples, rows });
  } finally {
    await runtime.close();
  }
}

main().catch((err: unknown) => {
  console.error(`diagnose: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
