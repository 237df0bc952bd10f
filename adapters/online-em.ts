/**
 * Diagonal Gaussian mixture, sklearn names: eStep -> { logProbNorm, logResp }, mStep(stats) ->
 * { weights, means, variances, nk }, regVar added to the variances and 10·eps to nk.
 *
 * Online EM (Cappé & Moulines 2009): every kept φ sample updates decayed sufficient statistics
 *   s ← (1 − ρ)·s + ρ·(r, r·x, r·x²),   ρ_t = (t + t0)^−κ,
 * followed by an mStep, so no samples are stored. `batchEm` is the offline reference.
 */
import { check } from './errors.ts';
import { kMeans } from './cluster-math.ts';
import { logSumExp } from './linalg.ts';
import type { Rng } from './rng.ts';

const EPS = 2.220446049250313e-16;
const LOG_2PI = Math.log(2 * Math.PI);

export interface MixtureParams {
  /** [K], sums to 1. */
  readonly weights: Float64Array;
  /** K × [D]. */
  readonly means: readonly Float32Array[];
  /** K × [D], diagonal variances (regVar included). */
  readonly variances: readonly Float32Array[];
}

/** Responsibility-weighted sufficient statistics: nk [K], Σ r·x and Σ r·x² (K × [D]). */
export interface SufficientStats {
  readonly nk: Float64Array;
  readonly sx: readonly Float64Array[];
  readonly sxx: readonly Float64Array[];
}

/** log α_k + log N(x; μ_k, diag v_k) for each k. */
export function estimateWeightedLogProb(params: MixtureParams, x: ArrayLike<number>): Float64Array {
  const K = params.weights.length;
  const out = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const mu = params.means[k], v = params.variances[k];
    let s = 0;
    for (let j = 0; j < mu.length; j++) {
      const d = x[j] - mu[j];
      s += LOG_2PI + Math.log(v[j]) + (d * d) / v[j];
    }
    out[k] = Math.log(params.weights[k]) - 0.5 * s;
  }
  return out;
}

/** E-step for one sample: log p(x) and log responsibilities, through one shared logSumExp. */
export function eStep(params: MixtureParams, x: ArrayLike<number>): { logProbNorm: number; logResp: Float64Array } {
  const weighted = estimateWeightedLogProb(params, x);
  const logProbNorm = logSumExp(weighted);
  for (let k = 0; k < weighted.length; k++) weighted[k] -= logProbNorm;
  return { logProbNorm, logResp: weighted };
}

/** M-step from sufficient statistics; variances are floored at `varFloor` (then regVar added). */
export function mStep(stats: SufficientStats, regVar: number, varFloor = 0): MixtureParams & { nk: Float64Array } {
  const K = stats.nk.length;
  const nk = Float64Array.from(stats.nk, (v) => v + 10 * EPS);
  let total = 0;
  for (let k = 0; k < K; k++) total += nk[k];
  const means: Float32Array[] = [];
  const variances: Float32Array[] = [];
  for (let k = 0; k < K; k++) {
    const mu = Float32Array.from(stats.sx[k], (s) => s / nk[k]);
    means.push(mu);
    variances.push(Float32Array.from(stats.sxx[k], (s, j) => Math.max(s / nk[k] - mu[j] * mu[j], varFloor) + regVar));
  }
  return { weights: Float64Array.from(nk, (v) => v / total), means, variances, nk };
}

export interface OnlineEmOptions {
  readonly K: number;
  /** Added to every variance (default 1e-6). */
  readonly regVar?: number;
  /** Variance of every component before data arrives (default 1). */
  readonly initVariance?: number;
  /** Seeded jitter of the initial means, in units of √initVariance (default 0.5). */
  readonly jitter?: number;
  /** ρ_t = (t + t0)^−κ, κ ∈ (0.5, 1] (defaults κ = 0.6, t0 = 2). */
  readonly kappa?: number;
  readonly t0?: number;
  /** Lower bound of every variance (default 0): keeps a component from shrinking onto one sample. */
  readonly varFloor?: number;
}

export interface OnlineEmState {
  /** Samples absorbed so far (the first one initialises). */
  readonly t: number;
  readonly stats: SufficientStats;
  readonly params: MixtureParams;
  readonly regVar: number;
  readonly varFloor: number;
}

/** ρ_t = (t + t0)^−κ. */
export function emStepSize(t: number, opts: Pick<OnlineEmOptions, 'kappa' | 't0'> = {}): number {
  return Math.pow(t + (opts.t0 ?? 2), -(opts.kappa ?? 0.6));
}

/** Initialise from the first sample: K means = sample + seeded jitter, equal weights. */
export function initOnlineEm(first: ArrayLike<number>, opts: OnlineEmOptions, rng: Rng): OnlineEmState {
  check(Number.isInteger(opts.K) && opts.K >= 1, () => `mixture K: expected integer >= 1, got ${opts.K}`);
  const v0 = opts.initVariance ?? 1;
  const jitter = (opts.jitter ?? 0.5) * Math.sqrt(v0);
  const regVar = opts.regVar ?? 1e-6;
  const D = first.length;
  const nk = new Float64Array(opts.K).fill(1 / opts.K);
  const sx: Float64Array[] = [];
  const sxx: Float64Array[] = [];
  for (let k = 0; k < opts.K; k++) {
    const mu = Float64Array.from({ length: D }, (_, j) => first[j] + (opts.K > 1 ? jitter * rng.normal() : 0));
    sx.push(Float64Array.from(mu, (m) => nk[k] * m));
    sxx.push(Float64Array.from(mu, (m) => nk[k] * (v0 + m * m)));
  }
  const stats = { nk, sx, sxx };
  return { t: 1, stats, params: mStep(stats, 0), regVar, varFloor: opts.varFloor ?? 0 };
}

