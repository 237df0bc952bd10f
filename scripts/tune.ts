/**
 * `npm run tune -- --suite <name> [--methods <list|all>] [--episodes N]`: per method, a small grid
 * (benchmarks/tune-grid.ts) on the suite's meta-validation episodes, the same seeded episodes for
 * every method and grid point; writes the choices per shot count with every grid point's val
 * accuracy and cost to benchmarks/tuned/<suite>.json, which `npm run eval` reads. Never touches
 * the test split. The work is service/tune.ts, which a `tune` job runs as well.
 */
import { Command } from 'commander';
import { readTuned, writeTuned, type GridResult } from '../benchmarks/tuned.ts';
import { SUITE_NAMES } from '../benchmarks/suites.ts';
import { METHOD_NAMES } from '../service/methods.ts';
import type { JsonObject } from '../registry/types.ts';
import { formatDuration } from '../service/progress.ts';
import { startRun, type OpenRun } from '../service/runs.ts';
import { Runtime } from '../service/runtime.ts';
import { requireSuiteName, tuneOrder, tuneSuite } from '../service/tune.ts';
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
  let suite: string;
  try {
    suite = requireSuiteName(opts.suite);
    tuneOrder(opts.methods === 'all' ? 'all' : opts.methods.split(','));
  } catch (err) {
    return program.error(`--${(err as Error).message}`);
  }
  const runtime = await Runtime.open({ registryUrl: opts.registry });
  let run: OpenRun | null = null;
  try {
    const started = Date.now();
    const file = await tuneSuite(runtime, {
      suite, methods: opts.methods === 'all' ? 'all' : opts.methods.split(','), episodes: opts.episodes,
      earlier: readTuned(suite, opts.out), command: `npm run tune -- ${process.argv.slice(2).join(' ')}`,
    }, {
      // Recorded as a run (GET /v1/runs): the grid's choices per method, under which prior.
      begin: async ({ suite: name, methods, priorId }) => {
        run = await startRun(runtime.store, {
          kind: 'tune', name: `tune ${name}`, config: { suite: name, split: 'val', methods, episodes: opts.episodes }, refs: { suite: name, prior_ids: [priorId] },
        });
      },
      phase: (i, n, what, etaMs) => process.stderr.write(
        `[tune phase ${i + 1} of ${n}] ${what} (elapsed ${formatDuration(Date.now() - started)}${etaMs === null ? '' : `, ETA ${formatDuration(etaMs)}`})\n`),
      method: (name, chosen) => {
        for (const r of chosen.results) console.log(describe(r));
        console.log(`${name}: chose ${Object.entries(chosen.choices).map(([k, o]) => `${k}-shot ${JSON.stringify(o)}`).join(', ')}`);
      },
    });
    console.log(`wrote ${writeTuned(file, opts.out)} in ${formatDuration(Date.now() - started)}`);
    await run!.succeed({ metrics: { choices: file.choices as unknown as JsonObject }, refs: { suite: file.suite, prior_ids: file.priorId ? [file.priorId] : [] } });
  } catch (err) {
    await (run as OpenRun | null)?.fail(err);
    throw err;
  } finally {
    await runtime.close();
  }
}

main().catch((err: unknown) => {
  console.error(`tune: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
