/**
 * LiFT meta-training driver (pure; tasks are callbacks): SGLD-Gibbs for `steps` steps; after
 * burn-in every `thinning`-th φ feeds online EM. Returns the learned prior (mixture over φ
 * plus σ², β²), the final per-task θ_i (the zoo) and diagnostics.
 *
 * With `hierarchy: { kind: 'mixture', K }` the sampler keeps K cluster means φ_k and task
 * assignments z_i (see sgld-gibbs-mixture.ts); the prior is then Σ_k w̄_k N(φ̄_k, diag(s_k) + σ²I)
 * with φ̄_k, s_k the online moments of each φ_k's samples and w̄_k the running cluster shares;
 * clusters start from k-means on the initial θ_i.
 */
import { constantSchedule, type Schedule } from './diffusions.ts';
import { check } from './errors.ts';
import { allFinite, norm } from './linalg.ts';
import type { MixturePrior } from './mixture-prior.ts';
import {
  componentSeparation, effectiveSampleSize, project, projectionDirections, thetaSpread,
} from './chain-diagnostics.ts';
import {
  emStepSize, initOnlineEmFromSamples, pruneMixture, updateOnlineEm, type MixtureParams, type OnlineEmOptions, type OnlineEmState,
} from './online-em.ts';
import type { Rng } from './rng.ts';
import { initMixtureGibbs, stepMixtureGibbs, type MixtureGibbsState } from './sgld-gibbs-mixture.ts';
import { initSgldGibbs, stepSgldGibbs, type SgldGibbsOptions, type TaskLikelihood } from './sgld-gibbs.ts';

export interface LiftConfig extends Omit<SgldGibbsOptions, 'phiStepSize'> {
  readonly steps: number;
  /** Default: constant 0.1/(n/σ² + 1/β²), a tenth of φ's conditional variance. */
  readonly phiStepSize?: Schedule;
  /** Online EM over kept φ (K = 1 is the paper's unimodal prior). Defaults: K 1, κ 0.6, t0 2, varFloor 0.1·σ²/n. */
  readonly em?: Partial<OnlineEmOptions>;
  /** Kept samples that seed EM by k-means++ before online updates (default max(20, 5K)). */
  readonly emInitSamples?: number;
  /** Components lighter than this are pruned before the prior is stored (default 0.01). */
  readonly pruneWeight?: number;
  readonly hierarchy?: { readonly kind: 'single' } | { readonly kind: 'mixture'; readonly K: number; readonly concentration?: number };
  /** Progress callback period in steps (default steps/100). */
  readonly progressEvery?: number;
}

export interface LiftInfo {
  readonly logLik: number;
  readonly stepSize: number;
  readonly kept: number;
  readonly phiNorm: number;
}

export interface LiftDiagnostics {
  readonly steps: number;
  readonly kept: number;
  /** Mean of N_a × minibatch log-lik over each progress window. */
  readonly logLikTrace: number[];
  /** ‖φ‖ (or mean ‖φ_k‖) at each progress point. */
  readonly phiNormTrace: number[];
  readonly rejected: number;
  /** Mixture hierarchy only: final tasks per cluster. */
  readonly clusterCounts?: number[];
  /** Mixture hierarchy only: per training task, the stored prior component its final cluster became (−1: pruned). */
  readonly taskComponents?: number[];
  /** Whether the chain describes a posterior (see chain-diagnostics.ts). */
  readonly chain: ChainDiagnostics;
}

/** Stored in the prior's metadata and shown by GET /v1/priors/:id. */
export interface ChainDiagnostics {
  /** √(mean_i ‖θ_i − φ‖²), averaged over kept samples. */
  readonly thetaSpread: number;
  /** What the model says that spread is in uninformed directions: √(D·σ²). */
  readonly expectedSpread: number;
  /** ESS of φ projected on 8 fixed random directions (min and median) and of the spread trace, out of `kept`. */
  readonly essPhiMin: number;
  readonly essPhiMedian: number;
  readonly essSpread: number;
  /** Components: K asked, live after pruning, their weights and smallest separation (see componentSeparation). */
  readonly componentsAsked: number;
  readonly componentsLive: number;
  readonly weights: number[];
  readonly separation: number | null;
  /** Mean component variance s_k over σ². */
  readonly varianceOverSigma2: number;
  readonly temperature: number;
}

export interface LiftResult {
  readonly prior: MixturePrior;
  readonly thetas: Float32Array[];
  readonly diagnostics: LiftDiagnostics;
}

/** One progress point of the chain (every `progressEvery` steps). */
export interface LiftProgress {
  readonly step: number;
  readonly total: number;
  readonly info: LiftInfo;
}

