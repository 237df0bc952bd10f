/**
 * Test-time adaptation on a support set.
 *
 * Every fine-tuning method trains θ and a cosine head W (head.ts: initialised from the support
 * prototypes under the starting θ, trained on the support, carried with the adapter) on
 *     loss(θ, W) = Σ_support −log p(y|x; θ, W) − log prior(θ)
 * with prior none | L2 pull to a centre | the LiFT mixture. This objective is defined at 1 shot.
 *
 *  - `fineTune`: a fixed number of Adam (or GD) steps on it. Used by LiFT-MAP, independent
 *    fine-tuning and the baselines.
 *  - `adaptMap`: LiFT-MAP. Components ranked by log α_k − support loss at μ_k; the best `starts`
 *    means are fine-tuned and the lowest final objective wins.
 *  - `samplePosterior`: S samples θ_s of a diagonal Laplace posterior at θ_MAP (or a short SGLD
 *    chain), head fixed at W_MAP; `averagePredictive` averages p(y|x, θ_s) over them and returns predictive
 *    entropy, expected entropy and mutual information per query; `posteriorPredictive` is the
 *    two together.
 */
import { adamUpdate } from './adam.ts';
import { check } from './errors.ts';
import { isFiniteVec, langevinStep } from './diffusions.ts';
import { logSumExp, type Vec } from './linalg.ts';
import { componentLogPdfs, priorNegLogPdf, type InducedPrior } from './mixture-prior.ts';
import { cosineHeadLoss, headDirections, initHead } from './head.ts';
import { backwardLayer, forwardLayer, type LayerSpec, type LoraShape } from './lora.ts';
import { predictFromPrototypes, type HeadBatch } from './proto-head.ts';
import type { Rng } from './rng.ts';
import { cacheRows, type CachedRows } from './task-likelihood.ts';

/** Support rows with labels 0..nWay-1. */
export interface SupportSet {
  readonly features: readonly Float32Array[];
  readonly labels: Int32Array;
}

/** A support set cached for one layer (`batch` marks every row as support and query). */
export interface AdaptContext {
  readonly layer: LayerSpec;
  readonly shape: LoraShape;
  readonly nWay: number;
  readonly tau: number;
  readonly batch: HeadBatch;
}

export function prepareSupport(layer: LayerSpec, shape: LoraShape, support: SupportSet, nWay: number, tau: number): AdaptContext {
  check(support.features.length === support.labels.length && support.labels.length > 0,
    () => `support: expected one label per row (> 0 rows), got ${support.labels.length} labels, ${support.features.length} rows`);
  check(support.labels.every((y) => y >= 0 && y < nWay), () => `support labels: expected 0..${nWay - 1}`);
  const rows: CachedRows = cacheRows(layer, support.features);
  const ones = new Uint8Array(rows.n).fill(1);
  return {
    layer, shape, nWay, tau,
    batch: { n: rows.n, X: rows.X, base: rows.base, labels: support.labels, nWay, isSupport: ones, isQuery: ones },
  };
}

export type PriorSpec =
  | { readonly kind: 'none' }
  | { readonly kind: 'l2'; readonly center: Float32Array; readonly strength: number }
  | { readonly kind: 'mixture'; readonly prior: InducedPrior };

/** The head a fit starts from: the support prototypes under θ [nWay, out]. */
export function startHead(ctx: AdaptContext, theta: Float32Array): Float32Array {
  const Z = forwardLayer(ctx.layer, ctx.shape, theta, ctx.batch.X, ctx.batch.base, ctx.batch.n).Z;
  return Float32Array.from(initHead(Z, ctx.shape.outDim, ctx.batch.labels, ctx.nWay));
}

/** Σ support NLL under θ and head W (default: the prototypes under θ), no prior. */
export function supportLoss(theta: Float32Array, ctx: AdaptContext, head?: Float32Array): number {
  const Z = forwardLayer(ctx.layer, ctx.shape, theta, ctx.batch.X, ctx.batch.base, ctx.batch.n).Z;
  const W = head ?? initHead(Z, ctx.shape.outDim, ctx.batch.labels, ctx.nWay);   // one forward pass serves both
  return cosineHeadLoss(Z, ctx.shape.outDim, W, ctx.nWay, ctx.batch.labels, ctx.tau, 'sum').loss;
}

/** −log prior(θ), gradient accumulated into `grad`. */
function priorTerm(theta: Float32Array, prior: PriorSpec, grad: Vec): number {
  if (prior.kind === 'l2') {
    let loss = 0;
    for (let i = 0; i < theta.length; i++) {
      const r = theta[i] - prior.center[i];
      loss += 0.5 * prior.strength * r * r;
      grad[i] += prior.strength * r;
    }
    return loss;
  }
  return prior.kind === 'mixture' ? priorNegLogPdf(prior.prior, theta, grad).loss : 0;
}

