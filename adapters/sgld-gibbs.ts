/**
 * LiFT posterior sampler, SGLD-Gibbs (paper eqs. 9-11), as init + step.
 *
 *   φ ~ N(0, β²I),   θ_i | φ ~ N(φ, σ²I),   D_i | θ_i by the head's likelihood.
 *
 * The cached J = Σ_i ∇_φ log p(θ_i|φ) = Σ_i (θ_i − φ)/σ² is kept as S = Σ_i θ_i, so that
 * J = (S − nφ)/σ². Each step picks the active task(s) a, then
 *   φ   ← φ + (η_φ/2)(−φ/β² + J) + √(η_φ T)·ξ                         (or an exact Gibbs draw)
 *   θ_a ← θ_a + (η/2)(−(θ_a − φ)/σ² + N_a·∇ mean minibatch log-lik) + √(η T)·ξ'
 *   S   ← S − θ_a(old) + θ_a(new)
 * so one step costs the active tasks' minibatches, independent of the number of tasks.
 *
 * `useJ: false` (ablation): the φ-gradient drops the cache and uses only the active tasks,
 * scaled to all of them: −φ/β² + (n/m)·Σ_{a active}(θ_a − φ)/σ² — the plain minibatch-over-tasks
 * estimate (unbiased, noisier), i.e. what is lost without J.
 */
import { check } from './errors.ts';
import {
  initRmsProp, isFiniteVec, langevinStep, ouLangevinStep, rmsPropPreconditioner, updateRmsProp,
  type RmsPropState, type Schedule,
} from './diffusions.ts';
import type { Vec } from './linalg.ts';
import { shuffled, type Rng } from './rng.ts';

/** One training task's data, seen only through a minibatch gradient. */
export interface TaskLikelihood {
  /** N_a: number of examples; the minibatch mean log-lik is scaled by it. */
  readonly size: number;
  /** Mean per-example log-likelihood of a minibatch drawn with `rng`, and its gradient in θ. */
  gradLogLik(theta: Float32Array, rng: Rng): { logLik: number; grad: Vec };
}

export interface SgldGibbsOptions {
  /** σ²: spread of task parameters around φ. */
  readonly sigma2: number;
  /** β²: prior variance of φ. */
  readonly beta2: number;
  /** η_t of the θ-updates. */
  readonly stepSize: Schedule;
  /** η_t of the φ-update (default: `stepSize`). Stable needs η_φ·(n/σ² + 1/β²) ≪ 2. */
  readonly phiStepSize?: Schedule;
  /** T (default 1); T < 1 is a cold posterior. */
  readonly temperature?: number;
  /** Active tasks per step (default 1). */
  readonly tasksPerStep?: number;
  /** pSGLD: RMSprop-preconditioned updates (default off). */
  readonly preconditioning?: { readonly decay: number; readonly lambda: number } | null;
  /** 'gibbs' (default): exact conjugate draw of φ | θ; 'langevin': the paper's step (ablation). */
  readonly phiUpdate?: 'langevin' | 'gibbs';
  /**
   * θ-update integrator: 'exponential' (default; exact for the Gaussian prior part, so any η keeps
   * the θ_i spread around φ) or 'euler' (the plain Langevin step, stable only for η ≪ σ²).
   */
  readonly thetaIntegrator?: 'exponential' | 'euler';
  /** Use the cached J in the φ-gradient (default true); see the file comment. */
  readonly useJ?: boolean;
  /** Steps before samples are kept (default 0). */
  readonly burnIn?: number;
  /** Keep every `thinning`-th step after burn-in (default 1). */
  readonly thinning?: number;
}

export interface SgldGibbsState {
  readonly t: number;
  readonly phi: Float32Array;
  readonly thetas: readonly Float32Array[];
  /** S = Σ_i θ_i (Float64 so repeated swaps do not drift). */
  readonly sumTheta: Float64Array;
  readonly precond: { readonly phi: RmsPropState; readonly thetas: readonly RmsPropState[] } | null;
}