/** Bookkeeping shared by both hierarchies: progress windows; `record` returns a due progress point. */
function makeTracker(cfg: LiftConfig) {
  const every = Math.max(1, cfg.progressEvery ?? Math.floor(cfg.steps / 100));
  const logLikTrace: number[] = [], phiNormTrace: number[] = [];
  let windowSum = 0, windowN = 0;
  return {
    logLikTrace, phiNormTrace,
    record(t: number, logLik: number, stepSize: number, kept: number, phiNorm: number): LiftProgress | null {
      windowSum += logLik;
      windowN++;
      if (t % every !== 0 && t !== cfg.steps) return null;
      logLikTrace.push(windowSum / windowN);
      phiNormTrace.push(phiNorm);
      const point = { step: t, total: cfg.steps, info: { logLik: windowSum / windowN, stepSize, kept, phiNorm } };
      windowSum = 0;
      windowN = 0;
      return point;
    },
  };
}

function emOptions(cfg: LiftConfig, n: number, K: number): OnlineEmOptions {
  return { initVariance: Math.max(cfg.sigma2 / n, 1e-12), regVar: 1e-8, varFloor: (0.1 * cfg.sigma2) / n, ...cfg.em, K };
}

/** Traces kept along the chain for the diagnostics: φ projections and the θ_i spread. */
function makeSampleTraces(dim: number, rng: Rng) {
  const dirs = projectionDirections(dim, 8, () => rng.normal());
  const phiTraces = dirs.map(() => [] as number[]);
  const spread: number[] = [];
  return {
    record(phi: ArrayLike<number>, thetaSpreadNow: number) {
      dirs.forEach((d, i) => phiTraces[i].push(project(phi, d)));
      spread.push(thetaSpreadNow);
    },
    summary(): Pick<ChainDiagnostics, 'thetaSpread' | 'essPhiMin' | 'essPhiMedian' | 'essSpread'> {
      const ess = phiTraces.map(effectiveSampleSize).sort((a, b) => a - b);
      return {
        thetaSpread: spread.reduce((s, v) => s + v, 0) / Math.max(1, spread.length),
        essPhiMin: ess[0] ?? 0, essPhiMedian: ess[ess.length >> 1] ?? 0, essSpread: effectiveSampleSize(spread),
      };
    },
  };
}

/** Component facts of a (pruned) prior. */
function componentDiagnostics(params: MixtureParams, asked: number, sigma2: number): Pick<ChainDiagnostics, 'componentsAsked' | 'componentsLive' | 'weights' | 'separation' | 'varianceOverSigma2'> {
  const sep = componentSeparation(params.means, params.variances, sigma2);
  let v = 0, count = 0;
  for (const row of params.variances) for (let j = 0; j < row.length; j++) { v += row[j]; count++; }
  return {
    componentsAsked: asked, componentsLive: params.weights.length, weights: Array.from(params.weights),
    separation: Number.isFinite(sep) ? sep : null, varianceOverSigma2: v / Math.max(1, count) / sigma2,
  };
}

/** Runs LiFT meta-training from the caller's initial θ_i (A0 / B = 0, or warm-started). */
export function trainLift(
  tasks: readonly TaskLikelihood[], initThetas: readonly Float32Array[], cfg: LiftConfig, rng: Rng,
  onProgress?: (step: number, total: number, info: LiftInfo) => void,
): LiftResult {
  const chain = liftChain(tasks, initThetas, cfg, rng);
  for (;;) {
    const next = chain.next();
    if (next.done) return next.value;
    onProgress?.(next.value.step, next.value.total, next.value.info);
  }
}

/**
 * The same training as a generator that pauses at every progress point, so a caller can yield
 * to its event loop or stop between chunks of steps; the return value is the result.
 */
export function* liftChain(
  tasks: readonly TaskLikelihood[], initThetas: readonly Float32Array[], cfg: LiftConfig, rng: Rng,
): Generator<LiftProgress, LiftResult> {
  check(tasks.length === initThetas.length, () => `LiFT: expected one initial θ per task, got ${initThetas.length} for ${tasks.length}`);
  check(cfg.steps > (cfg.burnIn ?? 0), () => `LiFT: steps (${cfg.steps}) must exceed burn-in (${cfg.burnIn ?? 0})`);
  const n = tasks.length;
  const phiStepSize = cfg.phiStepSize ?? constantSchedule(0.1 / (n / cfg.sigma2 + 1 / cfg.beta2));
  const opts = { ...cfg, phiStepSize };
  const result = cfg.hierarchy?.kind === 'mixture'
    ? yield* trainMixture(tasks, initThetas, opts, cfg.hierarchy.K, cfg.hierarchy.concentration ?? 1, rng)
    : yield* trainSingle(tasks, initThetas, opts, rng);
  // A chain that left the stable range (η ≥ 2σ² for the θ-updates) must not become a prior.
  check([...result.prior.means, ...result.prior.variances].every(allFinite),
    () => `LiFT: the chain diverged (non-finite prior); use a θ step size below 2σ² (got σ² = ${cfg.sigma2})`);
  return result;
}

