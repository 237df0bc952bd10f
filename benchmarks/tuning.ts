/**
 * Choosing a method's settings on meta-validation episodes: every grid point is evaluated on the
 * same seeded episodes of every family (a mixed-family suite has several), scored by the mean of
 * the families' accuracies, and the best point per shot count is chosen (`pickBest`: ties go to
 * the earlier, cheaper point). Test episodes never reach this code: the caller hands it val only.
 */
import type { Episode } from './episodes.ts';
import { evaluate, type EvaluatedMethod } from './protocol.ts';
import { pickBest, type GridResult, type TunedOptions } from './tuned.ts';
import type { Example } from './types.ts';

/** One family's validation episodes (service/suite-episodes.ts FamilyEpisodes fits). */
export interface TuneFamily {
  readonly family: string;
  /** Shot count -> episodes. */
  readonly episodes: ReadonlyMap<number, readonly Episode[]>;
  readonly lookup: (ex: Example) => Float32Array;
}

/** A method to tune: its grid and how to build it at a grid point. */
export interface TuneTarget {
  readonly method: string;
  readonly points: readonly TunedOptions[];
  readonly build: (options: TunedOptions) => { method: EvaluatedMethod; config?: Readonly<Record<string, unknown>> };
}

export interface MethodChoice {
  /** Every grid point's result, per shot count. */
  readonly results: GridResult[];
  /** Shot count -> chosen settings. */
  readonly choices: Record<string, TunedOptions>;
}

/** Shot counts with episodes in at least one family. */
export function shotCounts(families: readonly TuneFamily[]): number[] {
  return [...new Set(families.flatMap((f) => [...f.episodes.keys()]))].sort((a, b) => a - b);
}

/** Fit+predict calls tuning `points` grid points takes (for progress and ETA). */
export function tuneWork(families: readonly TuneFamily[], points: number): number {
  return points * families.reduce((n, f) => n + [...f.episodes.values()].reduce((m, e) => m + e.length, 0), 0);
}

/**
 * Evaluates every grid point of `target` (in grid order) and picks the best per shot count.
 * `onEpisodes(n)` is called after each (point, family) evaluation with the episodes it ran.
 * `seed` is the per-method stream seed, the same one eval uses, so a val score is reproducible.
 */
export function tuneMethod(
  target: TuneTarget, families: readonly TuneFamily[], seed: number, onEpisodes: (n: number) => void = () => {},
): MethodChoice {
  if (target.points.length === 0) throw new Error(`tune ${target.method}: empty grid`);
  const results: GridResult[] = [];
  const choices: Record<string, TunedOptions> = {};
  const built = target.points.map((options) => ({ options, ...target.build(options) }));
  for (const shots of shotCounts(families)) {
    const atShots: GridResult[] = [];
    for (const { options, method, config } of built) {
      const perFamily: Record<string, { accuracy: number; ci95: number }> = {};
      let ms = 0, tasks = 0;
      for (const f of families) {
        const episodes = f.episodes.get(shots);
        if (!episodes?.length) continue;
        const r = evaluate({ ...method, name: target.method }, episodes, f.lookup, { seed });
        perFamily[f.family] = { accuracy: r.accuracy, ci95: r.ci95 };
        ms += r.msPerTask * r.episodes;
        tasks += r.episodes;
        onEpisodes(r.episodes);
      }
      const accs = Object.values(perFamily).map((p) => p.accuracy);
      atShots.push({
        method: target.method, shots, options, accuracy: accs.reduce((a, b) => a + b, 0) / accs.length,
        families: perFamily, msPerTask: ms / tasks, ...(config ? { config } : {}),
      });
    }
    choices[String(shots)] = pickBest(atShots).options;
    results.push(...atShots);
  }
  return { results, choices };
}