/**
 * loss = Σ support NLL(θ, W) − log prior(θ). dθ accumulates into `grad`, dW into `headGrad`
 * (both caller-zeroed; `headGrad` skipped when omitted).
 */
export function mapObjective(
  theta: Float32Array, head: Float32Array, ctx: AdaptContext, prior: PriorSpec,
  grad: Vec = new Float64Array(theta.length), headGrad?: Vec,
): { loss: number; grad: Vec } {
  const { layer, shape, batch } = ctx;
  const cache = forwardLayer(layer, shape, theta, batch.X, batch.base, batch.n);
  const out = cosineHeadLoss(cache.Z, shape.outDim, head, ctx.nWay, batch.labels, ctx.tau, 'sum', headGrad);
  backwardLayer(layer, shape, theta, batch.X, cache, out.dZ, grad);
  return { loss: out.loss + priorTerm(theta, prior, grad), grad };
}

export interface FineTuneOptions {
  readonly steps: number;
  readonly lr: number;
  /** Step size of the head W (default `lr`). */
  readonly headLr?: number;
  readonly optimizer?: 'adam' | 'gd';
  readonly prior: PriorSpec;
  /** Starting head (default: the support prototypes under the starting θ). */
  readonly head?: Float32Array;
}

/** What a fine-tuning run returns: θ, the trained head W [nWay, out] and the final objective. */
export interface FineTuned {
  readonly theta: Float32Array;
  readonly head: Float32Array;
  readonly loss: number;
}

/** Adam (β1 0.9, β2 0.999) or plain GD on one parameter block, in place. */
function descend(x: Float32Array, g: Float64Array, m: Float64Array, v: Float64Array, t: number, lr: number, gd: boolean): void {
  if (gd) {
    for (let i = 0; i < x.length; i++) x[i] -= lr * g[i];
    return;
  }
  adamUpdate(x, g, m, v, t, lr);
}

/** Fixed-step fine-tuning of (θ, W) from `initTheta` (not modified). */
export function fineTune(initTheta: Float32Array, ctx: AdaptContext, opts: FineTuneOptions): FineTuned {
  const theta = Float32Array.from(initTheta);
  const head = Float32Array.from(opts.head ?? startHead(ctx, initTheta));
  const blocks = [theta, head].map((x) => ({ x, g: new Float64Array(x.length), m: new Float64Array(x.length), v: new Float64Array(x.length) }));
  const lrs = [opts.lr, opts.headLr ?? opts.lr];
  for (let t = 1; t <= opts.steps; t++) {
    for (const b of blocks) b.g.fill(0);
    mapObjective(theta, head, ctx, opts.prior, blocks[0].g, blocks[1].g);
    if (!isFiniteVec(blocks[0].g) || !isFiniteVec(blocks[1].g)) break;
    blocks.forEach((b, i) => descend(b.x, b.g, b.m, b.v, t, lrs[i], opts.optimizer === 'gd'));
  }
  return { theta, head, loss: objectiveValue(theta, head, ctx, opts.prior) };
}

/** The value of `mapObjective` without its backward pass. */
function objectiveValue(theta: Float32Array, head: Float32Array, ctx: AdaptContext, prior: PriorSpec): number {
  return supportLoss(theta, ctx, head) + priorTerm(theta, prior, new Float64Array(theta.length));
}

export interface MapOptions {
  readonly steps: number;
  readonly lr: number;
  readonly headLr?: number;
  /** Fine-tune from this many top-ranked component means; keep the best (default 1). */
  readonly starts?: number;
}

/** LiFT-MAP: start from the most plausible component mean(s), fine-tune (θ, W) under the mixture. */
export function adaptMap(
  ind: InducedPrior, ctx: AdaptContext, opts: MapOptions,
): FineTuned & { component: number; scores: Float64Array } {
  const K = ind.logConst.length;
  const scores = new Float64Array(K);
  // One component needs no ranking (saves a forward pass per fit).
  for (let k = 0; k < K; k++) scores[k] = Math.log(ind.prior.weights[k]) - (K > 1 ? supportLoss(ind.prior.means[k] as Float32Array, ctx) : 0);
  const order = Array.from(scores, (s, k) => ({ s, k })).sort((a, b) => b.s - a.s).slice(0, Math.max(1, opts.starts ?? 1));
  let best: (FineTuned & { component: number }) | null = null;
  for (const { k } of order) {
    const out = fineTune(ind.prior.means[k], ctx, { steps: opts.steps, lr: opts.lr, headLr: opts.headLr, prior: { kind: 'mixture', prior: ind } });
    if (best === null || out.loss < best.loss) best = { ...out, component: k };
  }
  return { ...best!, scores };
}

