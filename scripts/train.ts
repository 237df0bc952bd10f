/**
 * `npm run train -- --suite <name>`: LiFT meta-training on a suite's fixed training tasks. Stores
 * the prior `lift/<suite>` and the per-task adapters (the zoo) in the registry, prints the
 * figures and writes a plot of the training log-likelihood to reports/train-<suite>.png.
 * `npm run train -- --zoo <name>`: the same from the tasks of a zoo in the registry (as the
 * `POST /v1/priors` job does), stored as `lift/<zoo>` with its lineage.
 * Either way the training is recorded as a run (GET /v1/runs).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { Command, Option } from 'commander';
import { plotLines } from '../benchmarks/plot.ts';
import { SUITE_NAMES, type SuiteName } from '../benchmarks/suites.ts';
import { DEFAULT_PRIOR_CONFIG, priorConfigFor, trainPrior, type PriorTrainConfig } from '../service/train-prior.ts';
import type { JobProgress } from '../service/jobs.ts';
import { startProgress, type Progress } from '../service/progress.ts';
import { recordRun } from '../service/runs.ts';
import { trainZooPrior, zooPriorRefs } from '../service/train-zoo-prior.ts';
import { Runtime } from '../service/runtime.ts';

const program = new Command()
  .name('train')
  .description('Learn a LiFT prior over LoRA adapters from a suite\'s training tasks.')
  .option('--suite <name>', `a bundled suite: ${SUITE_NAMES.join(', ')}`)
  .option('--zoo <name>', 'a zoo in the registry (its latest version, or --zoo-version)')
  .option('--zoo-version <n>', 'with --zoo: the zoo version to train from')
  .option('--registry <url>', 'registry URL (sqlite:<path> or postgres://…)')
  .option('--skip-baselines', 'train LiFT only (the competitors keep their last stored versions)');
/** Prior setting -> its kebab-case flag's attribute (`burnIn` <- --burn-in, `K` <- --k). */
const settingAttribute = new Map<string, string>();
for (const [key, value] of Object.entries(DEFAULT_PRIOR_CONFIG)) {
  const option = new Option(`--${key.replace(/(?<=[a-z0-9])([A-Z])/g, '-$1').toLowerCase()} <number>`, `${key}: default ${value} (some suites override it)`);
  settingAttribute.set(key, option.attributeName());
  program.addOption(option);
}
program.parse();
const opts = program.opts<Record<string, string | undefined> & { skipBaselines?: boolean }>();
if ((opts.suite === undefined) === (opts.zoo === undefined)) program.error('expected exactly one of --suite <name> or --zoo <name>');

function readConfig(suite?: SuiteName): PriorTrainConfig {
  const cfg: Record<string, number> = { ...(suite ? priorConfigFor(suite) : DEFAULT_PRIOR_CONFIG) };
  for (const key of Object.keys(DEFAULT_PRIOR_CONFIG)) {
    const text = opts[settingAttribute.get(key)!];
    if (text === undefined) continue;
    const value = Number(text);
    if (!Number.isFinite(value)) program.error(`${key}: expected a number, got '${text}'`);
    cfg[key] = value;
  }
  return cfg as unknown as PriorTrainConfig;
}

/** LiFT (and the competitors) from a zoo's tasks, with the job's phases printed as they pass. */
async function trainFromZoo(zoo: string): Promise<void> {
  const version = opts.zooVersion === undefined ? undefined : Number(opts.zooVersion);
  if (version !== undefined && !(Number.isSafeInteger(version) && version >= 1)) program.error(`--zoo-version: expected an integer >= 1, got '${opts.zooVersion}'`);
  const cfg = readConfig();
  const runtime = await Runtime.open({ registryUrl: opts.registry });
  try {
    let phase = '';
    let progress: Progress | null = null;
    const report = (p: JobProgress) => {
      if (p.phase !== phase) {
        progress?.stop();
        phase = p.phase;
        progress = startProgress(`[phase ${p.phaseIndex} of ${p.phaseCount}] ${p.phase}`, 1000);
      }
      progress!.update(Math.round(p.progress * 1000), p.trace?.length ? `log-lik ${p.trace.at(-1)!.log_lik.toFixed(2)}` : '');
    };
    const params = { zoo, zoo_version: version ?? null, config: { ...cfg }, baselines: !opts.skipBaselines };
    const { value: r } = await recordRun(runtime.store, { kind: 'train', name: `train zoo ${zoo}`, config: params, refs: { zoo: { name: zoo, version: version ?? 0 } } },
      async (run) => {
        const r = await trainZooPrior(runtime, { zoo, zooVersion: version, config: cfg, baselines: !opts.skipBaselines }, { report, runId: run.id });
        return { value: r, metrics: { train_ms: Math.round(r.trainMs), tasks: r.taskIds.length }, refs: zooPriorRefs(r, zoo) };
      });
    (progress as Progress | null)?.stop();
    const prior = r.prior;
    console.log(`prior ${prior.name} v${prior.version} (${prior.id}): K=${prior.k}, D=${prior.d}, from zoo ${zoo} v${r.zooVersion} (${r.taskIds.length} tasks) in ${(r.trainMs / 1000).toFixed(1)} s`);
  } finally {
    await runtime.close();
  }
}

async function main(): Promise<void> {
  if (opts.zoo !== undefined) return trainFromZoo(opts.zoo);
  const suite = opts.suite!;
  if (!(SUITE_NAMES as string[]).includes(suite)) program.error(`--suite: unknown suite '${suite}'; valid: ${SUITE_NAMES.join(', ')}`);
  const cfg = readConfig(suite as SuiteName);
  const runtime = await Runtime.open({ registryUrl: opts.registry });
  try {
    const { value: { prior, result, zooIds, ms } } = await recordRun(runtime.store,
      { kind: 'train', name: `train suite ${suite}`, config: { ...cfg, suite, baselines: !opts.skipBaselines }, refs: { suite } },
      async (run) => {
        const r = await trainPrior(runtime, suite as SuiteName, cfg, !opts.skipBaselines, run.id);
        return {
          value: r, metrics: { train_ms: Math.round(r.ms), kept: r.result.diagnostics.kept, final_log_lik: r.result.diagnostics.logLikTrace.at(-1) ?? null },
          refs: { prior_ids: [r.prior.id], adapter_ids: [...r.zooIds, ...Object.values(r.baselines)] },
        };
      });
    console.log(`prior ${prior.name} v${prior.version} (${prior.id}): K=${prior.k}, D=${prior.d}, weights ${Array.from(prior.weights, (w) => w.toFixed(2)).join(' ')}`);
    console.log(`trained on ${prior.trainingTaskIds.length} tasks in ${(ms / 1000).toFixed(1)} s; kept ${result.diagnostics.kept} samples; ${zooIds.length} zoo adapters stored`);
    mkdirSync('reports', { recursive: true });
    const every = cfg.steps / result.diagnostics.logLikTrace.length;
    const png = await plotLines(`LiFT training on ${suite}`, 'SGLD-Gibbs step', 'task log-likelihood (N × mean)',
      result.diagnostics.logLikTrace.map((y, i) => ({ series: 'log-lik', x: Math.round((i + 1) * every), y })));
    writeFileSync(`reports/train-${suite}.png`, png);
    console.log(`wrote reports/train-${suite}.png`);
  } finally {
    await runtime.close();
  }
}

main().catch((err: unknown) => {
  console.error(`train: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
