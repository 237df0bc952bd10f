/**
 * `npm run mixture -- --suite text-mixed`: does a prior with several components beat one on a
 * suite whose training tasks come from several families? Trains LiFT in-process on the suite's
 * training tasks (one shared warm start) with the single-φ hierarchy (1 cluster) and the mixture
 * hierarchy with 2, 3, … clusters, and scores LiFT-MAP on each family's episodes at each
 * test-time prior scale λ. Per variant it records accuracy against "no fine-tuning" (prototypes
 * under the picked component's mean), ‖θ_MAP − μ‖, the share of predictions fine-tuning changed,
 * and a contingency table: family of the episode × component LiFT-MAP picked (and, for the
 * training tasks, family × cluster the chain assigned). With K > 1 it also scores an oracle
 * router: each family's episodes start from the component that holds most of that family's
 * training tasks. It bounds what better routing could add; it is a diagnostic, never a
 * method, since a new task does not come with its family.
 *
 * Runs on meta-validation episodes only and records the choice (best mean accuracy over families
 * and shot counts), which a suite's prior setting takes (service/train-prior.ts); whether K > 1
 * beats K = 1 on meta-test is read from `npm run eval` reports. Writes reports/mixture-<suite>-val.{json,md};
 * nothing is stored in the registry except cached features.
 */
import { mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { adaptMap, fineTune, predictQuery, prepareSupport } from '../adapters/adapt.ts';
import { loraShape } from '../adapters/lora.ts';
import { scalePrior } from '../adapters/method.ts';
import { inducePrior, type MixturePrior } from '../adapters/mixture-prior.ts';
import { cacheRows } from '../adapters/task-likelihood.ts';
import { familyOf } from '../benchmarks/mixed.ts';
import { accuracy, argmax, meanWithCi95, type MeanCi } from '../benchmarks/metrics.ts';
import { SUITE_NAMES, loadSuite, type SuiteName } from '../benchmarks/suites.ts';
import { DEFAULT_BUDGET } from '../service/methods.ts';
import { startProgress } from '../service/progress.ts';
import { Runtime } from '../service/runtime.ts';
import { suiteEpisodes, type FamilyEpisodes } from '../service/suite-episodes.ts';
import { priorConfigFor, runLift, trainingTaskData, warmStart } from '../service/train-prior.ts';
import { integerAtLeast } from './cli-options.ts';

const program = new Command()
  .name('mixture')
  .description('K = 1 vs the mixture hierarchy with K > 1 on a suite: LiFT-MAP accuracy per family and which component each family picks.')
  .requiredOption('--suite <name>', `one of: ${SUITE_NAMES.join(', ')}`)
  .option('--clusters <list>', 'cluster counts of the grid (1 = single φ)', '1,2,3,4')
  .option('--prior-scales <list>', 'test-time prior scales λ of the grid', '1,0.1')
  .option('--episodes <n>', 'episodes per family and shot count', integerAtLeast(1), 60)
  .option('--tasks-per-family <n>', 'training tasks per family (the first n of each; default all)', integerAtLeast(1))
  .option('--chain-steps <n>', 'SGLD-Gibbs steps (default: the suite\'s prior setting; burn-in stays a quarter)', integerAtLeast(4))
  .option('--steps <n>', 'LiFT-MAP fine-tuning steps', integerAtLeast(0), DEFAULT_BUDGET.steps)
  .option('--lr <x>', 'LiFT-MAP learning rate', String(DEFAULT_BUDGET.lr))
  .option('--registry <url>', 'registry URL (sqlite:<path> or postgres://…)')
  .parse();

const opts = program.opts<{ suite: string; clusters: string; priorScales: string; episodes: number; tasksPerFamily?: number; chainSteps?: number; steps: number; lr: string; registry?: string }>();

function numbers(text: string, what: string, int: boolean): number[] {
  const out = text.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((v) => !Number.isFinite(v) || v <= 0 || (int && !Number.isInteger(v)))) {
    program.error(`--${what}: expected comma-separated ${int ? 'positive integers' : 'positive numbers'}, got '${text}'`);
  }
  return out;
}

interface Cell {
  readonly family: string;
  readonly shots: number;
  readonly accuracy: MeanCi;
  readonly noFineTuning: MeanCi;
  /** ‖θ_MAP − μ_picked‖. */
  readonly move: MeanCi;
  /** Share of query predictions that differ from no fine-tuning. */
  readonly differ: MeanCi;
  /** Episodes per picked component. */
  readonly picked: number[];
  /** K > 1: the family's home component (most of its training tasks) and accuracy starting from it. */
  readonly oracle?: { readonly component: number; readonly accuracy: MeanCi };
}