/** Embeddings z [n, out] of feature rows under θ. */
export function embedRows(layer: LayerSpec, shape: LoraShape, theta: Float32Array, rows: CachedRows): Float64Array {
  return forwardLayer(layer, shape, theta, rows.X, rows.base, rows.n).Z;
}

/** Normalised prototypes [nWay, out] of the support under θ. */
export function fitPrototypes(ctx: AdaptContext, theta: Float32Array): Float64Array {
  return headDirections(startHead(ctx, theta), ctx.nWay, ctx.shape.outDim);
}

/** Class probabilities of query rows under θ and head W (default: the support prototypes under θ). */
export function predictQuery(ctx: AdaptContext, theta: Float32Array, query: CachedRows, head: Float32Array = startHead(ctx, theta)): Float32Array[] {
  const Z = embedRows(ctx.layer, ctx.shape, theta, query);
  return predictFromPrototypes(Z, ctx.shape.outDim, headDirections(head, ctx.nWay, ctx.shape.outDim), ctx.nWay, ctx.tau);
}

/**
 * The test-time posterior over θ (the head stays at W_MAP).
 *
 * 'laplace' (default): a diagonal Laplace approximation at θ_MAP, precision = the mixture prior's
 * responsibility-weighted precision + the support's empirical Fisher diagonal Σ_i g_i² (per-row
 * gradients are independent because the head is fixed), then S independent draws. Why the
 * default: its samples are independent (ESS = S) and data-informed (the Fisher term narrows the
 * directions the support pins down), for the cost of one pass over the support; a short SGLD chain
 * with a stable step (η ≪ s + σ²) barely moves in the tens of steps a fit can afford (lag-1
 * autocorrelation ~0.8 measured), so its "samples" were a few correlated prior jitters.
 * 'sgld': that chain, kept as an option.
 */
export interface PosteriorOptions {
  readonly kind?: 'laplace' | 'sgld';
  readonly samples?: number;     // kept samples (default 30)
  /** SGLD only. */
  readonly burnIn?: number;      // default 10
  readonly thinning?: number;    // default 1
  /** SGLD η; default 0.1 × the smallest prior variance min_k,d (s_kd + σ²). */
  readonly stepSize?: number;
  readonly temperature?: number; // default 1
}

/** Sample-averaged class probabilities and the split of their uncertainty. */
export interface PredictiveAverage {
  readonly probs: Float32Array[];
  /** H[p̄] per query. */
  readonly entropy: Float64Array;
  /** E_θ H[p(·|θ)] per query. */
  readonly expectedEntropy: Float64Array;
  /** H[p̄] − E H[p]: the epistemic part. */
  readonly mutualInformation: Float64Array;
}

export interface PosteriorPredictive extends PredictiveAverage {
  readonly samplesUsed: number;
}

/** H[p] = −Σ_c p_c log p_c (0 log 0 = 0). */
export function entropyOf(p: ArrayLike<number>): number {
  let h = 0;
  for (let c = 0; c < p.length; c++) if (p[c] > 0) h -= p[c] * Math.log(p[c]);
  return h;
}

function defaultStepSize(ind: InducedPrior): number {
  let minVar = Infinity;
  for (const prec of ind.precisions) for (let d = 0; d < prec.length; d++) minVar = Math.min(minVar, 1 / prec[d]);
  return 0.1 * minVar;
}

/**
 * Short SGLD chain on −log p(support | θ) − log p(θ) from θ_MAP (not modified): `burnIn` steps,
 * then every `thinning`-th θ is kept until there are `samples`. A non-finite proposal is dropped.
 */
function sgldPosterior(
  ind: InducedPrior, ctx: AdaptContext, thetaMap: Float32Array, head: Float32Array, opts: PosteriorOptions, rng: Rng,
): Float32Array[] {
  const nKeep = opts.samples ?? 30, burnIn = opts.burnIn ?? 10, thin = Math.max(1, opts.thinning ?? 1);
  const eta = opts.stepSize ?? defaultStepSize(ind);
  const prior: PriorSpec = { kind: 'mixture', prior: ind };
  let theta: Float32Array = Float32Array.from(thetaMap);
  const kept: Float32Array[] = [];
  const grad = new Float64Array(theta.length);
  for (let t = 1; kept.length < nKeep && t <= burnIn + nKeep * thin; t++) {
    grad.fill(0);
    mapObjective(theta, head, ctx, prior, grad);
    for (let i = 0; i < grad.length; i++) grad[i] = -grad[i];   // ∇ log posterior
    const next = langevinStep(theta, grad, eta, opts.temperature ?? 1, rng);
    if (isFiniteVec(next)) theta = next;
    if (t > burnIn && (t - burnIn) % thin === 0) kept.push(theta);
  }
  return kept;
}

