/**
 * Adam (Kingma & Ba) on a flat parameter vector: the update itself (`adamUpdate`, which
 * adapt.ts's `fineTune` applies per parameter block) and a stateful step for the meta-learners'
 * outer loops and per-cluster / per-task training. The state holds only the moments and the step
 * count; `adamStep` updates θ in place.
 */

export interface AdamState {
  t: number;
  readonly m: Float64Array;
  readonly v: Float64Array;
}

export function initAdam(dim: number): AdamState {
  return { t: 0, m: new Float64Array(dim), v: new Float64Array(dim) };
}

/**
 * The Adam update of step t (1-based) in place: moments m, v updated from the gradient g, then
 * x ← x − lr·m̂/(√v̂ + ε) with β1 0.9, β2 0.999, ε 1e-8 (descent).
 */
export function adamUpdate(x: Float32Array, g: ArrayLike<number>, m: Float64Array, v: Float64Array, t: number, lr: number): void {
  const c1 = 1 - Math.pow(0.9, t), c2 = 1 - Math.pow(0.999, t);
  for (let i = 0; i < x.length; i++) {
    m[i] = 0.9 * m[i] + 0.1 * g[i];
    v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
    x[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + 1e-8);
  }
}

/** θ ← θ − lr·m̂/(√v̂ + ε) for a gradient of the loss (descent). */
export function adamStep(state: AdamState, theta: Float32Array, grad: ArrayLike<number>, lr: number): void {
  state.t++;
  adamUpdate(theta, grad, state.m, state.v, state.t, lr);
}