interface VariantResult {
  readonly clusters: number;
  readonly priorScale: number;
  readonly trainSeconds: number;
  readonly components: number;
  readonly weights: number[];
  readonly chain: unknown;
  /** Training family -> tasks per stored component (mixture hierarchy only). */
  readonly training: Record<string, number[]> | null;
  readonly cells: Cell[];
  /** Mean of the cells' accuracies: what the choice compares. */
  readonly meanAccuracy: number;
}

interface MixtureReport {
  readonly suite: string;
  readonly split: 'val';
  readonly command: string;
  readonly createdAt: string;
  readonly episodes: number;
  readonly fit: { steps: number; lr: number };
  /** Training tasks used and the chain's steps. */
  readonly trainTasks: number;
  readonly tasksPerFamily: number | null;
  readonly chainSteps: number;
  readonly variants: VariantResult[];
  /** The best variant. */
  readonly chosen: { clusters: number; priorScale: number };
  /** Per cluster count, the λ chosen for it on val. */
  readonly scaleFor: Record<string, number>;
}

const reportPath = (suite: string, split: string, ext: string) => new URL(`../reports/mixture-${suite}-${split}.${ext}`, import.meta.url).pathname;

function evaluateVariant(
  prior: MixturePrior, priorScale: number, families: readonly FamilyEpisodes[], layer: Parameters<typeof prepareSupport>[0],
  shape: ReturnType<typeof loraShape>, tau: number, fit: { steps: number; lr: number }, label: string,
  home: ReadonlyMap<string, number> | null,
): Cell[] {
  const ind = inducePrior(scalePrior(prior, priorScale));
  const K = prior.weights.length;
  const total = families.reduce((s, f) => s + [...f.episodes.values()].reduce((t, e) => t + e.length, 0), 0);
  const progress = startProgress(label, total);
  let done = 0;
  const cells: Cell[] = [];
  for (const f of families) {
    for (const [shots, episodes] of f.episodes) {
      const acc: number[] = [], acc0: number[] = [], move: number[] = [], differ: number[] = [], accOracle: number[] = [];
      const homeK = home?.get(f.family);
      const picked = new Array<number>(K).fill(0);
      for (const ep of episodes) {
        const ctx = prepareSupport(layer, shape, { features: ep.support.map(f.lookup), labels: ep.supportLabels }, ep.classes.length, tau);
        const query = cacheRows(layer, ep.query.map(f.lookup));
        const map = adaptMap(ind, ctx, fit);
        const mu = prior.means[map.component];
        let d2 = 0;
        for (let j = 0; j < mu.length; j++) d2 += (map.theta[j] - mu[j]) ** 2;
        const p = predictQuery(ctx, map.theta, query, map.head);
        const p0 = predictQuery(ctx, Float32Array.from(mu), query);
        acc.push(accuracy(p, ep.queryLabels));
        acc0.push(accuracy(p0, ep.queryLabels));
        move.push(Math.sqrt(d2));
        differ.push(p.filter((row, i) => argmax(row) !== argmax(p0[i])).length / p.length);
        picked[map.component]++;
        if (homeK !== undefined) {
          const routed = homeK === map.component ? map : fineTune(prior.means[homeK], ctx, { ...fit, prior: { kind: 'mixture', prior: ind } });
          accOracle.push(accuracy(predictQuery(ctx, routed.theta, query, routed.head), ep.queryLabels));
        }
        progress.update(++done);
      }
      const oracle = homeK === undefined ? {} : { oracle: { component: homeK, accuracy: meanWithCi95(accOracle) } };
      cells.push({ family: f.family, shots, accuracy: meanWithCi95(acc), noFineTuning: meanWithCi95(acc0), move: meanWithCi95(move), differ: meanWithCi95(differ), picked, ...oracle });
    }
  }
  progress.stop();
  return cells;
}

/**
 * The shared warm start, kept in data/ between runs (it is the slow part on a busy machine and
 * depends only on the suite's tasks and the named settings).
 */
function cachedWarmStart(key: string, compute: () => Float32Array[]): Float32Array[] {
  const file = new URL(`../data/mixture-warm-${key}.json`, import.meta.url).pathname;
  if (existsSync(file)) {
    const rows = JSON.parse(readFileSync(file, 'utf8')) as number[][];
    console.log(`warm start: ${rows.length} adapters from ${file}`);
    return rows.map((r) => Float32Array.from(r));
  }
  const thetas = compute();
  mkdirSync(new URL('../data/', import.meta.url).pathname, { recursive: true });
  writeFileSync(file, JSON.stringify(thetas.map((t) => Array.from(t))));
  return thetas;
}

const pct = (m: MeanCi) => `${(100 * m.mean).toFixed(1)} ± ${(100 * m.ci95).toFixed(1)}`;

