/**
 * `npm run eval -- --suite <name> --methods <list|all>`: every chosen method on the same seeded
 * meta-test episodes of a suite, from cached backbone features. Prints the table and writes
 * reports/<suite>.{json,md,png}.
 */
import { Command } from 'commander';
import { createRng } from '../adapters/rng.ts';
import { sampleEpisodes } from '../benchmarks/episodes.ts';
import { evaluate } from '../benchmarks/protocol.ts';
import { EPISODE_SEED, PROTOCOLS } from '../benchmarks/protocols.ts';
import { toMarkdown, toReportRow, writeSuiteReport, type ReportRow } from '../benchmarks/report.ts';
import { loadSuite, SUITE_NAMES, type SuiteName } from '../benchmarks/suites.ts';
import { Runtime } from '../service/runtime.ts';
import { featureLookup } from '../service/features.ts';
import { createMethod, methodContext, METHOD_NAMES } from '../service/methods.ts';
import { findPrior } from '../service/meta-artifacts.ts';
import { startProgress } from '../service/progress.ts';

const program = new Command()
  .name('eval')
  .description('Evaluate few-shot methods on a benchmark suite\'s meta-test episodes.')
  .requiredOption('--suite <name>', `one of: ${SUITE_NAMES.join(', ')}`)
  .option('--methods <list>', `comma-separated, or "all" (${METHOD_NAMES.join(', ')})`, 'prototypes')
  .option('--shots <list>', 'comma-separated shot counts (default: the suite protocol)')
  .option('--episodes <n>', 'episodes per shot count (default: the suite protocol)')
  .option('--split <name>', 'test (report) or val (choosing hyper-parameters)', 'test')
  .option('--lr <number>', 'fine-tuning learning rate of every adapting method')
  .option('--steps <number>', 'fine-tuning steps of every adapting method')
  .option('--registry <url>', 'registry URL (sqlite:<path> or postgres://…) (feature cache, priors)')
  .option('--out <dir>', 'report directory', 'reports')
  .parse();

const opts = program.opts<{ lr?: string; steps?: string; suite: string; split: string; methods: string; shots?: string; episodes?: string; registry?: string; out: string }>();

function positiveInts(text: string, what: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (!values.every((v) => Number.isInteger(v) && v > 0)) program.error(`${what}: expected positive integers, got '${text}'`);
  return values;
}

async function main(): Promise<void> {
  if (!(SUITE_NAMES as string[]).includes(opts.suite)) program.error(`--suite: unknown suite '${opts.suite}'; valid: ${SUITE_NAMES.join(', ')}`);
  const suiteName = opts.suite as SuiteName;
  const protocol = PROTOCOLS[suiteName];
  const shots = opts.shots ? positiveInts(opts.shots, '--shots') : protocol.shots;
  const count = opts.episodes ? positiveInts(opts.episodes, '--episodes')[0] : protocol.episodes;
  const names = opts.methods === 'all' ? METHOD_NAMES : opts.methods.split(',').map((s) => s.trim());

  const runtime = await Runtime.open({ registryUrl: opts.registry });
  try {
    const suite = await loadSuite(suiteName);
    const backbone = await runtime.backbones.forModality(suite.modality);
    const prior = await findPrior(runtime.store, backbone.baseModel, protocol.trainOn);
    const ctx = await methodContext(runtime.store, backbone.encoder.layer, prior, { lr: opts.lr ? Number(opts.lr) : undefined, steps: opts.steps ? Number(opts.steps) : undefined });
    const resolved = names.map((name) => ({ name, ...createMethod(name, ctx) }));
    const methods = resolved.map((r) => ({ ...r.method, name: r.name }));

    const split = opts.split === 'val' ? 'val' : 'test';
    if (split !== opts.split) program.error(`--split: expected test or val, got '${opts.split}'`);
    const testExamples = suite.split[split].flatMap((cls) => suite.examplesByClass.get(cls) ?? []);
    const { lookup } = await featureLookup(runtime.store, backbone, testExamples, `${suiteName} ${split} features`);

    const rows: ReportRow[] = [];
    for (const kShot of shots) {
      const episodes = sampleEpisodes(suite, split, {
        nWay: protocol.nWay, kShot, queriesPerClass: protocol.queriesPerClass, count, seed: EPISODE_SEED,
      });
      for (const method of methods) {
        const progress = startProgress(`${kShot}-shot ${method.name}`, 1);
        const result = evaluate(method, episodes, lookup, { seed: createRng(EPISODE_SEED).fork(method.name).seed });
        progress.update(1, `${(100 * result.accuracy).toFixed(1)}%`);
        progress.stop();
        rows.push(toReportRow(result, kShot));
      }
    }
    const report = {
      suite: suiteName,
      trainedOn: protocol.trainOn,
      protocol: { nWay: protocol.nWay, queriesPerClass: protocol.queriesPerClass, episodes: count, episodeSeed: EPISODE_SEED },
      createdAt: new Date().toISOString(),
      methods: Object.fromEntries(resolved.map((r) => [r.name, { config: r.config, priorId: r.priorId }])),
      baseModel: backbone.baseModel.name,
      rows,
    };
    console.log(toMarkdown(report));
    if (split === 'val') return; // validation runs choose settings; only meta-test results are reports
    const files = await writeSuiteReport(opts.out, report);
    console.log(`wrote ${files.join(', ')}`);
  } finally {
    await runtime.close();
  }
}

main().catch((err: unknown) => {
  console.error(`eval: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
