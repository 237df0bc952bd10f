/**
 * Numbers that say whether a LiFT chain and its prior describe a posterior: the effective sample
 * size of a scalar trace, the spread of the θ_i around φ (against the model's √(Dσ²)) and the
 * separation of mixture components.
 */
import { norm } from './linalg.ts';

/**
 * ESS = M / (1 + 2 Σ_k ρ_k) with Geyer's initial positive sequence: autocorrelations are summed
 * in adjacent pairs while each pair's sum stays positive (Geyer 1992). 0 for fewer than 4 samples.
 */
export function effectiveSampleSize(trace: ArrayLike<number>): number {
  const M = trace.length;
  if (M < 4) return 0;
  let mean = 0;
  for (let i = 0; i < M; i++) mean += trace[i];
  mean /= M;
  const acov = (lag: number): number => {
    let s = 0;
    for (let i = 0; i + lag < M; i++) s += (trace[i] - mean) * (trace[i + lag] - mean);
    return s / M;
  };
  const c0 = acov(0);
  if (!(c0 > 0)) return M;
  let sum = 0;
  for (let k = 1; k + 1 < M; k += 2) {
    const pair = (acov(k) + acov(k + 1)) / c0;
    if (pair <= 0) break;
    sum += pair;
  }
  // Pairs start at lag 1, so ρ_0 = 1 is added back: τ = −1 + 2 Σ_{m≥0} (ρ_2m + ρ_2m+1).
  const tau = Math.max(1, 1 + 2 * sum);
  return Math.min(M, M / tau);
}

/** √(mean_i ‖θ_i − φ‖²): the θ_i spread the model expects to be about √(D·σ²) in uninformed directions. */
export function thetaSpread(thetas: readonly ArrayLike<number>[], phi: ArrayLike<number>): number {
  let s = 0;
  for (const th of thetas) for (let j = 0; j < phi.length; j++) s += (th[j] - phi[j]) ** 2;
  return Math.sqrt(s / Math.max(1, thetas.length));
}

/** Fixed seeded unit directions to project φ onto: scalar traces whose ESS stands for the chain's. */
export function projectionDirections(dim: number, count: number, normal: () => number): Float64Array[] {
  return Array.from({ length: count }, () => {
    const v = Float64Array.from({ length: dim }, normal);
    const n = norm(v) || 1;
    return v.map((x) => x / n);
  });
}

export function project(v: ArrayLike<number>, dir: Float64Array): number {
  let s = 0;
  for (let j = 0; j < dir.length; j++) s += v[j] * dir[j];
  return s;
}

/**
 * Smallest pairwise separation of component means in units of the prior's own spread:
 * min_{k≠l} ‖μ_k − μ_l‖ / √(mean_d (s_kd + s_ld)/2 + σ²) / √D. Infinity for one component.
 */
export function componentSeparation(means: readonly ArrayLike<number>[], variances: readonly ArrayLike<number>[], sigma2: number): number {
  let best = Infinity;
  for (let k = 0; k < means.length; k++) {
    for (let l = k + 1; l < means.length; l++) {
      let d2 = 0, v = 0;
      const D = means[k].length;
      for (let j = 0; j < D; j++) {
        d2 += (means[k][j] - means[l][j]) ** 2;
        v += (variances[k][j] + variances[l][j]) / 2;
      }
      best = Math.min(best, Math.sqrt(d2) / Math.sqrt(D * (v / D + sigma2)));
    }
  }
  return best;
}