export interface SgldGibbsInfo {
  readonly t: number;
  readonly active: readonly number[];
  /** Σ over active tasks of N_a × mean minibatch log-lik. */
  readonly logLik: number;
  readonly stepSize: number;
  readonly phiStepSize: number;
  readonly phiGradNorm: number;
  readonly thetaGradNorm: number;
  /** A non-finite θ proposal was rejected (θ kept). */
  readonly rejected: number;
  /** This step's φ is a kept sample (after burn-in, on the thinning grid). */
  readonly kept: boolean;
}

/** θ_i given by the caller (A0/B=0, or warm-started by independent fine-tuning); φ₀ = mean θ_i. */
export function initSgldGibbs(thetas: readonly Float32Array[], opts: SgldGibbsOptions, phi0?: Float32Array): SgldGibbsState {
  check(thetas.length > 0, () => 'SGLD-Gibbs: expected at least one task, got 0');
  const dim = thetas[0].length;
  check(thetas.every((t) => t.length === dim), () => `SGLD-Gibbs: every θ_i must have length ${dim}`);
  check(opts.sigma2 > 0 && opts.beta2 > 0, () => `σ², β²: expected > 0, got ${opts.sigma2}, ${opts.beta2}`);
  const sumTheta = new Float64Array(dim);
  for (const t of thetas) for (let j = 0; j < dim; j++) sumTheta[j] += t[j];
  const phi = phi0 ? Float32Array.from(phi0) : Float32Array.from(sumTheta, (s) => s / thetas.length);
  const precond = opts.preconditioning
    ? { phi: initRmsProp(dim), thetas: thetas.map(() => initRmsProp(dim)) }
    : null;
  return { t: 0, phi, thetas: thetas.map((t) => Float32Array.from(t)), sumTheta, precond };
}

/** Kept-sample rule shared by the drivers. */
export function isKeptStep(t: number, burnIn = 0, thinning = 1): boolean {
  return t > burnIn && (t - burnIn) % Math.max(1, thinning) === 0;
}

function pickActive(n: number, m: number, rng: Rng): number[] {
  if (m >= n) return Array.from({ length: n }, (_, i) => i);
  if (m === 1) return [rng.int(n)];
  const picked = new Set<number>();
  while (picked.size < m) picked.add(rng.int(n));
  return shuffled([...picked], rng);
}

function vecNorm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** ∇_φ [log p(φ) + Σ_i log p(θ_i|φ)] with the cached J (or its active-task estimate). */
function phiGradient(state: SgldGibbsState, active: readonly number[], opts: SgldGibbsOptions): Float64Array {
  const { phi, sumTheta, thetas } = state;
  const n = thetas.length;
  const g = new Float64Array(phi.length);
  if (opts.useJ ?? true) {
    for (let j = 0; j < phi.length; j++) g[j] = -phi[j] / opts.beta2 + (sumTheta[j] - n * phi[j]) / opts.sigma2;
    return g;
  }
  const w = n / active.length / opts.sigma2;
  for (let j = 0; j < phi.length; j++) {
    let s = 0;
    for (const a of active) s += thetas[a][j] - phi[j];
    g[j] = -phi[j] / opts.beta2 + w * s;
  }
  return g;
}

/** Exact conjugate draw φ | θ ~ N(v·S/σ², v·T), v = 1/(n/σ² + 1/β²). */
function drawPhiGibbs(state: SgldGibbsState, opts: SgldGibbsOptions, rng: Rng): Float32Array {
  const n = state.thetas.length;
  const v = 1 / (n / opts.sigma2 + 1 / opts.beta2);
  const sd = Math.sqrt(v * (opts.temperature ?? 1));
  return Float32Array.from(state.sumTheta, (s) => (v * s) / opts.sigma2 + sd * rng.normal());
}

