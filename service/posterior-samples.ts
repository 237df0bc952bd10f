/**
 * Posterior samples of θ for LiFT posterior adapters, so the server can report uncertainty for
 * inputs it sees only after fitting. `posteriorPredictive` in adapters/ needs the query at fit
 * time; here adapters' `samplePosterior` chain keeps S samples θ_s (each with the MAP adapter's
 * trained head), which are stored with the adapter and averaged (`averagePredictive`) at
 * prediction time. This file only packs and unpacks the sample tensors.
 *
 * Stored parameters: `posterior_lora_A` [S, r, in], `posterior_lora_B` [S, out, r],
 * `posterior_prototypes` [S, nWay, out]; `extra.posteriorSamples` = S.
 */
import {
  averagePredictive, prepareSupport, samplePosterior as sampleThetas, type SupportSet,
} from '../adapters/adapt.ts';
import { packRows } from '../adapters/linalg.ts';
import { joinTheta, loraShape, splitTheta, type LayerSpec } from '../adapters/lora.ts';
import { restoreFittedAdapter, type FittedAdapter } from '../adapters/method.ts';
import { inducePrior, type MixturePrior } from '../adapters/mixture-prior.ts';
import type { Rng } from '../adapters/rng.ts';
import { HEAD_TENSORS } from '../registry/adapter-head.ts';

/** Where the samples are stored (registry/adapter-head.ts names every head tensor). */
export const POSTERIOR_TENSORS = { A: HEAD_TENSORS.posteriorA, B: HEAD_TENSORS.posteriorB, prototypes: HEAD_TENSORS.posteriorPrototypes } as const;

export interface PosteriorSampleOptions {
  readonly samples: number;
  readonly burnIn: number;
  readonly thinning: number;
}

export const DEFAULT_POSTERIOR_SAMPLES: PosteriorSampleOptions = { samples: 8, burnIn: 10, thinning: 2 };

/** S samples concatenated per tensor, ready to store. */
export type PosteriorTensors = Record<(typeof POSTERIOR_TENSORS)[keyof typeof POSTERIOR_TENSORS], Float32Array>;

/** S posterior samples around θ_MAP (adapters' `samplePosterior`), packed per tensor. */
export function samplePosterior(
  prior: MixturePrior, map: FittedAdapter, support: SupportSet, opts: PosteriorSampleOptions, rng: Rng,
): PosteriorTensors {
  const shape = loraShape(map.layer, map.rank, map.alpha);
  const ctx = prepareSupport(map.layer, shape, support, map.nWay, map.tau);
  // The head is a point estimate carried by every sample: the MAP adapter's class directions.
  const thetas = sampleThetas(inducePrior(prior), ctx, joinTheta(map.A, map.B, shape), map.prototypes, opts, rng);
  const parts = thetas.map((theta) => splitTheta(theta, shape));
  return {
    [POSTERIOR_TENSORS.A]: packRows(parts.map((p) => p.A), shape.rank * shape.inDim),
    [POSTERIOR_TENSORS.B]: packRows(parts.map((p) => p.B), shape.outDim * shape.rank),
    [POSTERIOR_TENSORS.prototypes]: packRows(thetas.map(() => map.prototypes), map.nWay * shape.outDim),
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

/** Posterior predictive over the stored samples. */
export function predictWithSamples(samples: readonly FittedAdapter[], features: readonly Float32Array[]): PredictiveUncertainty {
  const { probs, entropy, mutualInformation } = averagePredictive(samples.map((s) => s.predict(features)));
  return { probs, entropy: Array.from(entropy), mutualInformation: Array.from(mutualInformation) };
}
