/**
 * Meta-learned LoRA initialisations: MAML (second order), FOMAML and Reptile, over MetaTask
 * episodes; then `mamlMethod` fine-tunes from the learned θ0 on each support set.
 *
 * MAML, K inner steps of gradient descent on the support's leave-one-out NLL (sum, the same
 * objective as adapt.ts `fineTune`):
 *   θ_{k+1} = θ_k − α ∇L_s(θ_k),   outer loss L_q(θ_K): query rows scored against the
 *   support's prototypes under θ_K. Meta-gradient by the chain rule through the inner loop:
 *   v ← ∇L_q(θ_K);  for k = K−1 … 0:  v ← (I − α ∇²L_s(θ_k))·v;  ∇_θ0 = v.
 * FOMAML drops the Hessian terms (∇_θ0 ≈ ∇L_q(θ_K)). Reptile runs the inner loop (Adam on
 * the whole episode, leave-one-out) and moves θ0 ← θ0 + ε·mean_tasks(θ_task − θ0).
 *
 * Hessian-vector products are central differences of the hand-written gradient:
 *   H·v ≈ (g(θ + εv) − g(θ − εv)) / 2ε.
 * Why: it needs only the gradient we already have (and test against finite differences), no
 * second-order code to write or maintain; it costs two gradient evaluations per product, the
 * same order as reverse-over-reverse; and its error is O(ε²‖v‖³·∇³L) — with ε‖v‖ = 1e-3·max(1,‖θ‖)
 * that is far below the minibatch noise of the meta-gradient (test/maml-grad.test.ts checks it
 * against a Hessian from second differences of the loss, and the meta-gradient against a finite
 * difference of the post-adaptation query loss).
 */
import { fineTune, type AdaptContext } from './adapt.ts';
import { adamStep, initAdam, type AdamState } from './adam.ts';
import { norm } from './linalg.ts';
import { check } from './errors.ts';
import { fromInit, shapeOf, type FromInitOptions } from './from-init.ts';
import { forwardLayer, initTheta, seededA0, thetaSize, type LayerSpec, type LoraShape } from './lora.ts';
import type { AdapterConfig, FewShotMethod, TuneConfig } from './method.ts';
import {
  episodeBatch, sharedRowCache, progressReporter, supportBatch, unionBatch, type MetaTask, type RowCache,
} from './meta-task.ts';
import { episodeLoss, protoHeadLoss, type HeadBatch } from './proto-head.ts';
import type { Rng } from './rng.ts';

export type MetaVariant = 'maml' | 'fomaml' | 'reptile';

export interface MamlConfig extends AdapterConfig {
  readonly metaSteps: number;
  /** Tasks per meta-step (default 4). */
  readonly metaBatch?: number;
  /** Adam step size on θ0 (MAML, FOMAML). */
  readonly outerLr: number;
  /** α: inner GD step on the support's summed LOO NLL (MAML, FOMAML); Adam lr for Reptile's inner loop. */
  readonly innerLr: number;
  /** Reptile's ε (default 0.1). */
  readonly reptileEps?: number;
  /** Relative central-difference step of the Hessian-vector products (default 1e-3). */
  readonly hvpEps?: number;
  /** Starting θ0 (default A0 from `a0Seed`, B = 0). */
  readonly init?: Float32Array;
}

export interface MamlResult {
  readonly theta0: Float32Array;
  readonly variant: MetaVariant;
  readonly innerSteps: number;
  /** Mean query loss before / after the inner loop, per meta-step (MAML, FOMAML; Reptile: task loss). */
  readonly preLossTrace: number[];
  readonly postLossTrace: number[];
}

/** What the inner and outer losses need: the adapted layer, the LoRA shape and τ. */
export interface InnerProblem {
  readonly layer: LayerSpec;
  readonly shape: LoraShape;
  readonly tau: number;
}

type GradFn = (theta: Float32Array) => Float64Array;

/** Mean query NLL of a batch under θ, forward only (for traces). */
function meanLoss(p: InnerProblem, theta: Float32Array, batch: HeadBatch): number {
  const Z = forwardLayer(p.layer, p.shape, theta, batch.X, batch.base, batch.n).Z;
  return protoHeadLoss(Z, p.shape.outDim, batch, { tau: p.tau, reduction: 'mean' }).loss;
}

