/**
 * Adam (Kingma & Ba) on a flat parameter vector, for the meta-learners' outer loops and
 * per-cluster / per-task training. Same constants as adapt.ts's `fineTune`. The state holds
 * only the moments and the step count; `adamStep` updates θ in place.
 */
import type { Vec } from './linalg.ts';

export interface AdamState {
  t: number;
  readonly m: Float64Array;
  readonly v: Float64Array;
}

export function initAdam(dim: number): AdamState {
  return { t: 0, m: new Float64Array(dim), v: new Float64Array(dim) };
}

/** θ ← θ − lr·m̂/(√v̂ + ε) for a gradient of the loss (descent). */
export function adamStep(state: AdamState, theta: Float32Array, grad: ArrayLike<number>, lr: number): void {
  const b1 = 0.9, b2 = 0.999, eps = 1e-8;
  state.t++;
  const c1 = 1 - Math.pow(b1, state.t), c2 = 1 - Math.pow(b2, state.t);
  const { m, v } = state;
  for (let i = 0; i < theta.length; i++) {
    m[i] = b1 * m[i] + (1 - b1) * grad[i];
    v[i] = b2 * v[i] + (1 - b2) * grad[i] * grad[i];
    theta[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
  }
}

/** ‖v‖₂. */
export function l2norm(v: Vec): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}