function toMarkdown(r: MixtureReport): string {
  const lines: string[] = [];
  const cellKeys = r.variants[0].cells.map((c) => `${c.family} ${c.shots}-shot`);
  lines.push(`# LiFT with one vs several prior components: ${r.suite} (${r.split})`, '');
  lines.push(`\`${r.command}\` — ${r.episodes} episodes per family and shot count (5-way), LiFT-MAP ${r.fit.steps} steps at lr ${r.fit.lr}; priors trained on ${r.trainTasks} training tasks, ${r.chainSteps} SGLD-Gibbs steps; ${r.createdAt}.`, '');
  lines.push(`Chosen on this split (best mean accuracy over the columns): **${r.chosen.clusters} cluster${r.chosen.clusters > 1 ? 's' : ''}, λ = ${r.chosen.priorScale}**.`, '');
  lines.push('Accuracy (%, mean ± 95% CI over episodes); "live" = prior components after pruning.', '');
  lines.push(`| clusters | λ | live | train s | ${cellKeys.join(' | ')} | mean |`);
  lines.push(`|---:|---:|---:|---:|${cellKeys.map(() => '---:').join('|')}|---:|`);
  for (const v of r.variants) {
    lines.push(`| ${v.clusters} | ${v.priorScale} | ${v.components} | ${v.trainSeconds.toFixed(0)} | ${v.cells.map((c) => pct(c.accuracy)).join(' | ')} | ${(100 * v.meanAccuracy).toFixed(2)} |`);
  }
  lines.push('', 'Does fine-tuning move θ? Per variant and column: no-fine-tuning accuracy / ‖θ_MAP − μ‖ / share of predictions changed.', '');
  lines.push(`| clusters | λ | ${cellKeys.join(' | ')} |`);
  lines.push(`|---:|---:|${cellKeys.map(() => '---').join('|')}|`);
  for (const v of r.variants) {
    lines.push(`| ${v.clusters} | ${v.priorScale} | ${v.cells.map((c) => `${pct(c.noFineTuning)} / ${c.move.mean.toFixed(3)} / ${(100 * c.differ.mean).toFixed(1)}%`).join(' | ')} |`);
  }
  for (const v of r.variants.filter((x) => x.components > 1)) {
    const K = v.components;
    const head = Array.from({ length: K }, (_, k) => `component ${k} (w ${v.weights[k].toFixed(2)})`);
    lines.push('', `## ${v.clusters} clusters, λ = ${v.priorScale}: component picked per family`, '');
    lines.push(`| episodes of | ${head.join(' | ')} |`, `|---|${head.map(() => '---:').join('|')}|`);
    for (const c of v.cells) lines.push(`| ${c.family} ${c.shots}-shot | ${c.picked.join(' | ')} |`);
    if (v.cells.some((c) => c.oracle)) {
      const one = r.variants.find((x) => x.clusters === 1);
      lines.push('', 'Oracle router (a diagnostic: each family starts from the component holding most of its training tasks): accuracy against the chain\'s own pick' +
        `${one ? ` and one cluster (λ ${one.priorScale})` : ''}.`, '');
      lines.push(`| episodes of | home component | oracle router | picked | ${one ? 'one cluster |' : ''}`, `|---|---:|---:|---:|${one ? '---:|' : ''}`);
      v.cells.forEach((c, i) => {
        if (c.oracle) lines.push(`| ${c.family} ${c.shots}-shot | ${c.oracle.component} | ${pct(c.oracle.accuracy)} | ${pct(c.accuracy)} | ${one ? `${pct(one.cells[i].accuracy)} |` : ''}`);
      });
    }
    if (v.training) {
      lines.push('', `Training tasks per family and cluster (final assignment of the chain; −1 = pruned cluster):`, '');
      lines.push(`| training tasks of | ${head.join(' | ')} | pruned |`, `|---|${head.map(() => '---:').join('|')}|---:|`);
      for (const [fam, counts] of Object.entries(v.training)) lines.push(`| ${fam} | ${counts.slice(0, K).join(' | ')} | ${counts[K]} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  if (!(SUITE_NAMES as string[]).includes(opts.suite)) program.error(`--suite: unknown suite '${opts.suite}'; valid: ${SUITE_NAMES.join(', ')}`);
  const suiteName = opts.suite as SuiteName;
  const split = 'val';
  const fit = { steps: opts.steps, lr: numbers(opts.lr, 'lr', false)[0] };
  const { tasksPerFamily, chainSteps } = opts;
  const scales = numbers(opts.priorScales, 'prior-scales', false);
  const grid = numbers(opts.clusters, 'clusters', true).flatMap((clusters) => scales.map((priorScale) => ({ clusters, priorScale })));
  const clusterCounts = [...new Set(grid.map((g) => g.clusters))];

  const runtime = await Runtime.open({ registryUrl: opts.registry });
  try {
    const full = await loadSuite(suiteName);
    const familyOfTask = (classes: readonly string[]) => (full.families ? familyOf(classes[0]) : suiteName);
    const seen = new Map<string, number>();
    const suite = tasksPerFamily === undefined ? full : {
      ...full,
      trainTasks: full.trainTasks.filter((t) => {
        const fam = familyOfTask(t.classes);
        seen.set(fam, (seen.get(fam) ?? 0) + 1);
        return seen.get(fam)! <= tasksPerFamily!;
      }),
    };
    const backbone = await runtime.backbones.forModality(suite.modality);
    const layer = backbone.encoder.layer;
    const base = priorConfigFor(suiteName);
    const cfg = chainSteps === undefined ? base : { ...base, steps: chainSteps, burnIn: Math.floor(chainSteps / 4) };
    const shape = loraShape(layer, cfg.rank, cfg.alpha);
    const { data } = await trainingTaskData(runtime.store, backbone, suite);
    const families = await suiteEpisodes(runtime.store, backbone, suiteName, { split, count: opts.episodes });
    const trainFamily = suite.trainTasks.map((t) => familyOfTask(t.classes));
    const warm = cachedWarmStart(`${suiteName}-t${suite.trainTasks.length}-r${cfg.rank}-w${cfg.warmSteps}-p${cfg.pooledSteps}-s${cfg.seed}`, () => warmStart(layer, data, cfg));
    const variants: VariantResult[] = [];
    for (const [ci, clusters] of clusterCounts.entries()) {
      const phase = `[phase ${ci + 1} of ${clusterCounts.length}]`;
      const t0 = Date.now();
      const result = runLift(layer, data, { ...cfg, clusters, K: clusters > 1 ? 1 : cfg.K }, {}, warm, `${phase} LiFT, ${clusters} cluster(s)`);
      const trainSeconds = (Date.now() - t0) / 1000;
      const K = result.prior.weights.length;
      let training: Record<string, number[]> | null = null;
      let home: Map<string, number> | null = null;
      if (result.diagnostics.taskComponents) {
        training = {};
        result.diagnostics.taskComponents.forEach((k, i) => {
          const row = (training![trainFamily[i]] ??= new Array<number>(K + 1).fill(0));
          row[k < 0 ? K : k]++;
        });
        if (K > 1) home = new Map(Object.entries(training).map(([fam, counts]) => [fam, counts.slice(0, K).indexOf(Math.max(...counts.slice(0, K)))]));
      }
      for (const { priorScale } of grid.filter((g) => g.clusters === clusters)) {
        const cells = evaluateVariant(result.prior, priorScale, families, layer, shape, cfg.tau, fit, `${phase} LiFT-MAP, λ ${priorScale}, ${split}`, home);
        const meanAccuracy = cells.reduce((s, c) => s + c.accuracy.mean, 0) / cells.length;
        variants.push({
          clusters, priorScale, trainSeconds, components: K, weights: Array.from(result.prior.weights),
          chain: result.diagnostics.chain, training, cells, meanAccuracy,
        });
        console.log(`${clusters} cluster(s), λ ${priorScale}: ${K} live, mean accuracy ${(100 * meanAccuracy).toFixed(2)}% — ${cells.map((c) => `${c.family} ${c.shots}-shot ${pct(c.accuracy)}`).join(', ')}`);
      }
    }
    const best = (vs: readonly VariantResult[]) => vs.reduce((a, b) => (b.meanAccuracy > a.meanAccuracy ? b : a));
    const scaleFor = Object.fromEntries(clusterCounts.map((c) => [String(c), best(variants.filter((v) => v.clusters === c)).priorScale]));
    const chosenVariant = best(variants);
    const report: MixtureReport = {
      suite: suiteName, split, command: `npm run mixture -- ${process.argv.slice(2).join(' ')}`, createdAt: new Date().toISOString(),
      episodes: opts.episodes, fit, trainTasks: suite.trainTasks.length, tasksPerFamily: tasksPerFamily ?? null, chainSteps: cfg.steps, variants,
      chosen: { clusters: chosenVariant.clusters, priorScale: chosenVariant.priorScale }, scaleFor,
    };
    mkdirSync(new URL('../reports/', import.meta.url).pathname, { recursive: true });
    writeFileSync(reportPath(suiteName, split, 'json'), `${JSON.stringify(report, null, 1)}\n`);
    writeFileSync(reportPath(suiteName, split, 'md'), toMarkdown(report));
    console.log(`wrote ${reportPath(suiteName, split, 'md')}`);
  } finally {
    await runtime.close();
  }
}

main().catch((err: unknown) => {
  console.error(`mixture: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