function sumGrad(p: InnerProblem, batch: HeadBatch): GradFn {
  return (theta) => episodeLoss(p.layer, p.shape, theta, batch, { tau: p.tau, reduction: 'sum' }, new Float64Array(theta.length)).grad as Float64Array;
}

/** H(θ)·v ≈ (g(θ + εv) − g(θ − εv)) / 2ε with ε‖v‖ = relEps·max(1, ‖θ‖). */
export function hessianVectorProduct(grad: GradFn, theta: Float32Array, v: ArrayLike<number>, relEps = 1e-3): Float64Array {
  const vNorm = norm(Float64Array.from(v));
  const out = new Float64Array(theta.length);
  if (vNorm === 0) return out;
  const eps = (relEps * Math.max(1, norm(theta))) / vNorm;
  const plus = Float32Array.from(theta, (t, i) => t + eps * v[i]);
  const minus = Float32Array.from(theta, (t, i) => t - eps * v[i]);
  const gp = grad(plus), gm = grad(minus);
  for (let i = 0; i < out.length; i++) out[i] = (gp[i] - gm[i]) / (2 * eps);
  return out;
}

/** The inner GD trajectory θ_0 … θ_K on the support's summed LOO NLL. */
export function innerTrajectory(p: InnerProblem, support: HeadBatch, theta0: Float32Array, innerLr: number, steps: number): Float32Array[] {
  const g = sumGrad(p, support);
  const path = [Float32Array.from(theta0)];
  for (let k = 0; k < steps; k++) {
    const gk = g(path[k]);
    path.push(Float32Array.from(path[k], (t, i) => t - innerLr * gk[i]));
  }
  return path;
}

/** Post-adaptation query loss (mean NLL) as a function of θ0: what the meta-gradient differentiates. */
export function postAdaptationLoss(
  p: InnerProblem, support: HeadBatch, episode: HeadBatch, theta0: Float32Array, innerLr: number, steps: number,
): number {
  const path = innerTrajectory(p, support, theta0, innerLr, steps);
  return meanLoss(p, path[steps], episode);
}

/**
 * Meta-gradient of `postAdaptationLoss` w.r.t. θ0: second order ('maml') or first order ('fomaml').
 * `support` is the LOO support batch, `episode` scores the query against the support's prototypes.
 */
export function metaGradient(
  p: InnerProblem, support: HeadBatch, episode: HeadBatch, theta0: Float32Array, innerLr: number, steps: number,
  variant: 'maml' | 'fomaml', relEps = 1e-3,
): { loss: number; preLoss: number; grad: Float64Array } {
  const path = innerTrajectory(p, support, theta0, innerLr, steps);
  const headOpts = { tau: p.tau, reduction: 'mean' as const };
  const out = episodeLoss(p.layer, p.shape, path[steps], episode, headOpts, new Float64Array(theta0.length));
  const v = out.grad as Float64Array;
  if (variant === 'maml') {
    const g = sumGrad(p, support);
    for (let k = steps - 1; k >= 0; k--) {
      const hv = hessianVectorProduct(g, path[k], v, relEps);
      for (let i = 0; i < v.length; i++) v[i] -= innerLr * hv[i];
    }
  }
  const preLoss = steps === 0 ? out.loss : meanLoss(p, theta0, episode);
  return { loss: out.loss, preLoss, grad: v };
}

/** Reptile's task solution: Adam on the whole episode (LOO), `steps` steps from θ0. */
function reptileTaskSolution(p: InnerProblem, batch: HeadBatch, nWay: number, theta0: Float32Array, lr: number, steps: number) {
  const ctx: AdaptContext = { layer: p.layer, shape: p.shape, nWay, tau: p.tau, batch };
  const pre = meanLoss(p, theta0, batch);
  const out = fineTune(theta0, ctx, { steps, lr, prior: { kind: 'none' } });
  return { theta: out.theta, pre, post: out.loss / Math.max(1, batch.n) };
}

function pickTasks(n: number, m: number, rng: Rng): number[] {
  return Array.from({ length: Math.min(m, n) }, () => rng.int(n));
}

interface MetaStepOut { readonly pre: number; readonly post: number }

