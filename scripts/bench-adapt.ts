/**
 * Speed figures of LiFT and the plain methods at the settings chosen on meta-validation (the
 * defaults of service/methods.ts and service/train-prior.ts): milliseconds to fit one 5-way
 * 5-shot task on a 512→512 tanh layer (the USE-lite placement's shape; a seeded random layer and
 * features), and seconds of SGLD-Gibbs sampling for a prior over 200 such tasks. Prints a
 * machine-speed line first (multiply-adds per ns of a plain loop) so figures from a loaded
 * machine can be read as such, and the process CPU time of each run (every thread, so the garbage
 * collector's helpers too): a busy machine stretches wall time by its load but CPU time only by
 * what shared caches and sibling hyper-threads take. Prints figures only.
 */
import { Command } from 'commander';
import { adaptMap, prepareSupport } from '../adapters/adapt.ts';
import { constantSchedule } from '../adapters/diffusions.ts';
import { trainLift } from '../adapters/lift.ts';
import { loraShape, seededA0, initTheta, thetaSize, type LayerSpec } from '../adapters/lora.ts';
import { frozenPrototypes, independentLora, liftMap } from '../adapters/method.ts';
import { inducePrior, type MixturePrior } from '../adapters/mixture-prior.ts';
import { createRng, type Rng } from '../adapters/rng.ts';
import { episodicTaskLikelihood } from '../adapters/task-likelihood.ts';
import { DEFAULT_BUDGET } from '../service/methods.ts';
import { DEFAULT_PRIOR_CONFIG } from '../service/train-prior.ts';
import { integerAtLeast } from './cli-options.ts';

const opts = new Command('bench:adapt')
  .description('Fit time per method (5-way 5-shot, 512->512) and prior sampling time over 200 tasks, at the chosen defaults.')
  .option('--rank <n>', 'LoRA rank', integerAtLeast(1), DEFAULT_PRIOR_CONFIG.rank)
  .option('--steps <n>', 'fine-tuning steps', integerAtLeast(0), DEFAULT_BUDGET.steps)
  .option('--prior-tasks <n>', 'tasks of the timed prior (0 skips it)', integerAtLeast(0), 200)
  .option('--prior-steps <n>', 'SGLD-Gibbs steps of the timed prior', integerAtLeast(2), DEFAULT_PRIOR_CONFIG.steps)
  .parse()
  .opts<{ rank: number; steps: number; priorTasks: number; priorSteps: number }>();

const { rank, steps } = opts;
const dim = 512, nWay = 5, shots = 5, queries = 15;

function randomLayer(rng: Rng): LayerSpec {
  const weight = Float32Array.from({ length: dim * dim }, () => rng.normal() / Math.sqrt(dim));
  const bias = Float32Array.from({ length: dim }, () => 0.01 * rng.normal());
  return { inDim: dim, outDim: dim, weight, bias, activation: 'tanh', normalize: true };
}

function features(n: number, rng: Rng): Float32Array[] {
  const centres = Array.from({ length: nWay }, () => Float32Array.from({ length: dim }, () => 0.05 * rng.normal()));
  return Array.from({ length: n }, (_, i) => Float32Array.from(centres[i % nWay], (c) => c + 0.04 * rng.normal()));
}

function machineSpeed(): number {
  const a = new Float64Array(1 << 20).fill(1.0001), b = new Float64Array(1 << 20).fill(0.5);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  const t0 = performance.now();
  for (let r = 0; r < 20; r++) for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s > 0 ? (20 * a.length) / ((performance.now() - t0) * 1e6) : 0;
}

const speed = machineSpeed();

/** CPU milliseconds (user + system) of this process since `start`. */
function cpuMs(start: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(start);
  return (c.user + c.system) / 1000;
}

/**
 * Median and min wall time of `reps` runs, their median CPU time, and the median scaled by the
 * machine speed measured right before and after the runs (their mean): a rough idle-core
 * (~1 multiply-add/ns) figure, kept beside CPU time as a cross-check.
 */
function time(label: string, fn: () => void, reps = 15): number {
  // Warm-up: a serving process fits many tasks, so time the optimised code, not the JIT's first passes.
  for (let i = 0, t0 = performance.now(); i < 3 || performance.now() - t0 < 500; i++) fn();
  const before = machineSpeed();
  const t: number[] = [], cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
    cpu.push(cpuMs(c0));
  }
  const around = Math.min(1, (before + machineSpeed()) / 2);
  t.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  console.log(`${label.padEnd(56)} CPU ${cpu[reps >> 1].toFixed(1)} ms  wall median ${t[reps >> 1].toFixed(1)} ms, min ${t[0].toFixed(1)} ms  (machine ${around.toFixed(2)}; idle-core estimate ${(t[reps >> 1] * around).toFixed(1)} ms)`);
  return t[0];
}

