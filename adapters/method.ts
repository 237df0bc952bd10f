/**
 * The few-shot method interface the evaluation CLI, the baselines and the server call, and the
 * methods built on adapters/: frozen prototypes, independent LoRA fine-tuning, LiFT-MAP and
 * LiFT posterior-predictive. A `FittedAdapter` is what the server stores and reuses: the LoRA
 * factors plus the support prototypes, so prediction is one forward pass of the query.
 */
import {
  adaptMap, fineTune, posteriorPredictive, prepareSupport, startHead,
  type AdaptContext, type PosteriorOptions, type PosteriorPredictive, type SupportSet,
} from './adapt.ts';
import { check } from './errors.ts';
import { headDirections } from './head.ts';
import { predictFromPrototypes } from './proto-head.ts';
import {
  forwardLayer, initTheta, loraShape, seededA0, splitTheta, thetaSize, type LayerSpec, type LoraShape,
} from './lora.ts';
import { inducePrior, type MixturePrior } from './mixture-prior.ts';
import type { Rng } from './rng.ts';
import { cacheRows } from './task-likelihood.ts';

export type { SupportSet } from './adapt.ts';

export interface FewShotMethod {
  readonly name: string;
  /** Probability rows [query.length][nWay]. Labels of the support are 0..nWay-1. */
  fitPredict(support: SupportSet, query: readonly Float32Array[], nWay: number, rng: Rng): Float32Array[];
  /** The adapter behind `fitPredict`, for storing and reuse. */
  fit(support: SupportSet, nWay: number, rng: Rng): FittedAdapter;
}

export interface FittedAdapter {
  /** [rank, in]. */
  readonly A: Float32Array;
  /** [out, rank]. */
  readonly B: Float32Array;
  readonly rank: number;
  readonly alpha: number;
  readonly tau: number;
  readonly nWay: number;
  readonly layer: LayerSpec;
  /** The cosine head's class directions [nWay, out] (normalised rows; head.ts). */
  readonly prototypes: Float32Array;
  predict(features: readonly Float32Array[]): Float32Array[];
}

/** Shared adapter settings. A0 comes from `a0Seed` and must match meta-training's. */
export interface AdapterConfig {
  readonly rank: number;
  readonly alpha?: number;
  /** Cosine temperature τ (default 10). */
  readonly tau?: number;
  readonly a0Seed?: number;
}

export interface TuneConfig extends AdapterConfig {
  readonly steps: number;
  readonly lr: number;
  /** Step size of the cosine head (default `lr`). */
  readonly headLr?: number;
}

/** Rebuilds a stored adapter (A, B, prototypes) into a predictor. */
export function restoreFittedAdapter(
  layer: LayerSpec, parts: { A: Float32Array; B: Float32Array; rank: number; alpha: number; tau: number; nWay: number; prototypes: Float32Array },
): FittedAdapter {
  const shape = loraShape(layer, parts.rank, parts.alpha);
  const theta = new Float32Array(thetaSize(shape));
  const views = splitTheta(theta, shape);
  views.A.set(parts.A);
  views.B.set(parts.B);
  check(parts.prototypes.length === parts.nWay * layer.outDim,
    () => `prototypes: expected ${parts.nWay}x${layer.outDim}, got ${parts.prototypes.length} values`);
  const protos = Float64Array.from(parts.prototypes);
  return {
    ...parts, layer,
    predict(features) {
      const rows = cacheRows(layer, features);
      const Z = forwardLayer(layer, shape, theta, rows.X, rows.base, rows.n).Z;
      return predictFromPrototypes(Z, layer.outDim, protos, parts.nWay, parts.tau);
    },
  };
}

/** Packages θ and its head (default: the support prototypes under θ, i.e. no head training). */
export function createFittedAdapter(ctx: AdaptContext, theta: Float32Array, head: Float32Array = startHead(ctx, theta)): FittedAdapter {
  const { A, B } = splitTheta(theta, ctx.shape);
  return restoreFittedAdapter(ctx.layer, {
    A: Float32Array.from(A), B: Float32Array.from(B), rank: ctx.shape.rank, alpha: ctx.shape.alpha,
    tau: ctx.tau, nWay: ctx.nWay, prototypes: Float32Array.from(headDirections(head, ctx.nWay, ctx.shape.outDim)),
  });
}

/** A method from a `fit`: fitPredict = fit then predict. */
export function methodFromFit(name: string, fit: (support: SupportSet, nWay: number, rng: Rng) => FittedAdapter): FewShotMethod {
  return { name, fit, fitPredict: (support, query, nWay, rng) => fit(support, nWay, rng).predict(query) };
}