/** Diagonal posterior precision at θ: Σ_k r_k(θ)/(s_k + σ²) + Σ_support (∂_θ NLL_i)². */
export function laplacePrecision(ind: InducedPrior, ctx: AdaptContext, theta: Float32Array, head: Float32Array): Float64Array {
  const prec = new Float64Array(theta.length);
  const comp = componentLogPdfs(ind, theta);
  const lse = logSumExp(comp);
  comp.forEach((c, k) => {
    const r = Math.exp(c - lse);
    if (r < 1e-12) return;
    const pk = ind.precisions[k];
    for (let d = 0; d < prec.length; d++) prec[d] += r * pk[d];
  });
  const { layer, shape, batch } = ctx;
  const g = new Float64Array(theta.length);
  for (let i = 0; i < batch.n; i++) {
    const X = batch.X.subarray(i * shape.inDim, (i + 1) * shape.inDim);
    const cache = forwardLayer(layer, shape, theta, X, batch.base.subarray(i * shape.outDim, (i + 1) * shape.outDim), 1);
    const out = cosineHeadLoss(cache.Z, shape.outDim, head, ctx.nWay, batch.labels.subarray(i, i + 1), ctx.tau, 'sum');
    g.fill(0);
    backwardLayer(layer, shape, theta, X, cache, out.dZ, g);
    for (let d = 0; d < prec.length; d++) prec[d] += g[d] * g[d];
  }
  return prec;
}

function laplacePosterior(
  ind: InducedPrior, ctx: AdaptContext, thetaMap: Float32Array, head: Float32Array, samples: number, rng: Rng,
): Float32Array[] {
  const sd = Float64Array.from(laplacePrecision(ind, ctx, thetaMap, head), (p) => 1 / Math.sqrt(p));
  return Array.from({ length: samples }, () => Float32Array.from(thetaMap, (t, d) => t + sd[d] * rng.normal()));
}

/** S posterior samples of θ around θ_MAP (head fixed at W_MAP): Laplace (default) or SGLD. */
export function samplePosterior(
  ind: InducedPrior, ctx: AdaptContext, thetaMap: Float32Array, head: Float32Array, opts: PosteriorOptions, rng: Rng,
): Float32Array[] {
  return (opts.kind ?? 'laplace') === 'laplace'
    ? laplacePosterior(ind, ctx, thetaMap, head, opts.samples ?? 30, rng)
    : sgldPosterior(ind, ctx, thetaMap, head, opts, rng);
}

/** Averages probability rows [samples][queries][nWay] over samples (at least one). */
export function averagePredictive(rowsPerSample: readonly (readonly Float32Array[])[]): PredictiveAverage {
  const S = rowsPerSample.length;
  check(S > 0, () => 'posterior predictive: expected at least 1 sample, got 0');
  const sums = rowsPerSample[0].map((row) => new Float64Array(row.length));
  const expectedEntropy = new Float64Array(sums.length);
  for (const rows of rowsPerSample) {
    rows.forEach((p, i) => {
      for (let c = 0; c < p.length; c++) sums[i][c] += p[c];
      expectedEntropy[i] += entropyOf(p);
    });
  }
  const probs = sums.map((s) => Float32Array.from(s, (v) => v / S));
  const entropy = Float64Array.from(probs, entropyOf);
  for (let i = 0; i < expectedEntropy.length; i++) expectedEntropy[i] /= S;
  const mutualInformation = Float64Array.from(entropy, (h, i) => Math.max(0, h - expectedEntropy[i]));
  return { probs, entropy, expectedEntropy, mutualInformation };
}

/** Posterior predictive of the query: `samplePosterior` around θ_MAP, then `averagePredictive`. */
export function posteriorPredictive(
  ind: InducedPrior, ctx: AdaptContext, map: { theta: Float32Array; head: Float32Array }, query: CachedRows,
  opts: PosteriorOptions, rng: Rng,
): PosteriorPredictive {
  const thetas = samplePosterior(ind, ctx, map.theta, map.head, opts, rng);
  const average = averagePredictive(thetas.map((theta) => predictQuery(ctx, theta, query, map.head)));
  return { ...average, samplesUsed: thetas.length };
}
