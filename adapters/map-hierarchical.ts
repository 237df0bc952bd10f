/**
 * MAP hierarchical, K = 1 (BoRA-like; LiFT without sampling), the ablation of LiFT's sampler:
 *   maximise  log p(φ) + Σ_i [log p(θ_i | φ) + log p(D_i | θ_i)],
 *   φ ~ N(0, β²I),  θ_i | φ ~ N(φ, σ²I),  D_i | θ_i by the head's likelihood.
 * Block-coordinate ascent with the same per-step cost as SGLD-Gibbs: each step picks a task a
 * and takes one Adam step on −log p(θ_a|φ) − N_a·(mean episode log-lik), then sets φ to its
 * closed-form maximiser given the θ's,
 *   φ = Σ_i θ_i / (n + σ²/β²),
 * kept exact by the running sum S = Σ θ_i (no noise, so this is LiFT's chain with T = 0 and the
 * exact φ update). Test time: MAP fine-tuning from φ under N(φ, σ²I) (an L2 pull of 1/σ²).
 */
import { prepareSupport } from './adapt.ts';
import { adamStep, initAdam, type AdamState } from './adam.ts';
import { check } from './errors.ts';
import { methodFromFit, shapeOf, tuneFrom } from './from-init.ts';
import { initTheta, seededA0, thetaSize, type LayerSpec } from './lora.ts';
import type { AdapterConfig, FewShotMethod, TuneConfig } from './method.ts';
import { episodeBatch, progressReporter, sharedRowCache, type MetaTask } from './meta-task.ts';
import { episodeLoss } from './proto-head.ts';
import type { Rng } from './rng.ts';

export interface MapHierarchicalConfig extends AdapterConfig {
  /** Task updates (each one episode of one task). */
  readonly steps: number;
  /** Adam step size of the θ_i updates. */
  readonly lr: number;
  readonly sigma2: number;
  readonly beta2: number;
  /** Starting θ_i (e.g. independent fine-tuning); default A0 / B = 0 for every task. */
  readonly initThetas?: readonly Float32Array[];
}

export interface MapHierarchicalResult {
  readonly phi: Float32Array;
  readonly thetas: Float32Array[];
  readonly sigma2: number;
  readonly beta2: number;
  /** Mean of the negative objective's task terms over each progress window. */
  readonly lossTrace: number[];
}

/** −log p(θ_a|φ) − N_a·(mean episode log-lik) and its gradient in θ_a (constants dropped). */
function taskObjective(
  theta: Float32Array, phi: Float32Array, nll: { loss: number; grad: ArrayLike<number> }, size: number, sigma2: number,
): { loss: number; grad: Float64Array } {
  const grad = new Float64Array(theta.length);
  let loss = size * nll.loss;
  for (let j = 0; j < theta.length; j++) {
    const r = theta[j] - phi[j];
    loss += (0.5 * r * r) / sigma2;
    grad[j] = size * nll.grad[j] + r / sigma2;
  }
  return { loss, grad };
}

function closedFormPhi(sum: Float64Array, n: number, sigma2: number, beta2: number, out: Float32Array): void {
  const denom = n + sigma2 / beta2;
  for (let j = 0; j < out.length; j++) out[j] = sum[j] / denom;
}

export function mapHierarchicalTrain(
  tasks: readonly MetaTask[], layer: LayerSpec, cfg: MapHierarchicalConfig, rng: Rng,
  onProgress?: (done: number, total: number) => void,
): MapHierarchicalResult {
  const n = tasks.length;
  check(n > 0, () => 'MAP hierarchical: expected at least one task, got 0');
  check(cfg.sigma2 > 0 && cfg.beta2 > 0, () => `σ², β²: expected > 0, got ${cfg.sigma2}, ${cfg.beta2}`);
  const shape = shapeOf(layer, cfg);
  const dim = thetaSize(shape);
  const start = initTheta(shape, seededA0(shape, cfg.a0Seed ?? 0));
  check(!cfg.initThetas || cfg.initThetas.length === n, () => `MAP hierarchical: expected ${n} initial θ_i, got ${cfg.initThetas?.length}`);
  const thetas = (cfg.initThetas ?? tasks.map(() => start)).map((t) => {
    check(t.length === dim, () => `initial θ: expected length ${dim}, got ${t.length}`);
    return Float32Array.from(t);
  });
  const sum = new Float64Array(dim);
  for (const t of thetas) for (let j = 0; j < dim; j++) sum[j] += t[j];
  const phi = new Float32Array(dim);
  closedFormPhi(sum, n, cfg.sigma2, cfg.beta2, phi);
  const adams: AdamState[] = tasks.map(() => initAdam(dim));
  const cache = sharedRowCache(layer);
  const headOpts = { tau: cfg.tau ?? 10, reduction: 'mean' as const };
  const report = progressReporter(cfg.steps, onProgress);
  const stream = rng.fork('map-hierarchical');
  const lossTrace: number[] = [];
  const every = Math.max(1, Math.floor(cfg.steps / 100));
  let window = 0;
  for (let t = 1; t <= cfg.steps; t++) {
    const a = stream.int(n);
    const batch = episodeBatch(cache, tasks[a].sampleEpisode(stream), tasks[a].nWay);
    const theta = thetas[a];
    const nll = episodeLoss(layer, shape, theta, batch, headOpts, new Float64Array(dim));
    const obj = taskObjective(theta, phi, nll, tasks[a].size, cfg.sigma2);
    if (obj.grad.every(Number.isFinite)) {
      const old = Float32Array.from(theta);
      adamStep(adams[a], theta, obj.grad, cfg.lr);
      for (let j = 0; j < dim; j++) sum[j] += theta[j] - old[j];
      closedFormPhi(sum, n, cfg.sigma2, cfg.beta2, phi);
    }
    window += obj.loss;
    if (t % every === 0 || t === cfg.steps) {
      lossTrace.push(window / (t % every === 0 ? every : t % every));
      window = 0;
    }
    report(t);
  }
  return { phi, thetas, sigma2: cfg.sigma2, beta2: cfg.beta2, lossTrace };
}

/** Test time: MAP fine-tuning from φ under N(φ, σ²I) with the shared budget. */
export function mapHierarchicalMethod(result: MapHierarchicalResult, layer: LayerSpec, cfg: TuneConfig): FewShotMethod {
  const shape = shapeOf(layer, cfg);
  check(result.phi.length === thetaSize(shape),
    () => `MAP hierarchical: φ has ${result.phi.length} entries, expected ${thetaSize(shape)} for rank ${shape.rank}`);
  const phi = Float32Array.from(result.phi);
  const prior = { kind: 'l2' as const, center: phi, strength: 1 / result.sigma2 };
  return methodFromFit('map-hierarchical', (support, nWay) =>
    tuneFrom(phi, prepareSupport(layer, shape, support, nWay, cfg.tau ?? 10), cfg, {}, prior));
}