/** The LoRA shape of an adapter config on a layer (α defaults to the rank). */
export function shapeOf(layer: LayerSpec, cfg: AdapterConfig): LoraShape {
  return loraShape(layer, cfg.rank, cfg.alpha ?? cfg.rank);
}

/** No adaptation: B = 0, prototypes of the frozen embeddings. */
export function frozenPrototypes(layer: LayerSpec, cfg: { tau?: number } = {}): FewShotMethod {
  const shape = loraShape(layer, 1, 1);
  return methodFromFit('prototypes', (support, nWay) => {
    const ctx = prepareSupport(layer, shape, support, nWay, cfg.tau ?? 10);
    return createFittedAdapter(ctx, new Float32Array(thetaSize(shape)));
  });
}

/** Independent LoRA: from A0 / B = 0 on the support alone (optional L2 pull to the init). */
export function independentLora(layer: LayerSpec, cfg: TuneConfig & { l2?: number }): FewShotMethod {
  const shape = shapeOf(layer, cfg);
  const init = initTheta(shape, seededA0(shape, cfg.a0Seed ?? 0));
  const prior = cfg.l2 ? { kind: 'l2' as const, center: init, strength: cfg.l2 } : { kind: 'none' as const };
  return methodFromFit('independent', (support, nWay) => {
    const ctx = prepareSupport(layer, shape, support, nWay, cfg.tau ?? 10);
    const out = fineTune(init, ctx, { steps: cfg.steps, lr: cfg.lr, headLr: cfg.headLr, prior });
    return createFittedAdapter(ctx, out.theta, out.head);
  });
}

function checkPrior(prior: MixturePrior, shape: LoraShape): void {
  check(prior.dim === thetaSize(shape),
    () => `prior dim ${prior.dim} does not fit rank ${shape.rank} on ${shape.outDim}x${shape.inDim} (expected ${thetaSize(shape)})`);
}

/** LiFT's test-time knobs beyond the shared budget. */
export interface LiftTestConfig {
  /** Fine-tune from this many top-ranked components (default 1). */
  readonly starts?: number;
  /**
   * λ multiplies the prior's precision at test time (default 1: the learned prior as is); λ < 1
   * lets the support move θ further. A tempered prior, so λ ≠ 1 must win on meta-validation.
   */
  readonly priorScale?: number;
}

/** The learned prior with every variance divided by λ. */
export function scalePrior(prior: MixturePrior, priorScale = 1): MixturePrior {
  if (priorScale === 1) return prior;
  check(priorScale > 0, () => `priorScale: expected > 0, got ${priorScale}`);
  return { ...prior, sigma2: prior.sigma2 / priorScale, variances: prior.variances.map((v) => Float32Array.from(v, (x) => x / priorScale)) };
}

/** LiFT-MAP: fine-tune under the mixture prior from the most plausible component mean(s). */
export function liftMap(prior: MixturePrior, layer: LayerSpec, cfg: TuneConfig & LiftTestConfig): FewShotMethod {
  const shape = shapeOf(layer, cfg);
  checkPrior(prior, shape);
  const ind = inducePrior(scalePrior(prior, cfg.priorScale));
  return methodFromFit('lift-map', (support, nWay) => {
    const ctx = prepareSupport(layer, shape, support, nWay, cfg.tau ?? 10);
    const out = adaptMap(ind, ctx, cfg);
    return createFittedAdapter(ctx, out.theta, out.head);
  });
}

export interface PosteriorMethod extends FewShotMethod {
  fitPredictWithUncertainty(support: SupportSet, query: readonly Float32Array[], nWay: number, rng: Rng): PosteriorPredictive;
}

/** LiFT posterior-predictive: LiFT-MAP, then a short SGLD chain around it (`fit` returns the MAP adapter). */
export function liftPosterior(
  prior: MixturePrior, layer: LayerSpec, cfg: TuneConfig & LiftTestConfig & { posterior?: PosteriorOptions },
): PosteriorMethod {
  const shape = shapeOf(layer, cfg);
  checkPrior(prior, shape);
  const ind = inducePrior(scalePrior(prior, cfg.priorScale));
  const map = liftMap(prior, layer, cfg);
  const withUncertainty = (support: SupportSet, query: readonly Float32Array[], nWay: number, rng: Rng): PosteriorPredictive => {
    const ctx = prepareSupport(layer, shape, support, nWay, cfg.tau ?? 10);
    return posteriorPredictive(ind, ctx, adaptMap(ind, ctx, cfg), cacheRows(layer, query), cfg.posterior ?? {}, rng.fork('lift-posterior'));
  };
  return {
    name: 'lift-posterior',
    fit: map.fit,
    fitPredict: (support, query, nWay, rng) => withUncertainty(support, query, nWay, rng).probs,
    fitPredictWithUncertainty: withUncertainty,
  };
}


