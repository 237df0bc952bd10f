/**
 * Choosing settings on validation episodes (`npm run tune`): a tiny grid on a synthetic family
 * where fine-tuning matters, built through the same method factory the server and eval use; the
 * recorded file merges per method; every method of the table has a grid; recorded settings are
 * checked before they reach a factory.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createRng } from '../adapters/rng.ts';
import type { Episode } from '../benchmarks/episodes.ts';
import { gridFor } from '../benchmarks/tune-grid.ts';
import { PROTOCOLS } from '../benchmarks/protocols.ts';
import { readRecordedSplits } from '../benchmarks/splits.ts';
import { readTuned, settingsSuiteFor, writeTuned, type TunedFile, type TunedOptions } from '../benchmarks/tuned.ts';
import { tuneMethod, tuneWork, type TuneFamily } from '../benchmarks/tuning.ts';
import type { Example } from '../benchmarks/types.ts';
import { createMethod, fitOptionsFrom, METHOD_NAMES } from '../service/methods.ts';
import { makeEpisode, makeFamily } from './synthetic-tasks.ts';

const rng = createRng(11);
const fam = makeFamily(16, rng.fork('family'));

/** Synthetic episodes as the benchmark types hold them: examples by hash, features by lookup. */
function syntheticFamily(name: string, shots: readonly number[], count: number): TuneFamily {
  const features = new Map<string, Float32Array>();
  const asExamples = (rows: Float32Array[], labels: Int32Array, tag: string): Example[] => rows.map((f, i) => {
    const hash = `${tag}/${i}`;
    features.set(hash, f);
    return { hash, label: String(labels[i]) };
  });
  const episodes = new Map(shots.map((k) => [k, Array.from({ length: count }, (_, index): Episode => {
    const ep = makeEpisode(fam, 5, k, 6, rng.fork(`${name}/${k}/${index}`));
    return {
      index, classes: ['0', '1', '2', '3', '4'],
      support: asExamples(ep.support.features, ep.support.labels, `${name}/${k}/${index}/s`), supportLabels: ep.support.labels,
      query: asExamples(ep.query.features, ep.query.labels, `${name}/${k}/${index}/q`), queryLabels: ep.query.labels,
    };
  })]));
  return { family: name, episodes, lookup: (ex) => features.get(ex.hash)! };
}

