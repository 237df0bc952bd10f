/**
 * `npm run tune -- --suite <name> [--methods <list|all>] [--episodes N]`: per method, a small grid
 * (benchmarks/tune-grid.ts) on the suite's meta-validation episodes, the same seeded episodes for
 * every method and grid point; writes the choices per shot count with every grid point's val
 * accuracy and cost to benchmarks/tuned/<suite>.json, which `npm run eval` reads. Never touches
 * the test split.
 */
import { Command } from 'commander';
import { createRng } from '../adapters/rng.ts';
import { EPISODE_SEED, PROTOCOLS } from '../benchmarks/protocols.ts';
import { loadSuite, SUITE_NAMES, type SuiteName } from '../benchmarks/suites.ts';
import { gridFor } from '../benchmarks/tune-grid.ts';
import { readTuned, writeTuned, type GridResult, type TunedFile, type TunedOptions } from '../benchmarks/tuned.ts';
import { tuneMethod, tuneWork, type MethodChoice } from '../benchmarks/tuning.ts';
import { findPrior } from '../service/meta-artifacts.ts';
import { createMethod, fitOptionsFrom, methodContext, METHOD_NAMES, methodName, type MethodName } from '../service/methods.ts';
import type { JsonObject } from '../registry/types.ts';
import { formatDuration } from '../service/progress.ts';
import { startRun } from '../service/runs.ts';
import { Runtime } from '../service/runtime.ts';
import { suiteEpisodes } from '../service/suite-episodes.ts';
import { integerAtLeast } from './cli-options.ts';

const program = new Command()
  .name('tune')
  .description('Choose each method\'s test-time settings on a suite\'s meta-validation episodes; writes benchmarks/tuned/<suite>.json.')
  .requiredOption('--suite <name>', `one of: ${SUITE_NAMES.join(', ')}`)
  .option('--methods <list>', `comma-separated, or "all" (${METHOD_NAMES.join(', ')})`, 'all')
  .option('--episodes <n>', 'validation episodes per family and shot count', integerAtLeast(2), 100)
  .option('--registry <url>', 'registry URL (sqlite:<path> or postgres://…) (feature cache, priors)')
  .option('--out <dir>', 'directory of the tuned files (default benchmarks/tuned)')
  .parse();

const opts = program.opts<{ suite: string; methods: string; episodes: number; registry?: string; out?: string }>();

/** Every grid point's val accuracy, one line per point, so a run's log shows why a choice won. */
function describe(r: GridResult): string {
  const fams = Object.entries(r.families).map(([f, a]) => `${f} ${(100 * a.accuracy).toFixed(1)} ± ${(100 * a.ci95).toFixed(1)}`).join(', ');
  return `  ${r.shots}-shot ${JSON.stringify(r.options)}: ${(100 * r.accuracy).toFixed(2)}% (${fams}) ${r.msPerTask.toFixed(1)} ms/task`;
}