/** One meta-step over a batch of tasks; updates θ0 in place. */
function metaStep(
  tasks: readonly MetaTask[], cache: RowCache, p: InnerProblem, theta0: Float32Array, cfg: MamlConfig,
  variant: MetaVariant, innerSteps: number, adam: AdamState, rng: Rng,
): MetaStepOut {
  const picked = pickTasks(tasks.length, cfg.metaBatch ?? 4, rng);
  const acc = new Float64Array(theta0.length);
  let pre = 0, post = 0;
  for (const i of picked) {
    const task = tasks[i];
    const ep = task.sampleEpisode(rng);
    if (variant === 'reptile') {
      const sol = reptileTaskSolution(p, unionBatch(cache, ep, task.nWay), task.nWay, theta0, cfg.innerLr, innerSteps);
      for (let j = 0; j < acc.length; j++) acc[j] += sol.theta[j] - theta0[j];
      pre += sol.pre;
      post += sol.post;
      continue;
    }
    const out = metaGradient(p, supportBatch(cache, ep.support, task.nWay), episodeBatch(cache, ep, task.nWay),
      theta0, cfg.innerLr, innerSteps, variant, cfg.hvpEps);
    for (let j = 0; j < acc.length; j++) acc[j] += out.grad[j];
    pre += out.preLoss;
    post += out.loss;
  }
  const m = picked.length;
  for (let j = 0; j < acc.length; j++) acc[j] /= m;
  if (variant === 'reptile') {
    const eps = cfg.reptileEps ?? 0.1;
    for (let j = 0; j < acc.length; j++) theta0[j] += eps * acc[j];
  } else if (norm(acc) > 0 && acc.every(Number.isFinite)) {
    adamStep(adam, theta0, acc, cfg.outerLr);
  }
  return { pre: pre / m, post: post / m };
}

/**
 * Meta-trains the LoRA initialisation θ0 over `tasks`. Cost per meta-step and task: MAML
 * 1 + K(1 + 2) gradient evaluations of an episode-sized batch (FOMAML 1 + K, Reptile K).
 */
export function mamlTrain(
  tasks: readonly MetaTask[], layer: LayerSpec, cfg: MamlConfig, rng: Rng, variant: MetaVariant, innerSteps: number,
  onProgress?: (done: number, total: number) => void,
): MamlResult {
  check(tasks.length > 0, () => 'meta-training: expected at least one task, got 0');
  check(Number.isInteger(innerSteps) && innerSteps >= 1, () => `inner steps: expected integer >= 1, got ${innerSteps}`);
  const shape = shapeOf(layer, cfg);
  const theta0 = cfg.init ? Float32Array.from(cfg.init) : initTheta(shape, seededA0(shape, cfg.a0Seed ?? 0));
  check(theta0.length === thetaSize(shape), () => `init θ0: expected length ${thetaSize(shape)}, got ${theta0.length}`);
  const p: InnerProblem = { layer, shape, tau: cfg.tau ?? 10 };
  const cache = sharedRowCache(layer);
  const adam = initAdam(theta0.length);
  const report = progressReporter(cfg.metaSteps, onProgress);
  const preLossTrace: number[] = [], postLossTrace: number[] = [];
  const stream = rng.fork(`meta/${variant}`);
  for (let t = 1; t <= cfg.metaSteps; t++) {
    const out = metaStep(tasks, cache, p, theta0, cfg, variant, innerSteps, adam, stream);
    preLossTrace.push(out.pre);
    postLossTrace.push(out.post);
    report(t);
  }
  return { theta0, variant, innerSteps, preLossTrace, postLossTrace };
}

/**
 * Fine-tune from a meta-learned θ0 with the shared budget (Adam, `cfg.steps`, `cfg.lr`). For
 * MAML's own test-time procedure pass `{ optimizer: 'gd' }` with steps = innerSteps and
 * lr = innerLr (the inner loop it was trained for; see `mamlInnerTune`).
 */
export function mamlMethod(result: MamlResult, layer: LayerSpec, cfg: TuneConfig, opts: FromInitOptions = {}): FewShotMethod {
  const name = result.variant === 'maml' ? `maml-${result.innerSteps}` : result.variant;
  return fromInit(name, result.theta0, layer, cfg, opts);
}

/** The budget that replays MAML's inner loop at test time (GD, innerSteps, innerLr). */
export function mamlInnerTune(result: MamlResult, cfg: MamlConfig & { tau?: number }): { tune: TuneConfig; opts: FromInitOptions } {
  return {
    tune: { rank: cfg.rank, alpha: cfg.alpha, tau: cfg.tau, a0Seed: cfg.a0Seed, steps: result.innerSteps, lr: cfg.innerLr },
    opts: { optimizer: 'gd' },
  };
}
