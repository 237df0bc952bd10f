/**
 * Mixture hierarchy (beyond the paper): task i belongs to cluster z_i ∈ {1..K},
 *   φ_k ~ N(0, β²I),   z_i ~ Cat(π) with π ~ Dirichlet(α0/K) integrated out,   θ_i | z_i=k ~ N(φ_k, σ²I).
 * Per step, for the active task a: Gibbs-draw z_a from
 *   p(z_a = k | ·) ∝ (n_k^{−a} + α0/K)·N(θ_a; φ_k, σ²I),
 * then draw every φ_k exactly from its Gaussian conditional (cached S_k), then θ_a with φ_{z_a},
 * then swap θ_a in S_{z_a}. Cost per step O(K·dim), independent of the number of tasks.
 */
import { kMeans } from './cluster-math.ts';
import { check } from './errors.ts';
import { isFiniteVec, langevinStep, ouLangevinStep } from './diffusions.ts';
import { logSumExp } from './linalg.ts';
import type { Rng } from './rng.ts';
import { isKeptStep, type SgldGibbsOptions, type TaskLikelihood } from './sgld-gibbs.ts';

export interface MixtureGibbsOptions extends Omit<SgldGibbsOptions, 'phiUpdate' | 'useJ' | 'preconditioning'> {
  readonly K: number;
  /** Dirichlet concentration α0 (default 1). */
  readonly concentration?: number;
}

export interface MixtureGibbsState {
  readonly t: number;
  readonly phis: readonly Float32Array[];
  readonly z: Int32Array;
  /** n_k [K]. */
  readonly counts: Int32Array;
  /** S_k = Σ_{i: z_i=k} θ_i, K × [dim]. */
  readonly sums: readonly Float64Array[];
  readonly thetas: readonly Float32Array[];
}

export interface MixtureGibbsInfo {
  readonly t: number;
  readonly active: number;
  readonly logLik: number;
  readonly stepSize: number;
  readonly kept: boolean;
}

function sqDist(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s;
}

/**
 * φ_k and z_i from k-means (k-means++ starts) on the initial θ_i, so clusters start where the
 * tasks are rather than at K random tasks that may all come from one family.
 */
export function initMixtureGibbs(thetas: readonly Float32Array[], opts: MixtureGibbsOptions, rng: Rng): MixtureGibbsState {
  const n = thetas.length;
  check(opts.K >= 1 && opts.K <= n, () => `mixture hierarchy K: expected 1..${n}, got ${opts.K}`);
  const dim = thetas[0].length;
  const X = new Float64Array(n * dim);
  thetas.forEach((th, i) => X.set(th, i * dim));
  const { labels, centers } = kMeans(X, n, dim, opts.K, rng.fork('kmeans'), { restarts: 3 });
  const phis = Array.from({ length: opts.K }, (_, k) => Float32Array.from(centers.subarray(k * dim, (k + 1) * dim)));
  const z = Int32Array.from(labels);
  const counts = new Int32Array(opts.K);
  const sums = phis.map(() => new Float64Array(dim));
  thetas.forEach((th, i) => {
    counts[z[i]]++;
    for (let j = 0; j < dim; j++) sums[z[i]][j] += th[j];
  });
  return { t: 0, phis, z, counts, sums, thetas: thetas.map((t) => Float32Array.from(t)) };
}

/** Gibbs draw of z_a; returns the new cluster. */
function drawAssignment(state: MixtureGibbsState, a: number, opts: MixtureGibbsOptions, rng: Rng): number {
  const K = opts.K;
  const alpha = (opts.concentration ?? 1) / K;
  const logp = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const nk = state.counts[k] - (state.z[a] === k ? 1 : 0);
    logp[k] = Math.log(nk + alpha) - sqDist(state.thetas[a], state.phis[k]) / (2 * opts.sigma2);
  }
  const lse = logSumExp(logp);
  let u = rng.uniform();
  for (let k = 0; k < K; k++) {
    u -= Math.exp(logp[k] - lse);
    if (u <= 0) return k;
  }
  return K - 1;
}

export function stepMixtureGibbs(
  state: MixtureGibbsState, tasks: readonly TaskLikelihood[], opts: MixtureGibbsOptions, rng: Rng,
): { state: MixtureGibbsState; info: MixtureGibbsInfo } {
  const t = state.t + 1;
  const a = rng.fork(`select/${t}`).int(state.thetas.length);
  const T = opts.temperature ?? 1;
  const eta = opts.stepSize(t);
  // z_a | θ_a, φ, z_{−a}
  const z = Int32Array.from(state.z);
  const counts = Int32Array.from(state.counts);
  const sums = state.sums.slice();
  const k = drawAssignment(state, a, opts, rng.fork(`z/${t}`));
  const theta0 = state.thetas[a];
  if (k !== z[a]) {
    const from = z[a];
    sums[from] = Float64Array.from(sums[from], (s, j) => s - theta0[j]);
    sums[k] = Float64Array.from(sums[k], (s, j) => s + theta0[j]);
    counts[from]--; counts[k]++; z[a] = k;
  }
  // φ_k | θ, z: the exact conjugate draw N(v_k·S_k/σ², v_k·T), v_k = 1/(n_k/σ² + 1/β²)
  const phiRng = rng.fork(`phi/${t}`);
  const phis = state.phis.map((_, c) => {
    const v = 1 / (counts[c] / opts.sigma2 + 1 / opts.beta2);
    const sd = Math.sqrt(v * T);
    return Float32Array.from(sums[c], (sum) => (v * sum) / opts.sigma2 + sd * phiRng.normal());
  });
  // θ_a | φ_{z_a}, D_a
  const lik = tasks[a].gradLogLik(theta0, rng.fork(`data/${t}`));
  const phi = phis[k];
  const next = opts.thetaIntegrator === 'euler'
    ? langevinStep(theta0, Float64Array.from(theta0, (th, j) => -(th - phi[j]) / opts.sigma2 + tasks[a].size * lik.grad[j]), eta, T, rng.fork(`theta/${t}`))
    : ouLangevinStep(theta0, phi, opts.sigma2, Float64Array.from(lik.grad, (v) => tasks[a].size * v), eta, T, rng.fork(`theta/${t}`));
  const thetas = state.thetas.slice();
  if (isFiniteVec(next)) {
    sums[k] = Float64Array.from(sums[k], (s, j) => s + next[j] - theta0[j]);
    thetas[a] = next;
  }
  return {
    state: { t, phis, z, counts, sums, thetas },
    info: { t, active: a, logLik: tasks[a].size * lik.logLik, stepSize: eta, kept: isKeptStep(t, opts.burnIn, opts.thinning) },
  };
}