console.log(`machine: ${speed.toFixed(3)} multiply-adds/ns in a plain loop (an idle core does ~1)`);
const rng = createRng(1);
const layer = randomLayer(rng.fork('layer'));
const shape = loraShape(layer, rank, rank);
const support = { features: features(nWay * shots, rng.fork('s')), labels: Int32Array.from({ length: nWay * shots }, (_, i) => i % nWay) };
const query = features(nWay * queries, rng.fork('q'));
const a0 = initTheta(shape, seededA0(shape, 0));
const prior: MixturePrior = {
  weights: Float64Array.from([0.5, 0.3, 0.2]),
  means: [0, 1, 2].map((k) => Float32Array.from(a0, (v) => v + 0.01 * rng.fork(`m${k}`).normal())),
  variances: [0, 1, 2].map(() => new Float32Array(thetaSize(shape)).fill(1e-5)), sigma2: DEFAULT_PRIOR_CONFIG.sigma2, beta2: 1, dim: thetaSize(shape),
};

console.log(`\n5-way 5-shot, in=out=${dim}, tanh, rank ${rank}, ${steps} steps (lr ${DEFAULT_BUDGET.lr}), ${queries * nWay} queries`);
const cfg = { rank, steps, lr: DEFAULT_BUDGET.lr };
const ctx = prepareSupport(layer, shape, support, nWay, 10);
const ind = inducePrior(prior);
// The step counts of the validation grid (benchmarks/tune-grid.ts): what each costs.
for (const s of [...new Set([0, 10, steps])].sort((a, b) => a - b)) {
  time(`LiFT-MAP adaptation only (K=3, 1 start, ${s} steps)`, () => adaptMap(ind, ctx, { steps: s, lr: DEFAULT_BUDGET.lr, starts: 1 }));
}
time('frozen prototypes fitPredict', () => frozenPrototypes(layer).fitPredict(support, query, nWay, rng));
time('independent LoRA fitPredict', () => independentLora(layer, cfg).fitPredict(support, query, nWay, rng));
time('LiFT-MAP fit (cache + adapt, features seen before)', () => liftMap(prior, layer, cfg).fit(support, nWay, rng));
time('LiFT-MAP fitPredict (cache + adapt + predict 75)', () => liftMap(prior, layer, cfg).fitPredict(support, query, nWay, rng));

const nTasks = opts.priorTasks, priorSteps = opts.priorSteps;
if (nTasks > 0) {
  const tasks = Array.from({ length: nTasks }, (_, t) => {
    const data = { features: features(60, rng.fork(`task${t}`)), labels: Int32Array.from({ length: 60 }, (_, i) => i % nWay) };
    return episodicTaskLikelihood(layer, shape, data, { nWay, shots: DEFAULT_PRIOR_CONFIG.shots, queries: DEFAULT_PRIOR_CONFIG.queries, tau: 10 });
  });
  const c = DEFAULT_PRIOR_CONFIG;
  const before = machineSpeed();
  const c0 = process.cpuUsage(), t0 = performance.now();
  const out = trainLift(tasks, tasks.map(() => Float32Array.from(a0)), {
    steps: priorSteps, burnIn: Math.min(c.burnIn, priorSteps - 1), thinning: c.thinning, sigma2: c.sigma2, beta2: c.beta2,
    stepSize: constantSchedule(c.stepSize), temperature: c.temperature, em: { K: c.K },
  }, rng.fork('prior'));
  const s = (performance.now() - t0) / 1000, cpuS = cpuMs(c0) / 1000;
  const around = Math.min(1, (before + machineSpeed()) / 2);
  console.log(`\nprior over ${nTasks} tasks: ${priorSteps} SGLD-Gibbs steps + online EM (K=${c.K}): CPU ${cpuS.toFixed(1)} s (${(1000 * cpuS / priorSteps).toFixed(2)} ms/step); wall ${s.toFixed(1)} s (machine ${around.toFixed(2)}; idle-core estimate ${(s * around).toFixed(1)} s)`);
  console.log(`  θ_i spread ${out.diagnostics.chain.thetaSpread.toFixed(3)} vs √(Dσ²) ${out.diagnostics.chain.expectedSpread.toFixed(3)}; live components ${out.diagnostics.chain.componentsLive}`);
}