function* trainSingle(
  tasks: readonly TaskLikelihood[], initThetas: readonly Float32Array[], cfg: LiftConfig, rng: Rng,
): Generator<LiftProgress, LiftResult> {
  const K = cfg.em?.K ?? 1;
  const emOpts = emOptions(cfg, tasks.length, K);
  const initCount = cfg.emInitSamples ?? Math.max(20, 5 * K);
  const tracker = makeTracker(cfg);
  let state = initSgldGibbs(initThetas, cfg);
  const traces = makeSampleTraces(state.phi.length, rng.fork('diagnostics'));
  let em: OnlineEmState | null = null;
  const buffer: Float32Array[] = [];
  let kept = 0, rejected = 0;
  const chain = rng.fork('sgld-gibbs'), emRng = rng.fork('online-em');
  for (let t = 1; t <= cfg.steps; t++) {
    const out = stepSgldGibbs(state, tasks, cfg, chain);
    state = out.state;
    rejected += out.info.rejected;
    if (out.info.kept) {
      if (em) em = updateOnlineEm(em, state.phi, emStepSize(em.t, emOpts));
      else {
        buffer.push(state.phi);
        if (buffer.length >= initCount) em = initOnlineEmFromSamples(buffer.splice(0), emOpts, emRng);
      }
      traces.record(state.phi, thetaSpread(state.thetas, state.phi));
      kept++;
    }
    const point = tracker.record(t, out.info.logLik, out.info.stepSize, kept, norm(state.phi));
    if (point) yield point;
  }
  if (!em) em = initOnlineEmFromSamples(buffer.length > 0 ? buffer : [state.phi], emOpts, emRng);
  const params = pruneMixture(em.params, cfg.pruneWeight ?? 0.01).params;
  return {
    prior: {
      weights: params.weights, means: params.means, variances: params.variances,
      sigma2: cfg.sigma2, beta2: cfg.beta2, dim: state.phi.length,
    },
    thetas: state.thetas.slice(),
    diagnostics: {
      steps: cfg.steps, kept, logLikTrace: tracker.logLikTrace, phiNormTrace: tracker.phiNormTrace, rejected,
      chain: chainDiagnostics(traces, params, K, cfg, state.phi.length),
    },
  };
}

function chainDiagnostics(
  traces: ReturnType<typeof makeSampleTraces>, params: MixtureParams, asked: number, cfg: LiftConfig, dim: number,
): ChainDiagnostics {
  return {
    ...traces.summary(), expectedSpread: Math.sqrt(dim * cfg.sigma2),
    ...componentDiagnostics(params, asked, cfg.sigma2), temperature: cfg.temperature ?? 1,
  };
}

function* trainMixture(
  tasks: readonly TaskLikelihood[], initThetas: readonly Float32Array[], cfg: LiftConfig, K: number,
  concentration: number, rng: Rng,
): Generator<LiftProgress, LiftResult> {
  const n = tasks.length;
  const mopts = { ...cfg, K, concentration };
  const emOpts = emOptions(cfg, n, 1);
  const tracker = makeTracker(cfg);
  let state: MixtureGibbsState = initMixtureGibbs(initThetas, mopts, rng.fork('mixture-init'));
  const traces = makeSampleTraces(initThetas[0].length, rng.fork('diagnostics'));
  const moments: (OnlineEmState | null)[] = Array.from({ length: K }, () => null);
  const share = new Float64Array(K);
  let kept = 0;
  const chain = rng.fork('sgld-gibbs-mixture'), emRng = rng.fork('online-em');
  for (let t = 1; t <= cfg.steps; t++) {
    const out = stepMixtureGibbs(state, tasks, mopts, chain);
    state = out.state;
    if (out.info.kept) {
      kept++;
      for (let k = 0; k < K; k++) {
        const m = moments[k];
        moments[k] = m ? updateOnlineEm(m, state.phis[k], emStepSize(m.t, emOpts)) : initOnlineEmFromSamples([state.phis[k]], emOpts, emRng);
        share[k] += ((state.counts[k] + concentration / K) / (n + concentration) - share[k]) / kept;
      }
      // θ_i around their own cluster's φ
      let sq = 0;
      state.thetas.forEach((th, i) => { const phi = state.phis[state.z[i]]; for (let j = 0; j < th.length; j++) sq += (th[j] - phi[j]) ** 2; });
      traces.record(state.phis[0], Math.sqrt(sq / n));
    }
    const point = tracker.record(t, out.info.logLik, out.info.stepSize, kept, state.phis.reduce((s, p) => s + norm(p), 0) / K);
    if (point) yield point;
  }
  const full: MixtureParams = { weights: share, means: moments.map((m) => m!.params.means[0]), variances: moments.map((m) => m!.params.variances[0]) };
  const pruned = pruneMixture(full, cfg.pruneWeight ?? 0.01), params = pruned.params;
  const taskComponents = Array.from(state.z, (k) => pruned.kept.indexOf(k));
  return {
    prior: { ...params, sigma2: cfg.sigma2, beta2: cfg.beta2, dim: state.phis[0].length },
    thetas: state.thetas.slice(),
    diagnostics: {
      steps: cfg.steps, kept, logLikTrace: tracker.logLikTrace, phiNormTrace: tracker.phiNormTrace, rejected: 0,
      clusterCounts: Array.from(state.counts), taskComponents, chain: chainDiagnostics(traces, params, K, cfg, state.phis[0].length),
    },
  };
}