/** φ-update: returns new φ and its (possibly new) pSGLD state. */
function updatePhi(
  state: SgldGibbsState, active: readonly number[], opts: SgldGibbsOptions, eta: number, rng: Rng,
): { phi: Float32Array; precond: RmsPropState | null; gradNorm: number } {
  if ((opts.phiUpdate ?? 'gibbs') === 'gibbs') return { phi: drawPhiGibbs(state, opts, rng), precond: state.precond?.phi ?? null, gradNorm: 0 };
  const g = phiGradient(state, active, opts);
  const T = opts.temperature ?? 1;
  let precond: RmsPropState | null = null;
  let G: Float64Array | undefined;
  if (state.precond && opts.preconditioning) {
    precond = updateRmsProp(state.precond.phi, g, opts.preconditioning.decay);
    G = rmsPropPreconditioner(precond, opts.preconditioning.lambda);
  }
  const phi = langevinStep(state.phi, g, eta, T, rng, G);
  return isFiniteVec(phi)
    ? { phi, precond, gradNorm: vecNorm(g) }
    : { phi: state.phi, precond: state.precond?.phi ?? null, gradNorm: vecNorm(g) };
}

/**
 * One SGLD-Gibbs step. `rng` is consumed through per-step named forks (select, phi, theta,
 * data), so a chain is reproducible from the rng's seed alone.
 */
export function stepSgldGibbs(
  state: SgldGibbsState, tasks: readonly TaskLikelihood[], opts: SgldGibbsOptions, rng: Rng,
): { state: SgldGibbsState; info: SgldGibbsInfo } {
  const n = state.thetas.length;
  check(tasks.length === n, () => `SGLD-Gibbs: expected ${n} tasks, got ${tasks.length}`);
  const t = state.t + 1;
  const keys = {
    select: rng.fork(`select/${t}`), phi: rng.fork(`phi/${t}`),
    theta: rng.fork(`theta/${t}`), data: rng.fork(`data/${t}`),
  };
  const active = pickActive(n, opts.tasksPerStep ?? 1, keys.select);
  const eta = opts.stepSize(t);
  const etaPhi = (opts.phiStepSize ?? opts.stepSize)(t);
  const T = opts.temperature ?? 1;
  const phiUpd = updatePhi(state, active, opts, etaPhi, keys.phi);
  const phi = phiUpd.phi;
  const thetas = state.thetas.slice();
  const sumTheta = Float64Array.from(state.sumTheta);
  const precondThetas = state.precond ? state.precond.thetas.slice() : null;
  let logLik = 0, thetaGradNorm = 0, rejected = 0;
  for (const a of active) {
    const old = thetas[a];
    const lik = tasks[a].gradLogLik(old, keys.data);
    logLik += tasks[a].size * lik.logLik;
    // ∇_θ [log p(θ_a|φ) + N_a·mean log-lik]
    const g = new Float64Array(old.length);
    for (let j = 0; j < g.length; j++) g[j] = -(old[j] - phi[j]) / opts.sigma2 + tasks[a].size * lik.grad[j];
    thetaGradNorm += vecNorm(g);
    let G: Float64Array | undefined;
    if (precondThetas && opts.preconditioning) {
      precondThetas[a] = updateRmsProp(precondThetas[a], g, opts.preconditioning.decay);
      G = rmsPropPreconditioner(precondThetas[a], opts.preconditioning.lambda);
    }
    const next = G || opts.thetaIntegrator === 'euler'
      ? langevinStep(old, g, eta, T, keys.theta, G)
      : ouLangevinStep(old, phi, opts.sigma2, Float64Array.from(lik.grad, (v) => tasks[a].size * v), eta, T, keys.theta);
    if (!isFiniteVec(next)) { rejected++; continue; }
    for (let j = 0; j < next.length; j++) sumTheta[j] += next[j] - old[j];
    thetas[a] = next;
  }
  const precond = state.precond && precondThetas
    ? { phi: phiUpd.precond ?? state.precond.phi, thetas: precondThetas }
    : null;
  return {
    state: { t, phi, thetas, sumTheta, precond },
    info: {
      t, active, logLik, stepSize: eta, phiStepSize: etaPhi, phiGradNorm: phiUpd.gradNorm,
      thetaGradNorm: thetaGradNorm / active.length, rejected, kept: isKeptStep(t, opts.burnIn, opts.thinning),
    },
  };
}
