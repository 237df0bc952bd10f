/**
 * Micro-benchmark: milliseconds to adapt one 5-way 5-shot task on a 512→512 tanh layer
 * (W a seeded random orthogonal-ish matrix, features like USE-lite `pooled`), for each
 * test-time method. Prints figures only. Usage: npm run bench:adapt -- [--rank 8] [--steps 30]
 */
import { Command } from 'commander';
import { adaptMap, prepareSupport } from '../adapters/adapt.ts';
import { loraShape, seededA0, initTheta, thetaSize, type LayerSpec } from '../adapters/lora.ts';
import { frozenPrototypes, independentLora, liftMap } from '../adapters/method.ts';
import { inducePrior, type MixturePrior } from '../adapters/mixture-prior.ts';
import { createRng, type Rng } from '../adapters/rng.ts';

import { integerAtLeast } from './cli-options.ts';

const { rank, steps } = new Command('bench:adapt')
  .description('Milliseconds to adapt one 5-way 5-shot task on a 512->512 layer, per test-time method.')
  .option('--rank <n>', 'LoRA rank', integerAtLeast(1), 8)
  .option('--steps <n>', 'fine-tuning steps', integerAtLeast(0), 30)
  .parse()
  .opts<{ rank: number; steps: number }>();
const dim = 512, nWay = 5, shots = 5, queries = 15;

/** Orthogonal-ish: Gaussian /√dim rows, one Gram-Schmidt-free pass (singular values ≈ 1 ± 1). */
function randomLayer(rng: Rng): LayerSpec {
  const weight = Float32Array.from({ length: dim * dim }, () => rng.normal() / Math.sqrt(dim));
  const bias = Float32Array.from({ length: dim }, () => 0.01 * rng.normal());
  return { inDim: dim, outDim: dim, weight, bias, activation: 'tanh', normalize: true };
}

function features(n: number, rng: Rng): Float32Array[] {
  const centres = Array.from({ length: nWay }, () => Float32Array.from({ length: dim }, () => 0.05 * rng.normal()));
  return Array.from({ length: n }, (_, i) => Float32Array.from(centres[i % nWay], (c) => c + 0.04 * rng.normal()));
}

const rng = createRng(1);
const layer = randomLayer(rng.fork('layer'));
const shape = loraShape(layer, rank, rank);
const support = { features: features(nWay * shots, rng.fork('s')), labels: Int32Array.from({ length: nWay * shots }, (_, i) => i % nWay) };
const query = features(nWay * queries, rng.fork('q'));
const a0 = initTheta(shape, seededA0(shape, 0));
const prior: MixturePrior = {
  weights: Float64Array.from([0.5, 0.3, 0.2]),
  means: [0, 1, 2].map((k) => Float32Array.from(a0, (v) => v + 0.01 * rng.fork(`m${k}`).normal())),
  variances: [0, 1, 2].map(() => new Float32Array(thetaSize(shape)).fill(1e-3)), sigma2: 1e-3, beta2: 1, dim: thetaSize(shape),
};

function time(label: string, fn: () => void, reps = 10): void {
  fn(); fn();   // warm-up (JIT)
  const t: number[] = [];
  for (let i = 0; i < reps; i++) { const t0 = performance.now(); fn(); t.push(performance.now() - t0); }
  t.sort((a, b) => a - b);
  console.log(`${label.padEnd(52)} median ${t[reps >> 1].toFixed(1)} ms  min ${t[0].toFixed(1)} ms`);
}

console.log(`5-way 5-shot, in=out=${dim}, tanh, rank ${rank}, ${steps} steps, ${queries * nWay} queries`);
const cfg = { rank, steps, lr: 1e-3 };
time('cache support (W·x + b for 25 rows)', () => prepareSupport(layer, shape, support, nWay, 10));
const ctx = prepareSupport(layer, shape, support, nWay, 10);
const ind = inducePrior(prior);
time(`LiFT-MAP adaptation only (K=3, 1 start)`, () => adaptMap(ind, ctx, { steps, lr: 1e-3, starts: 1 }));
time(`LiFT-MAP adaptation only (K=3, best of 2 starts)`, () => adaptMap(ind, ctx, { steps, lr: 1e-3, starts: 2 }));
time('frozen prototypes fitPredict', () => frozenPrototypes(layer).fitPredict(support, query, nWay, rng));
time('independent LoRA fitPredict', () => independentLora(layer, cfg).fitPredict(support, query, nWay, rng));
time('LiFT-MAP fitPredict (cache + adapt + predict 75)', () => liftMap(prior, layer, cfg).fitPredict(support, query, nWay, rng));
