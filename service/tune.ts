/**
 * Tuning a suite: per method, a small grid (benchmarks/tune-grid.ts) on the suite's
 * meta-validation episodes, the same seeded episodes for every method and grid point; the
 * choices per shot count with every grid point's val accuracy and cost. Never touches the test
 * split. `npm run tune` writes the result to benchmarks/tuned/<suite>.json; a `tune` job (POST
 * /v1/tune) stores it as the job's result and run metrics. Both run this one function.
 */
import { createRng } from '../adapters/rng.ts';
import { EPISODE_SEED, PROTOCOLS } from '../benchmarks/protocols.ts';
import { isSuiteName, loadSuite, SUITE_NAMES, type SuiteName } from '../benchmarks/suites.ts';
import { gridFor } from '../benchmarks/tune-grid.ts';
import type { GridResult, TunedFile, TunedOptions } from '../benchmarks/tuned.ts';
import { tuneMethod, tuneWork, type MethodChoice } from '../benchmarks/tuning.ts';
import { ValidationError } from '../registry/errors.ts';
import { findPrior } from './meta-artifacts.ts';
import { createMethod, fitOptionsFrom, methodContext, METHOD_NAMES, methodName, type MethodName } from './methods.ts';
import type { Runtime } from './runtime.ts';
import { suiteEpisodes } from './suite-episodes.ts';

export interface TuneRequest {
  readonly suite: string;
  /** Method names (aliases allowed), or 'all'. */
  readonly methods: readonly string[] | 'all';
  /** Validation episodes per family and shot count. */
  readonly episodes: number;
  /** Choices made earlier for this suite: a method that follows another reads its leader's from here when the leader is not tuned now. */
  readonly earlier: TunedFile | null;
  /** How to run this again, recorded in the result. */
  readonly command: string;
}

export interface TuneHooks {
  /** The request checked and the prior found, before any grid point runs (e.g. to open a run). */
  begin?(plan: { readonly suite: SuiteName; readonly methods: readonly MethodName[]; readonly priorId: string }): Promise<void>;
  /** A method starts: phase i (0-based) of n, with the ETA from the work done so far (null before any). */
  phase?(i: number, n: number, what: string, etaMs: number | null): void;
  /** Every grid point's result once its method is done, then the method's choice. */
  method?(name: MethodName, chosen: MethodChoice): void;
  /** Grid-point episodes evaluated so far, of the total. */
  progress?(done: number, total: number): void;
  /** Called between methods; throws (e.g. a job's cancel) to stop there. */
  between?(): Promise<void>;
}

/** The method names a request means, in the order they are tuned (a method that follows another after it). */
export function tuneOrder(methods: readonly string[] | 'all'): MethodName[] {
  let names: MethodName[];
  try {
    names = methods === 'all' ? [...METHOD_NAMES] : methods.map((s) => methodName(s.trim()));
  } catch (err) {
    throw new ValidationError(`methods: ${(err as Error).message}`);
  }
  return names.sort((a, b) => Number('follows' in gridFor(a, { mbcVariants: [] })) - Number('follows' in gridFor(b, { mbcVariants: [] })));
}

export function requireSuiteName(suite: string): SuiteName {
  if (!isSuiteName(suite)) throw new ValidationError(`suite: unknown suite '${suite}'; valid: ${SUITE_NAMES.join(', ')}`);
  return suite;
}

export async function tuneSuite(runtime: Runtime, req: TuneRequest, hooks: TuneHooks = {}): Promise<TunedFile> {
  const suiteName = requireSuiteName(req.suite);
  const names = tuneOrder(req.methods);
  const suite = await loadSuite(suiteName);
  const trainOn = PROTOCOLS[suiteName].trainOn;
  if (suite.split.val.length === 0) {
    throw new ValidationError(`suite: ${suiteName} has no meta-validation classes (every class is test); its eval takes the settings chosen on ${trainOn}: npm run tune -- --suite ${trainOn}`);
  }
  const backbone = await runtime.backbones.forModality(suite.modality);
  const prior = await findPrior(runtime.store, backbone.baseModel, trainOn);
  if (prior === null) throw new ValidationError(`no prior lift/${trainOn} for ${backbone.baseModel.name}; train first: npm run train -- --suite ${trainOn}`);
  const ctx = await methodContext(runtime.store, backbone.encoder.layer, prior);
  const gridCtx = { mbcVariants: [...(ctx.artifacts?.()?.clusters.keys() ?? [])].sort() };

  const choices: Record<string, Record<string, TunedOptions>> = {};
  const follows: Record<string, string> = {};
  const results: GridResult[] = [];
  type Step = { name: MethodName; points: readonly TunedOptions[] } | { name: MethodName; leader: MethodName; vary: readonly TunedOptions[] };
  const plan: Step[] = names.map((name) => {
    const grid = gridFor(name, gridCtx);
    return 'points' in grid ? { name, points: grid.points } : { name, leader: grid.follows, vary: grid.vary };
  });
  for (const step of plan) {
    if ('leader' in step && !names.includes(step.leader) && !req.earlier?.choices[step.leader]) {
      throw new ValidationError(`methods: ${step.name} takes the settings ${step.leader} chose; tune ${step.leader} first or together`);
    }
  }
  await hooks.begin?.({ suite: suiteName, methods: names, priorId: prior.id });
  const families = await suiteEpisodes(runtime.store, backbone, suiteName, { split: 'val', count: req.episodes });
  // A follower evaluates, per shot count, its leader's choice with each of its own variations.
  const total = plan.reduce((n, step) => n + tuneWork(families, 'points' in step ? step.points.length : step.vary.length), 0);
  let done = 0;
  const started = Date.now();
  const progress = (n: number) => {
    done += n;
    hooks.progress?.(done, total);
  };
  for (const [i, step] of plan.entries()) {
    await hooks.between?.();
    const eta = done === 0 ? null : ((Date.now() - started) * (total - done)) / done;
    const seed = createRng(EPISODE_SEED).fork(step.name).seed;
    const build = (o: TunedOptions) => {
      const r = createMethod(step.name, { ...ctx, options: fitOptionsFrom(o) });
      return { method: r.method, config: r.config };
    };
    let chosen: MethodChoice;
    if ('points' in step) {
      hooks.phase?.(i, plan.length, `${step.name}: ${step.points.length} settings on ${families.map((f) => f.family).join(' + ')}`, eta);
      chosen = tuneMethod({ method: step.name, points: step.points, build }, families, seed, progress);
    } else {
      const leaderChoices = choices[step.leader] ?? req.earlier!.choices[step.leader];
      follows[step.name] = step.leader;
      hooks.phase?.(i, plan.length, `${step.name}: the settings ${step.leader} chose, varying ${step.vary.map((v) => JSON.stringify(v)).join(' / ')}`, eta);
      const parts = Object.entries(leaderChoices).map(([shots, o]) => tuneMethod(
        { method: step.name, points: step.vary.map((v) => ({ ...o, ...v })), build },
        families.map((f) => ({ ...f, episodes: new Map([...f.episodes].filter(([k]) => String(k) === shots)) })),
        seed, progress));
      chosen = { results: parts.flatMap((c) => c.results), choices: Object.assign({}, ...parts.map((c) => c.choices)) };
    }
    choices[step.name] = chosen.choices;
    results.push(...chosen.results);
    hooks.method?.(step.name, chosen);
  }
  return {
    suite: suiteName, split: 'val', episodes: req.episodes, episodeSeed: EPISODE_SEED, createdAt: new Date().toISOString(),
    command: req.command, priorId: prior.id, follows, choices, results,
  };
}