/**
 * Initialise from the first samples (rows of X [n, D]): k-means with k-means++ seeds puts every
 * component where samples lie (components started away from the data die), and each cluster's
 * share, mean and variance (floored) become the starting statistics. K is capped at n.
 */
export function initOnlineEmFromSamples(samples: readonly ArrayLike<number>[], opts: OnlineEmOptions, rng: Rng): OnlineEmState {
  const n = samples.length;
  check(n >= 1, () => 'online EM: expected at least one sample to initialise from');
  const D = samples[0].length;
  const K = Math.min(opts.K, n);
  const X = new Float64Array(n * D);
  samples.forEach((x, i) => { for (let j = 0; j < D; j++) X[i * D + j] = x[j]; });
  const labels = K > 1 ? kMeans(X, n, D, K, rng.fork('kmeans'), { restarts: 3 }).labels : new Int32Array(n);
  const nk = new Float64Array(K);
  const sx = Array.from({ length: K }, () => new Float64Array(D));
  const sxx = Array.from({ length: K }, () => new Float64Array(D));
  for (let i = 0; i < n; i++) {
    const k = labels[i];
    nk[k] += 1 / n;
    for (let j = 0; j < D; j++) { sx[k][j] += X[i * D + j] / n; sxx[k][j] += (X[i * D + j] ** 2) / n; }
  }
  const stats = { nk, sx, sxx };
  const regVar = opts.regVar ?? 1e-6, varFloor = opts.varFloor ?? 0;
  return { t: n, stats, params: mStep(stats, regVar, varFloor), regVar, varFloor };
}

/** Drops components with weight below `minWeight` (the heaviest always stays) and renormalises. */
export function pruneMixture(params: MixtureParams, minWeight: number): { params: MixtureParams; kept: number[] } {
  let heaviest = 0;
  params.weights.forEach((w, k) => { if (w > params.weights[heaviest]) heaviest = k; });
  const kept = Array.from(params.weights, (w, k) => k).filter((k) => k === heaviest || params.weights[k] >= minWeight);
  const total = kept.reduce((s, k) => s + params.weights[k], 0);
  return {
    params: {
      weights: Float64Array.from(kept, (k) => params.weights[k] / total),
      means: kept.map((k) => params.means[k]),
      variances: kept.map((k) => params.variances[k]),
    },
    kept,
  };
}

/** One stochastic-approximation EM update with step ρ; returns a new state. */
export function updateOnlineEm(state: OnlineEmState, sample: ArrayLike<number>, rho: number): OnlineEmState {
  check(rho > 0 && rho <= 1, () => `online EM step ρ: expected in (0, 1], got ${rho}`);
  const { logResp } = eStep(state.params, sample);
  const K = logResp.length;
  const nk = new Float64Array(K);
  const sx: Float64Array[] = [];
  const sxx: Float64Array[] = [];
  for (let k = 0; k < K; k++) {
    const r = Math.exp(logResp[k]);
    nk[k] = (1 - rho) * state.stats.nk[k] + rho * r;
    const a = state.stats.sx[k], b = state.stats.sxx[k];
    sx.push(Float64Array.from(a, (s, j) => (1 - rho) * s + rho * r * sample[j]));
    sxx.push(Float64Array.from(b, (s, j) => (1 - rho) * s + rho * r * sample[j] * sample[j]));
  }
  const stats = { nk, sx, sxx };
  return { ...state, t: state.t + 1, stats, params: mStep(stats, state.regVar, state.varFloor) };
}

/** Batch EM on stored samples (reference for tests and small offline fits). */
export function batchEm(
  samples: readonly ArrayLike<number>[], K: number, opts: { iters?: number; tol?: number; regVar?: number }, rng: Rng,
): { params: MixtureParams; lowerBound: number; converged: boolean } {
  check(samples.length >= K, () => `batch EM: expected at least K=${K} samples, got ${samples.length}`);
  const regVar = opts.regVar ?? 1e-6;
  const D = samples[0].length;
  let global = 0;
  for (const x of samples) for (let j = 0; j < D; j++) global += x[j] * x[j];
  const picks = new Set<number>();
  while (picks.size < K) picks.add(rng.int(samples.length));
  let params: MixtureParams = {
    weights: new Float64Array(K).fill(1 / K),
    means: [...picks].map((i) => Float32Array.from(samples[i])),
    variances: Array.from({ length: K }, () => new Float32Array(D).fill(global / samples.length / D + regVar)),
  };
  let lowerBound = -Infinity;
  for (let it = 0; it < (opts.iters ?? 100); it++) {
    const nk = new Float64Array(K);
    const sx = Array.from({ length: K }, () => new Float64Array(D));
    const sxx = Array.from({ length: K }, () => new Float64Array(D));
    let total = 0;
    for (const x of samples) {
      const { logProbNorm, logResp } = eStep(params, x);
      total += logProbNorm;
      for (let k = 0; k < K; k++) {
        const r = Math.exp(logResp[k]);
        nk[k] += r;
        for (let j = 0; j < D; j++) { sx[k][j] += r * x[j]; sxx[k][j] += r * x[j] * x[j]; }
      }
    }
    params = mStep({ nk, sx, sxx }, regVar);
    const next = total / samples.length;
    if (Math.abs(next - lowerBound) < (opts.tol ?? 1e-6)) return { params, lowerBound: next, converged: true };
    lowerBound = next;
  }
  return { params, lowerBound, converged: false };
}
