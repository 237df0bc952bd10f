/**
 * Central finite differences for gradient tests. θ is Float32Array, so each probe uses the
 * actually-representable step (θ+h and θ−h rounded to float32); the loss itself is computed
 * in Float64 by the code under test.
 */
import { createRng, type Rng } from '../adapters/rng.ts';

/** Relative error |a−b| / max(|a|, |b|, floor). */
export function relError(a: number, b: number, floor = 1e-8): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), floor);
}

/**
 * Compares the analytic directional derivative grad·v with the central difference
 * (L(θ+hv) − L(θ−hv)) / 2h along `nDirs` random unit directions, and `nCoords` single coordinates.
 * Returns the worst relative error.
 */
export function worstFdError(
  loss: (theta: Float32Array) => number, theta: Float32Array, grad: ArrayLike<number>,
  opts: { h?: number; nDirs?: number; nCoords?: number; rng?: Rng } = {},
): number {
  const h = opts.h ?? 1e-4;
  const rng = opts.rng ?? createRng(99);
  let worst = 0;
  const probe = (v: Float64Array): void => {
    const vNorm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    for (let i = 0; i < v.length; i++) v[i] /= vNorm;
    const plus = Float32Array.from(theta, (t, i) => t + h * v[i]);
    const minus = Float32Array.from(theta, (t, i) => t - h * v[i]);
    let analytic = 0;
    let stepNorm2 = 0;
    for (let i = 0; i < theta.length; i++) {
      const step = plus[i] - minus[i];
      analytic += grad[i] * step;
      stepNorm2 += step * step;
    }
    const numeric = loss(plus) - loss(minus);
    if (stepNorm2 === 0) return;
    worst = Math.max(worst, relError(numeric, analytic, 1e-10));
  };
  for (let k = 0; k < (opts.nDirs ?? 4); k++) probe(Float64Array.from(theta, () => rng.normal()));
  // Coordinates with the largest |grad| (small ones are dominated by rounding).
  const order = Array.from(grad, (g, i) => [Math.abs(g), i] as const).sort((a, b) => b[0] - a[0]);
  for (let k = 0; k < Math.min(opts.nCoords ?? 4, order.length); k++) {
    const v = new Float64Array(theta.length);
    v[order[k][1]] = 1;
    probe(v);
  }
  return worst;
}
