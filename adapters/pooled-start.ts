/**
 * Where the LiFT chain starts. The hierarchy's σ² → 0 limit is one adapter shared by every
 * task; fitting it by Adam on episodes of randomly chosen tasks takes seconds and puts φ and
 * every θ_i near the region the posterior concentrates in, so the short chain spends its steps
 * refining instead of travelling. Any starting point leaves the sampler's target unchanged.
 */
import { initAdam, adamStep } from './adam.ts';
import { check } from './errors.ts';
import type { Rng } from './rng.ts';
import type { TaskLikelihood } from './sgld-gibbs.ts';

export interface PooledStartOptions {
  readonly steps: number;
  readonly lr: number;
}

/** θ shared by all tasks, maximising Σ_a mean episodic log-lik by Adam from `init`. */
export function pooledStart(
  tasks: readonly TaskLikelihood[], init: Float32Array, opts: PooledStartOptions, rng: Rng,
  onProgress?: (done: number, total: number) => void,
): Float32Array {
  check(tasks.length > 0, () => 'pooled start: expected at least one task, got 0');
  const theta = Float32Array.from(init);
  const adam = initAdam(theta.length);
  const negGrad = new Float64Array(theta.length);
  for (let t = 1; t <= opts.steps; t++) {
    const { grad } = tasks[rng.int(tasks.length)].gradLogLik(theta, rng);
    for (let i = 0; i < grad.length; i++) negGrad[i] = -grad[i];
    if (negGrad.every(Number.isFinite)) adamStep(adam, theta, negGrad, opts.lr);
    onProgress?.(t, opts.steps);
  }
  return theta;
}
