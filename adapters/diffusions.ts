/**
 * The Langevin integrator, written once: x' = x + (η/2)·G·g + √(η·T·G)·ξ, ξ ~ N(0, I),
 * with g = ∇log p(x), step size η, temperature T and a diagonal preconditioner G (G = 1 for
 * plain SGLD; RMSprop's G = 1/(λ + √V) for pSGLD, Li et al. 2016, without the Γ correction).
 * T = 0 turns the update into gradient ascent. Step-size schedules live here too.
 */
import type { Vec } from './linalg.ts';
import type { Rng } from './rng.ts';

/** η_t for step t = 1, 2, … */
export type Schedule = (t: number) => number;

/** Polynomial decay η_t = a·(b + t)^−γ (Welling & Teh 2011); γ ∈ (0.5, 1] for SGLD. */
export function polynomialDecay(a: number, b = 1, gamma = 0.55): Schedule {
  return (t) => a * Math.pow(b + t, -gamma);
}

export function constantSchedule(eta: number): Schedule {
  return () => eta;
}

/**
 * One Langevin step from `position` along `grad` (= ∇log p). Returns a new Float32Array; a
 * non-finite proposal is returned as is — callers reject it (see `isFiniteVec`).
 */
export function langevinStep(
  position: Vec, grad: ArrayLike<number>, stepSize: number, temperature: number, rng: Rng,
  precond?: ArrayLike<number>,
): Float32Array {
  const out = new Float32Array(position.length);
  const noise = Math.sqrt(stepSize * temperature);
  for (let i = 0; i < position.length; i++) {
    const G = precond ? precond[i] : 1;
    const xi = noise === 0 ? 0 : rng.normal();
    out[i] = position[i] + 0.5 * stepSize * G * grad[i] + noise * Math.sqrt(G) * xi;
  }
  return out;
}

/** RMSprop second-moment estimate V of pSGLD. */
export interface RmsPropState {
  readonly v: Float64Array;
  readonly initialised: boolean;
}

export function initRmsProp(dim: number): RmsPropState {
  return { v: new Float64Array(dim), initialised: false };
}

/** V ← decay·V + (1 − decay)·g² (V = g² on the first call). */
export function updateRmsProp(state: RmsPropState, grad: ArrayLike<number>, decay: number): RmsPropState {
  const v = new Float64Array(state.v.length);
  for (let i = 0; i < v.length; i++) {
    const g2 = grad[i] * grad[i];
    v[i] = state.initialised ? decay * state.v[i] + (1 - decay) * g2 : g2;
  }
  return { v, initialised: true };
}

/** G = 1 / (λ + √V). */
export function rmsPropPreconditioner(state: RmsPropState, lambda: number): Float64Array {
  return Float64Array.from(state.v, (v) => 1 / (lambda + Math.sqrt(v)));
}

export function isFiniteVec(v: ArrayLike<number>): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return false;
  return true;
}

/**
 * One step of the θ-update for a Gaussian conditional prior N(centre, σ²I) times a likelihood,
 * integrated exactly for the prior part (exponential integrator, the likelihood gradient held
 * fixed over the step). With a = 1/(2σ²) and ε = e^{−aη}:
 *   θ' = c + ε(θ − c) + (1 − ε)·σ²·g_lik + √(T·σ²(1 − ε²))·ξ.
 * For small η it is the Langevin step; for any η the prior alone keeps its variance Tσ² (Euler
 * with η = σ² instead halves each deviation and shrinks the stationary spread's dynamics).
 */
export function ouLangevinStep(
  position: Vec, centre: ArrayLike<number>, sigma2: number, likGrad: ArrayLike<number>, stepSize: number,
  temperature: number, rng: Rng,
): Float32Array {
  const eps = Math.exp(-stepSize / (2 * sigma2));
  const drift = (1 - eps) * sigma2;
  const noise = Math.sqrt(temperature * sigma2 * (1 - eps * eps));
  const out = new Float32Array(position.length);
  for (let i = 0; i < position.length; i++) {
    out[i] = centre[i] + eps * (position[i] - centre[i]) + drift * likGrad[i] + (noise === 0 ? 0 : noise * rng.normal());
  }
  return out;
}