async function main(): Promise<void> {
  if (!(SUITE_NAMES as string[]).includes(opts.suite)) program.error(`--suite: unknown suite '${opts.suite}'; valid: ${SUITE_NAMES.join(', ')}`);
  const suiteName = opts.suite as SuiteName;
  let names: MethodName[];
  try {
    names = opts.methods === 'all' ? [...METHOD_NAMES] : opts.methods.split(',').map((s) => methodName(s.trim()));
  } catch (err) {
    return program.error(`--methods: ${(err as Error).message}`);
  }
  // A method that follows another is tuned after it (its choice is read from what was just chosen).
  names.sort((a, b) => Number('follows' in gridFor(a, { mbcVariants: [] })) - Number('follows' in gridFor(b, { mbcVariants: [] })));

  const runtime = await Runtime.open({ registryUrl: opts.registry });
  let runFailed: ((err: unknown) => Promise<unknown>) | null = null;
  try {
    const suite = await loadSuite(suiteName);
    const backbone = await runtime.backbones.forModality(suite.modality);
    const trainOn = PROTOCOLS[suiteName].trainOn;
    const prior = await findPrior(runtime.store, backbone.baseModel, trainOn);
    if (prior === null) return program.error(`no prior lift/${trainOn} for ${backbone.baseModel.name}; train first: npm run train -- --suite ${trainOn}`);
    const ctx = await methodContext(runtime.store, backbone.encoder.layer, prior);
    const gridCtx = { mbcVariants: [...(ctx.artifacts?.()?.clusters.keys() ?? [])].sort() };
    const families = await suiteEpisodes(runtime.store, backbone, suiteName, { split: 'val', count: opts.episodes });

    const earlier = readTuned(suiteName, opts.out);
    const choices: Record<string, Record<string, TunedOptions>> = {};
    const follows: Record<string, string> = {};
    const results: GridResult[] = [];
    type Step = { name: MethodName; points: readonly TunedOptions[] } | { name: MethodName; leader: MethodName; vary: readonly TunedOptions[] };
    const plan: Step[] = names.map((name) => {
      const grid = gridFor(name, gridCtx);
      return 'points' in grid ? { name, points: grid.points } : { name, leader: grid.follows, vary: grid.vary };
    });
    for (const step of plan) {
      if ('leader' in step && !names.includes(step.leader) && !earlier?.choices[step.leader]) {
        return program.error(`--methods: ${step.name} takes the settings ${step.leader} chose; tune ${step.leader} first or together`);
      }
    }
    // Recorded as a run (GET /v1/runs): the grid's choices per method, under which prior.
    const run = await startRun(runtime.store, {
      kind: 'tune', name: `tune ${suiteName}`, config: { suite: suiteName, split: 'val', methods: names, episodes: opts.episodes ?? null }, refs: { suite: suiteName, prior_ids: [prior.id] },
    });
    runFailed = (err) => run.fail(err);
    // A follower evaluates, per shot count, its leader's choice with each of its own variations.
    const total = plan.reduce((n, step) => n + tuneWork(families, 'points' in step ? step.points.length : step.vary.length), 0);
    let done = 0;
    const started = Date.now();
    const progress = (n: number) => { done += n; };
    const phase = (i: number, what: string) => {
      const eta = done === 0 ? '' : `, ETA ${formatDuration(((Date.now() - started) * (total - done)) / done)}`;
      process.stderr.write(`[tune phase ${i + 1} of ${plan.length}] ${what} (elapsed ${formatDuration(Date.now() - started)}${eta})\n`);
    };
    for (const [i, step] of plan.entries()) {
      const seed = createRng(EPISODE_SEED).fork(step.name).seed;
      const build = (o: TunedOptions) => {
        const r = createMethod(step.name, { ...ctx, options: fitOptionsFrom(o) });
        return { method: r.method, config: r.config };
      };
      let chosen: MethodChoice;
      if ('points' in step) {
        phase(i, `${step.name}: ${step.points.length} settings on ${families.map((f) => f.family).join(' + ')}`);
        chosen = tuneMethod({ method: step.name, points: step.points, build }, families, seed, progress);
      } else {
        const leaderChoices = choices[step.leader] ?? earlier!.choices[step.leader];
        follows[step.name] = step.leader;
        phase(i, `${step.name}: the settings ${step.leader} chose, varying ${step.vary.map((v) => JSON.stringify(v)).join(' / ')}`);
        const parts = Object.entries(leaderChoices).map(([shots, o]) => tuneMethod(
          { method: step.name, points: step.vary.map((v) => ({ ...o, ...v })), build },
          families.map((f) => ({ ...f, episodes: new Map([...f.episodes].filter(([k]) => String(k) === shots)) })),
          seed, progress));
        chosen = { results: parts.flatMap((c) => c.results), choices: Object.assign({}, ...parts.map((c) => c.choices)) };
      }
      choices[step.name] = chosen.choices;
      results.push(...chosen.results);
      for (const r of chosen.results) console.log(describe(r));
      console.log(`${step.name}: chose ${Object.entries(chosen.choices).map(([k, o]) => `${k}-shot ${JSON.stringify(o)}`).join(', ')}`);
    }
    const file: TunedFile = {
      suite: suiteName, split: 'val', episodes: opts.episodes, episodeSeed: EPISODE_SEED, createdAt: new Date().toISOString(),
      command: `npm run tune -- ${process.argv.slice(2).join(' ')}`, priorId: prior.id, follows, choices, results,
    };
    console.log(`wrote ${writeTuned(file, opts.out)} in ${formatDuration(Date.now() - started)}`);
    await run.succeed({ metrics: { choices: choices as unknown as JsonObject }, refs: { suite: suiteName, prior_ids: [prior.id] } });
  } catch (err) {
    await runFailed?.(err);
    throw err;
  } finally {
    await runtime.close();
  }
}

main().catch((err: unknown) => {
  console.error(`tune: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
