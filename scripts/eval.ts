/**
 * `npm run eval -- --suite <name> --methods <list|all>`: every chosen method on the same seeded
 * meta-test episodes of a suite (each member family's for a mixed suite), from cached backbone
 * features, each with the settings `npm run tune` chose on meta-validation
 * (benchmarks/tuned/<suite>.json, or the training suite's when the suite has no validation classes;
 * without it the defaults, and the report says so). Prints the
 * table; the full run (all methods, the suite's protocol) writes reports/<suite>.{json,md,png},
 * any other run writes under reports/subsets/ so it never replaces the full report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { createRng } from '../adapters/rng.ts';
import { evaluate } from '../benchmarks/protocol.ts';
import { posteriorVsMap, type PosteriorVsMap } from '../benchmarks/posterior-vs-map.ts';
import type { EpisodeResult } from '../benchmarks/protocol.ts';
import { EPISODE_SEED, PROTOCOLS } from '../benchmarks/protocols.ts';
import { toMarkdown, toReportRow, writeSuiteReport, type MethodSettings, type ReportRow } from '../benchmarks/report.ts';
import { loadSuite, SUITE_NAMES, type SuiteName } from '../benchmarks/suites.ts';
import { chosenOptions, readTuned, settingsSuiteFor, tunedPath } from '../benchmarks/tuned.ts';
import { shotCounts } from '../benchmarks/tuning.ts';
import { Runtime } from '../service/runtime.ts';
import { createMethod, fitOptionsFrom, methodContext, METHOD_NAMES, methodName, type MethodName } from '../service/methods.ts';
import { findPrior } from '../service/meta-artifacts.ts';
import { startProgress } from '../service/progress.ts';
import { startRun } from '../service/runs.ts';
import { suiteEpisodes } from '../service/suite-episodes.ts';

const program = new Command()
  .name('eval')
  .description('Evaluate few-shot methods on a benchmark suite\'s meta-test episodes, with the settings chosen on meta-validation.')
  .requiredOption('--suite <name>', `one of: ${SUITE_NAMES.join(', ')}`)
  .option('--methods <list>', `comma-separated, or "all" (${METHOD_NAMES.join(', ')})`, 'prototypes')
  .option('--shots <list>', 'comma-separated shot counts (default: the suite protocol)')
  .option('--episodes <n>', 'episodes per shot count (default: the suite protocol)')
  .option('--split <name>', 'test (report) or val (a look at validation; nothing written)', 'test')
  .option('--registry <url>', 'registry URL (sqlite:<path> or postgres://…) (feature cache, priors)')
  .option('--out <dir>', 'report directory (runs other than the full one go to <dir>/subsets)', 'reports')
  .parse();

const opts = program.opts<{ suite: string; split: string; methods: string; shots?: string; episodes?: string; registry?: string; out: string }>();

function positiveInts(text: string, what: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (!values.every((v) => Number.isInteger(v) && v > 0)) program.error(`${what}: expected positive integers, got '${text}'`);
  return values;
}

async function main(): Promise<void> {
  if (!(SUITE_NAMES as string[]).includes(opts.suite)) program.error(`--suite: unknown suite '${opts.suite}'; valid: ${SUITE_NAMES.join(', ')}`);
  const suiteName = opts.suite as SuiteName;
  const protocol = PROTOCOLS[suiteName];
  const shots = opts.shots ? positiveInts(opts.shots, '--shots') : undefined;
  const count = opts.episodes ? positiveInts(opts.episodes, '--episodes')[0] : undefined;
  let names: MethodName[];
  try {
    names = opts.methods === 'all' ? [...METHOD_NAMES] : opts.methods.split(',').map((s) => methodName(s.trim()));
  } catch (err) {
    return program.error(`--methods: ${(err as Error).message}`);
  }
  if (opts.split !== 'test' && opts.split !== 'val') program.error(`--split: expected test or val, got '${opts.split}'`);
  const split = opts.split as 'test' | 'val';
  const full = METHOD_NAMES.every((n) => names.includes(n)) && shots === undefined && count === undefined;

  const runtime = await Runtime.open({ registryUrl: opts.registry });
  // Recorded as a run (GET /v1/runs): what was evaluated, the accuracies, the prior used.
  const run = await startRun(runtime.store, {
    kind: 'eval', name: `eval ${suiteName} ${split}`, config: { suite: suiteName, split, methods: names, shots: shots ?? null, episodes: count ?? null }, refs: { suite: suiteName },
  });
  try {
    const suite = await loadSuite(suiteName);
    const backbone = await runtime.backbones.forModality(suite.modality);
    const prior = await findPrior(runtime.store, backbone.baseModel, protocol.trainOn);
    const ctx = await methodContext(runtime.store, backbone.encoder.layer, prior);
    const settingsSuite = settingsSuiteFor(suiteName, suite.split.val.length, protocol.trainOn);
    const tuned = readTuned(settingsSuite);
    const borrowed = settingsSuite === suiteName ? ''
      : `${suiteName} has no meta-validation classes, so its settings are those chosen on the meta-validation of ${settingsSuite}, the suite it was trained on; shot counts without a choice there ran with the defaults. `;
    const note = borrowed + (tuned === null
      ? `No settings were chosen on meta-validation for ${settingsSuite} (run \`npm run tune -- --suite ${settingsSuite}\`); every method ran with its defaults.`
      : `Settings chosen on meta-validation (${tuned.episodes} val episodes per family and shot count) by \`${tuned.command}\`${
        tuned.priorId !== undefined && tuned.priorId !== prior?.id ? `; NOTE: they were chosen under prior ${tuned.priorId}, the current one is ${prior?.id ?? 'none'}` : ''}.`);
    console.log(note);
    const families = await suiteEpisodes(runtime.store, backbone, suiteName, { split, shots, count });
    const mixed = families.length > 1;

    const rows: ReportRow[] = [];
    const perMethod: Record<string, Record<string, MethodSettings>> = {};
    const priorIds: Record<string, string | null> = {};
    // LiFT-MAP's and the posterior's per-episode results, per shot count and family, to compare them on the same episodes.
    const liftEpisodes = new Map<string, Partial<Record<MethodName, readonly EpisodeResult[]>>>();
    const posterior: PosteriorVsMap[] = [];
    const reportOf = () => ({
      suite: suiteName,
      split,
      trainedOn: protocol.trainOn,
      protocol: { nWay: protocol.nWay, queriesPerClass: protocol.queriesPerClass, episodes: count ?? protocol.episodes, episodeSeed: EPISODE_SEED },
      createdAt: new Date().toISOString(),
      methods: Object.fromEntries(names.map((n) => [n, { priorId: priorIds[n] ?? null }])),
      baseModel: backbone.baseModel.name,
      rows,
      ...(prior ? { prior: { id: prior.id, name: prior.name, version: prior.version, diagnostics: (prior.config.diagnostics as Record<string, unknown> | undefined) ?? null } } : {}),
      posteriorVsMap: posterior,
      settings: { file: tuned ? tunedPath(settingsSuite).replace(`${process.cwd()}/`, '') : null, command: tuned?.command ?? null, note, perMethod },
    });
    for (const kShot of shotCounts(families)) {
      for (const name of names) {
        const chosen = chosenOptions(tuned, name, kShot);
        const resolved = createMethod(name, { ...ctx, options: fitOptionsFrom(chosen ?? {}) });
        (perMethod[name] ??= {})[String(kShot)] = { source: chosen ? 'val' : 'default', options: chosen ?? {}, config: resolved.config };
        priorIds[name] = resolved.priorId;
        const seed = createRng(EPISODE_SEED).fork(name).seed;
        for (const f of families) {
          const episodes = f.episodes.get(kShot);
          if (!episodes?.length) continue;
          const progress = startProgress(`${kShot}-shot ${mixed ? `${f.family} ` : ''}${name}`, 1);
          const result = evaluate({ ...resolved.method, name }, episodes, f.lookup, { seed });
          progress.update(1, `${(100 * result.accuracy).toFixed(1)}%`);
          progress.stop();
          rows.push(toReportRow(result, kShot, mixed ? f.family : undefined));
          if (name === 'lift-map' || name === 'lift-posterior') {
            const both = liftEpisodes.get(`${kShot}/${f.family}`) ?? {};
            liftEpisodes.set(`${kShot}/${f.family}`, { ...both, [name]: result.perEpisode });
          }
        }
      }
      for (const f of families) {
        const both = liftEpisodes.get(`${kShot}/${f.family}`);
        if (both?.['lift-map'] && both['lift-posterior']) posterior.push(posteriorVsMap(both['lift-map'], both['lift-posterior'], kShot, mixed ? f.family : undefined));
      }
      // A long run keeps what it finished: the table so far, per shot count, under subsets/.
      if (split === 'test') {
        const partial = `${opts.out}/subsets/${suiteName}.partial.md`;
        mkdirSync(path.dirname(partial), { recursive: true });
        writeFileSync(partial, toMarkdown(reportOf()));
        console.log(`${kShot}-shot done; the table so far is in ${partial}`);
      }
    }
    const report = reportOf();
    console.log(toMarkdown(report));
    const priorRefs = [...new Set(Object.values(priorIds).filter((id): id is string => id !== null))];
    await run.succeed({
      metrics: Object.fromEntries(rows.map((r) => [`${r.shots}-shot${r.family ? ` ${r.family}` : ''} ${r.method}`, r.accuracy])),
      refs: { suite: suiteName, ...(priorRefs.length ? { prior_ids: priorRefs } : {}) },
    });
    if (split === 'val') return; // a look at validation; only meta-test results are reports
    const files = await writeSuiteReport(full ? opts.out : `${opts.out}/subsets`, report);
    console.log(`wrote ${files.join(', ')}${full ? '' : ' (not the full run: all methods on the suite protocol writes reports/)'}`);
  } catch (err) {
    await run.fail(err);
    throw err;
  } finally {
    await runtime.close();
  }
}

main().catch((err: unknown) => {
  console.error(`eval: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