describe('tune (validation grid search)', () => {
  const families = [syntheticFamily('a', [1, 5], 6), syntheticFamily('b', [5], 6)];
  const points: TunedOptions[] = [{ steps: 0 }, { steps: 30, lr: 1e-2 }];
  const build = (o: TunedOptions) => {
    const r = createMethod('independent', { layer: fam.layer, prior: null, options: { rank: 2, ...fitOptionsFrom(o) } });
    return { method: r.method, config: r.config };
  };

  it('evaluates every point on every family per shot count and picks the best', () => {
    let seen = 0;
    const { results, choices } = tuneMethod({ method: 'independent', points, build }, families, 7, (n) => { seen += n; });
    assert.equal(seen, tuneWork(families, points.length));
    assert.deepEqual(results.map((r) => [r.shots, r.options]), [[1, points[0]], [1, points[1]], [5, points[0]], [5, points[1]]]);
    const five = results.filter((r) => r.shots === 5);
    for (const r of five) {
      assert.deepEqual(Object.keys(r.families).sort(), ['a', 'b']);
      assert.ok(Math.abs(r.accuracy - (r.families.a.accuracy + r.families.b.accuracy) / 2) < 1e-12, 'score is the mean over families');
      assert.ok(r.msPerTask > 0);
      assert.equal(r.config?.steps, r.options.steps, 'the resolved settings are recorded');
    }
    assert.deepEqual(Object.keys(results.find((r) => r.shots === 1)!.families), ['a'], 'a family without 1-shot episodes is skipped');
    // The nuisance subspace dominates frozen prototypes; 30 steps on the support remove it.
    assert.ok(five[1].accuracy > five[0].accuracy + 0.05, `fine-tuning should win: ${five[0].accuracy} vs ${five[1].accuracy}`);
    assert.deepEqual(choices['5'], points[1]);
    for (const shots of ['1', '5']) {
      const best = Math.max(...results.filter((r) => String(r.shots) === shots).map((r) => r.accuracy));
      assert.equal(results.find((r) => String(r.shots) === shots && r.options === choices[shots])!.accuracy, best);
    }
  });

  it('the same seed gives the same scores; a tie goes to the earlier (cheaper) point', () => {
    const twice = tuneMethod({ method: 'independent', points: [points[0], points[0]], build }, families, 7);
    const once = tuneMethod({ method: 'independent', points: [points[0]], build }, families, 7);
    assert.equal(twice.results[0].accuracy, once.results[0].accuracy);
    assert.equal(twice.choices['5'], twice.results.find((r) => r.shots === 5)!.options);
  });

  it('writes the file and merges a later subset run without losing other methods', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tuned-'));
    const file = (method: string, command: string): TunedFile => ({
      suite: 'toy', split: 'val', episodes: 6, episodeSeed: 7, createdAt: 'now', command,
      choices: { [method]: { 5: { steps: 30 } } }, results: [{ method, shots: 5, options: { steps: 30 }, accuracy: 0.5, families: {}, msPerTask: 1 }],
    });
    writeTuned(file('independent', 'npm run tune -- --suite toy'), dir);
    writeTuned(file('pooled-lora', 'npm run tune -- --suite toy --methods pooled-lora'), dir);
    writeTuned(file('pooled-lora', 'npm run tune -- --suite toy --methods pooled-lora'), dir);
    const merged = readTuned('toy', dir)!;
    assert.deepEqual(Object.keys(merged.choices).sort(), ['independent', 'pooled-lora']);
    assert.equal(merged.results.length, 2);
    assert.equal(merged.command, 'npm run tune -- --suite toy; npm run tune -- --suite toy --methods pooled-lora');
    assert.equal(readTuned('other', dir), null);
  });

  it('every method of the table has a grid; fine-tuning grids include 0 steps', () => {
    for (const name of METHOD_NAMES) {
      const grid = gridFor(name, { mbcVariants: ['c5-mean'] });
      if ('follows' in grid) {
        assert.ok('points' in gridFor(grid.follows, { mbcVariants: [] }), `${name} follows a method with a grid`);
        continue;
      }
      assert.ok(grid.points.length > 0, name);
      const steps = grid.points.map((p) => p.steps).filter((s) => s !== undefined);
      if (steps.length > 0 && !name.includes('-ft')) assert.ok(steps.includes(0), `${name}: 0 steps is a candidate`);
    }
    const maml = gridFor('maml-5', { mbcVariants: [] });
    assert.ok('points' in maml && maml.points.some((p) => Object.keys(p).length === 0), 'the MAML family can replay its own inner loop');
  });

  it('recorded settings are checked before they reach a factory', () => {
    assert.deepEqual(fitOptionsFrom({ steps: 10, lr: 0.01, optimizer: 'gd', variant: 'c5-mean' }), { steps: 10, lr: 0.01, optimizer: 'gd', variant: 'c5-mean' });
    assert.throws(() => fitOptionsFrom({ stepz: 10 }), /stepz/);
    assert.throws(() => fitOptionsFrom({ steps: '10' }), /steps/);
    assert.throws(() => fitOptionsFrom({ optimizer: 'sgd' }), /optimizer/);
  });

  it('a suite without validation classes takes the settings chosen on the suite it was trained on', () => {
    const splits = readRecordedSplits();
    assert.equal(splits.mnist.split.val.length, 0, 'MNIST is test-only');
    assert.equal(settingsSuiteFor('mnist', splits.mnist.split.val.length, PROTOCOLS.mnist.trainOn), 'emoji');
    for (const suite of ['emoji', 'wordnet', 'image-mixed'] as const) {
      assert.ok(splits[suite].split.val.length > 0);
      assert.equal(settingsSuiteFor(suite, splits[suite].split.val.length, PROTOCOLS[suite].trainOn), suite, `${suite} uses its own choices`);
    }
  });
});
