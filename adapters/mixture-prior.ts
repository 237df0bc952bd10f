/**
 * The prior LiFT learns for a new task: p(θ*) = Σ_k α_k N(θ*; μ_k, diag(s_k) + σ²I), where
 * (α, μ, s) is the online-EM mixture over posterior samples of φ and σ² is the task spread.
 */
import { check } from './errors.ts';
import { logSumExp, type Vec } from './linalg.ts';

const LOG_2PI = Math.log(2 * Math.PI);

/** What meta-training returns and the registry stores. */
export interface MixturePrior {
  /** α [K]. */
  readonly weights: Float64Array;
  /** μ_k: K × [dim]. */
  readonly means: readonly Float32Array[];
  /** s_k: K × [dim], variances of φ around μ_k. */
  readonly variances: readonly Float32Array[];
  readonly sigma2: number;
  readonly beta2: number;
  readonly dim: number;
}

/** The prior with per-component precisions 1/(s_k + σ²) and log α_k + normalisers precomputed. */
export interface InducedPrior {
  readonly prior: MixturePrior;
  readonly precisions: readonly Float64Array[];
  /** log α_k − ½ Σ_d log(2π (s_kd + σ²)). */
  readonly logConst: Float64Array;
}

export function inducePrior(prior: MixturePrior): InducedPrior {
  const K = prior.weights.length;
  check(K > 0 && prior.means.length === K && prior.variances.length === K,
    () => `prior: expected K weights, means and variances, got ${K}/${prior.means.length}/${prior.variances.length}`);
  check(prior.sigma2 >= 0, () => `prior σ²: expected >= 0, got ${prior.sigma2}`);
  const precisions: Float64Array[] = [];
  const logConst = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    check(prior.means[k].length === prior.dim && prior.variances[k].length === prior.dim,
      () => `prior component ${k}: expected dim ${prior.dim}, got ${prior.means[k].length}`);
    const prec = Float64Array.from(prior.variances[k], (s) => 1 / (s + prior.sigma2));
    let c = Math.log(prior.weights[k]);
    for (let d = 0; d < prec.length; d++) c -= 0.5 * (LOG_2PI - Math.log(prec[d]));
    precisions.push(prec);
    logConst[k] = c;
  }
  return { prior, precisions, logConst };
}

/** log α_k + log N(θ; μ_k, diag(s_k) + σ²I) for each k. */
export function componentLogPdfs(ind: InducedPrior, theta: ArrayLike<number>): Float64Array {
  const K = ind.logConst.length;
  const out = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const mu = ind.prior.means[k], prec = ind.precisions[k];
    let q = 0;
    for (let d = 0; d < mu.length; d++) {
      const r = theta[d] - mu[d];
      q += r * r * prec[d];
    }
    out[k] = ind.logConst[k] - 0.5 * q;
  }
  return out;
}

/**
 * loss = −log p(θ), grad = Σ_k r_k(θ)·(θ − μ_k)/(s_k + σ²), accumulated into `grad`
 * (the caller zeroes it; a new zero buffer when omitted).
 */
export function priorNegLogPdf(
  ind: InducedPrior, theta: ArrayLike<number>, grad: Vec = new Float32Array(theta.length),
): { loss: number; grad: Vec } {
  check(theta.length === ind.prior.dim, () => `θ: expected length ${ind.prior.dim}, got ${theta.length}`);
  const comp = componentLogPdfs(ind, theta);
  const logP = logSumExp(comp);
  for (let k = 0; k < comp.length; k++) {
    const r = Math.exp(comp[k] - logP);
    if (r < 1e-12) continue;
    const mu = ind.prior.means[k], prec = ind.precisions[k];
    for (let d = 0; d < mu.length; d++) grad[d] += r * (theta[d] - mu[d]) * prec[d];
  }
  return { loss: -logP, grad };
}
