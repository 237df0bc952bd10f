/**
 * Posterior samples of θ for LiFT posterior adapters, so the server can report uncertainty for
 * inputs it sees only after fitting. `posteriorPredictive` in adapters/ needs the query at fit
 * time; here the same short SGLD chain around θ_MAP keeps S samples (θ_s and the support
 * prototypes under θ_s), which are stored with the adapter and averaged at prediction time.
 *
 * Stored parameters: `posterior_lora_A` [S, r, in], `posterior_lora_B` [S, out, r],
 * `posterior_prototypes` [S, nWay, out]; `extra.posteriorSamples` = S.
 */
import { fitPrototypes, mapObjective, prepareSupport, type SupportSet } from '../adapters/adapt.ts';
import { isFiniteVec, langevinStep } from '../adapters/diffusions.ts';
import { joinTheta, loraShape, splitTheta, type LayerSpec } from '../adapters/lora.ts';
import { restoreFittedAdapter, type FittedAdapter } from '../adapters/method.ts';
import { inducePrior, type MixturePrior } from '../adapters/mixture-prior.ts';
import type { Rng } from '../adapters/rng.ts';

export const POSTERIOR_TENSORS = { A: 'posterior_lora_A', B: 'posterior_lora_B', prototypes: 'posterior_prototypes' } as const;

export interface PosteriorSampleOptions {
  readonly samples: number;
  readonly burnIn: number;
  readonly thinning: number;
}

export const DEFAULT_POSTERIOR_SAMPLES: PosteriorSampleOptions = { samples: 8, burnIn: 10, thinning: 2 };

/** S samples concatenated per tensor, ready to store. */
export type PosteriorTensors = Record<(typeof POSTERIOR_TENSORS)[keyof typeof POSTERIOR_TENSORS], Float32Array>;

/** SGLD on −log p(support | θ) − log p(θ) from θ_MAP; η = 0.1 × the smallest prior variance. */
export function samplePosterior(
  prior: MixturePrior, map: FittedAdapter, support: SupportSet, opts: PosteriorSampleOptions, rng: Rng,
): PosteriorTensors {
  const shape = loraShape(map.layer, map.rank, map.alpha);
  const ctx = prepareSupport(map.layer, shape, support, map.nWay, map.tau);
  const ind = inducePrior(prior);
  let minVar = Infinity;
  for (const prec of ind.precisions) for (let d = 0; d < prec.length; d++) minVar = Math.min(minVar, 1 / prec[d]);
  const eta = 0.1 * minVar;
  const objective = { kind: 'mixture' as const, prior: ind };
  let theta = joinTheta(map.A, map.B, shape);
  const grad = new Float64Array(theta.length);
  const kept: { theta: Float32Array; protos: Float64Array }[] = [];
  for (let t = 1; kept.length < opts.samples && t <= opts.burnIn + opts.samples * opts.thinning; t++) {
    grad.fill(0);
    mapObjective(theta, ctx, objective, grad);
    for (let i = 0; i < grad.length; i++) grad[i] = -grad[i];
    const next = langevinStep(theta, grad, eta, 1, rng);
    if (isFiniteVec(next)) theta = next;
    if (t > opts.burnIn && (t - opts.burnIn) % opts.thinning === 0) kept.push({ theta, protos: fitPrototypes(ctx, theta) });
  }
  const parts = kept.map((k) => ({ ...splitTheta(k.theta, shape), protos: Float32Array.from(k.protos) }));
  const concat = (arrays: Float32Array[]): Float32Array => {
    const out = new Float32Array(arrays.reduce((s, a) => s + a.length, 0));
    let o = 0;
    for (const a of arrays) { out.set(a, o); o += a.length; }
    return out;
  };
  return {
    [POSTERIOR_TENSORS.A]: concat(parts.map((p) => p.A)),
    [POSTERIOR_TENSORS.B]: concat(parts.map((p) => p.B)),
    [POSTERIOR_TENSORS.prototypes]: concat(parts.map((p) => p.protos)),
  };
}

/** Splits stored sample tensors back into S predictors. */
export function restorePosteriorSamples(
  layer: LayerSpec, head: { rank: number; alpha: number; tau: number; nWay: number }, samples: number,
  tensors: Readonly<Record<string, Float32Array>>,
): FittedAdapter[] {
  const nA = head.rank * layer.inDim, nB = layer.outDim * head.rank, nP = head.nWay * layer.outDim;
  const A = tensors[POSTERIOR_TENSORS.A], B = tensors[POSTERIOR_TENSORS.B], P = tensors[POSTERIOR_TENSORS.prototypes];
  if (!A || !B || !P || A.length !== samples * nA || B.length !== samples * nB || P.length !== samples * nP) {
    throw new Error(`posterior samples: expected ${samples} samples of A ${nA}, B ${nB}, prototypes ${nP} values`);
  }
  return Array.from({ length: samples }, (_, s) => restoreFittedAdapter(layer, {
    ...head, A: A.subarray(s * nA, (s + 1) * nA), B: B.subarray(s * nB, (s + 1) * nB), prototypes: P.subarray(s * nP, (s + 1) * nP),
  }));
}

export interface PredictiveUncertainty {
  /** Mean probability rows over samples. */
  readonly probs: Float32Array[];
  /** H[p̄] per input (total uncertainty). */
  readonly entropy: number[];
  /** H[p̄] − E_θ H[p(·|θ)] per input (the epistemic part). */
  readonly mutualInformation: number[];
}

function entropyOf(p: ArrayLike<number>): number {
  let h = 0;
  for (let c = 0; c < p.length; c++) if (p[c] > 0) h -= p[c] * Math.log(p[c]);
  return h;
}

/** Posterior predictive over the stored samples. */
export function predictWithSamples(samples: readonly FittedAdapter[], features: readonly Float32Array[]): PredictiveUncertainty {
  const nWay = samples[0].nWay;
  const sums = features.map(() => new Float64Array(nWay));
  const expected = new Float64Array(features.length);
  for (const s of samples) {
    s.predict(features).forEach((p, i) => {
      for (let c = 0; c < nWay; c++) sums[i][c] += p[c];
      expected[i] += entropyOf(p) / samples.length;
    });
  }
  const probs = sums.map((row) => Float32Array.from(row, (v) => v / samples.length));
  const entropy = probs.map(entropyOf);
  return { probs, entropy, mutualInformation: entropy.map((h, i) => Math.max(0, h - expected[i])) };
}
