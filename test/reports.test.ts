/**
 * Reports people read: full method names, LiFT rows marked, one colour per method that never
 * repeats, the settings each method ran with, and the README results table equal to what the
 * committed reports generate.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { METHOD_NAMES, METHOD_TABLE } from '../adapters/method-table.ts';
import { readReports, resultsTable, withResultsTable, RESULTS_BEGIN, RESULTS_END } from '../benchmarks/readme-results.ts';
import { posteriorVsMap } from '../benchmarks/posterior-vs-map.ts';
import { describeSettings, methodColours, toMarkdown, type ReportRow, type SuiteReport } from '../benchmarks/report.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

const row = (method: string, shots: number, accuracy: number, family?: string): ReportRow => ({
  method, shots, accuracy, ci95: 0.01, episodes: 10, queries: 150, nll: 1, ece: 0.1, msPerTask: 2, ...(family ? { family } : {}),
});

const report = (rows: ReportRow[], settings = true): SuiteReport => ({
  suite: 'text-mixed', trainedOn: 'text-mixed', createdAt: 'now', baseModel: 'm', methods: {},
  protocol: { nWay: 5, queriesPerClass: 15, episodes: 10, episodeSeed: 1 }, rows,
  ...(settings ? {
    settings: {
      file: 'benchmarks/tuned/text-mixed.json', command: 'npm run tune -- --suite text-mixed', note: 'chosen on val',
      perMethod: { 'maml-5': { 5: { source: 'val', options: {}, config: { steps: 5, lr: 0.01, optimizer: 'gd' } } } },
    },
  } : {}),
});

describe('reports', () => {
  it('gives every method of the table its own colour, and other rows free ones', () => {
    const names = [...METHOD_NAMES, 'K=1', 'K=2', 'no J'];
    const colours = methodColours(names);
    assert.equal(new Set(colours.values()).size, names.length, 'a colour repeats');
    assert.equal(methodColours(['lift-map']).get('lift-map'), colours.get('lift-map'), 'a method keeps its colour across reports');
    assert.throws(() => methodColours(Array.from({ length: 21 }, (_, i) => `v${i}`)), /repeat/);
  });

  it('writes full names, LiFT rows in bold, families and the settings each method ran with', () => {
    const md = toMarkdown(report([row('prototypes', 5, 0.7, 'wordnet'), row('lift-map', 5, 0.8, 'wordnet')]));
    assert.ok(md.includes(`| 5 | wordnet | ${METHOD_TABLE.prototypes.title} | 70.0 ± 1.0`), md);
    assert.match(md, /\| \*\*LiFT-MAP\*\* \| 80\.0/);
    assert.match(md, /## Settings/);
    assert.match(md, /MAML \(5 inner steps\) \| 5 \| own inner loop as meta-trained \(5 gd steps, lr 0\.01\)/);
    assert.equal(describeSettings({ source: 'default', options: {}, config: {} }), 'no settings (default: not tuned)');
    assert.equal(describeSettings({ source: 'val', options: { steps: 30, lr: 0.01, priorScale: 0.1 }, config: {} }), 'steps 30, lr 0.01, λ 0.1');
  });

  it('the results table picks the best competitor per family and shot count, and marks stale reports', () => {
    const table = resultsTable([report([
      row('prototypes', 5, 0.70, 'wordnet'), row('reptile', 5, 0.75, 'wordnet'), row('lift-map', 5, 0.74, 'wordnet'), row('lift-posterior', 5, 0.9, 'wordnet'),
      row('prototypes', 5, 0.40, 'brown'), row('lift-map', 5, 0.45, 'brown'),
    ]), { ...report([row('prototypes', 1, 0.5)], false), suite: 'wordnet' }]);
    const lines = table.split('\n');
    assert.equal(lines[2], '| text, mixed families: WordNet supersenses (5) | 70.0 ± 1.0 | Reptile 75.0 ± 1.0 | 74.0 ± 1.0 | 90.0 ± 1.0 | −1.0 |');
    assert.equal(lines[3], `| text, mixed families: Brown genres (5) | 40.0 ± 1.0 | ${METHOD_TABLE.prototypes.title} 40.0 ± 1.0 | 45.0 ± 1.0 | – | +5.0 |`);
    assert.match(lines[4], /^\| WordNet supersenses † \(1\)/);
    assert.match(table, /† wordnet: report made before/);
    assert.throws(() => withResultsTable('no markers', table), /markers/);
    assert.equal(withResultsTable(`a\n${RESULTS_BEGIN}\nold\n${RESULTS_END}\nb`, 'new'), `a\n${RESULTS_BEGIN}\nnew\n${RESULTS_END}\nb`);
  });

  it('compares the posterior with MAP on the same episodes, paired, and states the prior\'s chain diagnostics', () => {
    const episodes = (nll: number[], ece: number[]) => nll.map((v, index) => ({ index, accuracy: 0.5, nll: v, ece: ece[index], ms: 1 }));
    const map = episodes([1.0, 1.2, 0.8, 1.0], [0.10, 0.20, 0.10, 0.20]);
    const post = episodes([0.9, 1.1, 0.7, 0.9], [0.10, 0.10, 0.10, 0.10]);
    const cmp = posteriorVsMap(map, post, 5);
    assert.ok(Math.abs(cmp.nllDiff.mean + 0.1) < 1e-12 && cmp.nllDiff.ci95 < 1e-12, 'a constant paired gain has no spread');
    assert.ok(cmp.nllMap.ci95 > 0.1, 'the unpaired CI keeps the spread between episodes');
    assert.ok(Math.abs(cmp.eceDiff.mean + 0.05) < 1e-12);
    assert.throws(() => posteriorVsMap(map, post.slice(1), 5), /same episodes/);
    const md = toMarkdown({
      ...report([row('lift-map', 5, 0.8)]), posteriorVsMap: [cmp],
      prior: { id: 'pr_1', name: 'lift/wordnet', version: 2, diagnostics: { thetaSpread: 6.1, expectedSpread: 6.4, essPhiMin: 3, essPhiMedian: 7.5, essSpread: 9, componentsAsked: 4, componentsLive: 1, weights: [1], separation: null, varianceOverSigma2: 0.01, temperature: 1 } },
    });
    assert.match(md, /\| 5 \| 1\.000 ± 0\.\d+ \| 0\.900 ± 0\.\d+ \| −0\.100 ± 0\.000 \| 0\.150 ± 0\.\d+ \| 0\.100 ± 0\.000 \| −0\.050 ± 0\.\d+ \|/);
    assert.match(md, /θ_i spread around φ 6\.10 against √\(Dσ²\) = 6\.40; .*min 3\.0, median 7\.5.*live components 1 of 4 asked \(weights 1\.000; smallest separation –\)/);
  });

  it('README.md results table is the one the committed reports generate (npm run report:readme)', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    assert.equal(readme, withResultsTable(readme, resultsTable(readReports(path.join(ROOT, 'reports')))));
  });
});
