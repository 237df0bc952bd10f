/**
 * `npm run train -- --suite <name>`: LiFT meta-training on a suite's fixed training tasks. Stores
 * the prior `lift/<suite>` and the per-task adapters (the zoo) in the registry, prints the
 * figures and writes a plot of the training log-likelihood to reports/train-<suite>.png.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { Command } from 'commander';
import { plotLines } from '../benchmarks/plot.ts';
import { SUITE_NAMES, type SuiteName } from '../benchmarks/suites.ts';
import { DEFAULT_PRIOR_CONFIG, priorConfigFor, trainPrior, type PriorTrainConfig } from '../service/train-prior.ts';
import { Runtime } from '../service/runtime.ts';

const program = new Command()
  .name('train')
  .description('Learn a LiFT prior over LoRA adapters from a suite\'s training tasks.')
  .requiredOption('--suite <name>', `one of: ${SUITE_NAMES.join(', ')}`)
  .option('--registry <url>', 'registry URL (sqlite:<path> or postgres://…)')
  .option('--skip-baselines', 'train LiFT only (the competitors keep their last stored versions)');
for (const [key, value] of Object.entries(DEFAULT_PRIOR_CONFIG)) {
  program.option(`--${key} <number>`, `default ${value} (some suites override it)`);
}
program.parse();
const opts = program.opts<Record<string, string | undefined> & { skipBaselines?: boolean }>();

function readConfig(suite: SuiteName): PriorTrainConfig {
  const cfg: Record<string, number> = { ...priorConfigFor(suite) };
  for (const key of Object.keys(DEFAULT_PRIOR_CONFIG)) {
    const text = opts[key];
    if (text === undefined) continue;
    const value = Number(text);
    if (!Number.isFinite(value)) program.error(`--${key}: expected a number, got '${text}'`);
    cfg[key] = value;
  }
  return cfg as unknown as PriorTrainConfig;
}

async function main(): Promise<void> {
  const suite = opts.suite!;
  if (!(SUITE_NAMES as string[]).includes(suite)) program.error(`--suite: unknown suite '${suite}'; valid: ${SUITE_NAMES.join(', ')}`);
  const cfg = readConfig(suite as SuiteName);
  const runtime = await Runtime.open({ registryUrl: opts.registry });
  try {
    const { prior, result, zooIds, ms } = await trainPrior(runtime, suite as SuiteName, cfg, !opts.skipBaselines);
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
