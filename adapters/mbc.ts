/**
 * MBC — model-based clustering of a LoRA zoo, then one LoRA per cluster:
 *  1. flatten each zoo θ_i, zero all but its top `keepFraction` entries by |value|;
 *  2. truncated SVD of the n×|θ| matrix to `svdDim` (via the n×n Gram matrix), L2-normalise rows;
 *  3. k-means (seeded k-means++) on the rows of the cosine-similarity matrix of those rows;
 *  4. train one LoRA per cluster on the union of its tasks' episodes (fixed Adam steps).
 * Test time: pick a cluster LoRA — by support likelihood (lowest support NLL under the prototype
 * head, defined at 1 shot too), or
 * by Arrow routing (prototype v_c = top right-singular vector of ΔW_c = scaling·B_c·A_c;
 * score = mean |⟨v_c, x⟩| over the support's layer inputs) — and fine-tune from it.
 */
import { prepareSupport, supportLoss, type AdaptContext } from './adapt.ts';
import { adamStep, initAdam } from './adam.ts';
import { jacobiEigen, kMeans, normalizeRowsL2, sparsifyTopFraction, truncatedSvd } from './cluster-math.ts';
import { check } from './errors.ts';
import { methodFromFit, shapeOf, tuneFrom } from './from-init.ts';
import { norm } from './linalg.ts';
import { initTheta, seededA0, splitTheta, thetaSize, type LayerSpec, type LoraShape } from './lora.ts';
import type { AdapterConfig, FewShotMethod, TuneConfig } from './method.ts';
import { episodeBatch, progressReporter, sharedRowCache, type MetaTask, type RowCache } from './meta-task.ts';
import { episodeLoss } from './proto-head.ts';
import type { Rng } from './rng.ts';

export interface MbcConfig extends AdapterConfig {
  /** k of k-means (default 10; capped at the zoo size). */
  readonly clusters?: number;
  /** Fraction of entries kept by magnitude (default 0.2). */
  readonly keepFraction?: number;
  /** Truncated SVD dimension (default 64). */
  readonly svdDim?: number;
  /** Adam steps per cluster LoRA (one episode each). */
  readonly trainSteps: number;
  readonly trainLr: number;
  /** Cluster LoRA start: 'scratch' (A0, B = 0; default) or 'mean' of its members' θ_i. */
  readonly init?: 'scratch' | 'mean';
  readonly kmeansRestarts?: number;
}

export interface MbcCluster {
  readonly index: number;
  readonly members: readonly string[];
  readonly theta: Float32Array;
  /** Arrow prototype: top right-singular vector of ΔW [in]. */
  readonly arrow: Float32Array;
}

export interface MbcResult {
  readonly clusters: readonly MbcCluster[];
  /** Cluster of each zoo entry, in zoo order. */
  readonly assignments: Int32Array;
  readonly svdRank: number;
}

/** Steps 1-3: cluster labels of the zoo θ_i. */
export function clusterLoras(
  thetas: readonly Float32Array[], cfg: Pick<MbcConfig, 'clusters' | 'keepFraction' | 'svdDim' | 'kmeansRestarts'>, rng: Rng,
): { labels: Int32Array; svdRank: number } {
  const n = thetas.length;
  check(n > 0, () => 'MBC: the zoo is empty');
  const D = thetas[0].length;
  const M = new Float64Array(n * D);
  thetas.forEach((t, i) => {
    check(t.length === D, () => `MBC: zoo θ ${i} has ${t.length} entries, expected ${D}`);
    M.set(sparsifyTopFraction(t, cfg.keepFraction ?? 0.2), i * D);
  });
  const svd = truncatedSvd(M, n, D, cfg.svdDim ?? 64);
  const k = svd.rank;
  // Reduced rows U·Σ (= M·V), then unit rows and their cosine-similarity matrix.
  const R = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) R[i * k + j] = svd.U[i * k + j] * svd.S[j];
  const Rn = normalizeRowsL2(R, n, k);
  const C = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += Rn[i * k + c] * Rn[j * k + c];
      C[i * n + j] = s;
    }
  }
  const nClusters = Math.min(cfg.clusters ?? 10, n);
  const km = kMeans(C, n, n, nClusters, rng.fork('mbc-kmeans'), { restarts: cfg.kmeansRestarts ?? 4 });
  return { labels: km.labels, svdRank: k };
}

/**
 * Top right-singular vector of ΔW = scaling·B·A, exactly in rank r: A Aᵀ = Q Λ Qᵀ gives
 * A = Q Λ^½ Ṽᵀ with Ṽ orthonormal; then B·A = C·Ṽᵀ with C = B Q Λ^½, and the top eigenvector w
 * of CᵀC maps to v = Ṽ·w.
 */
export function arrowPrototype(shape: LoraShape, theta: Float32Array): Float32Array {
  const { A, B } = splitTheta(theta, shape);
  const { inDim, outDim, rank: r } = shape;
  const G = new Float64Array(r * r);
  for (let p = 0; p < r; p++) for (let q = 0; q < r; q++) {
    let s = 0;
    for (let j = 0; j < inDim; j++) s += A[p * inDim + j] * A[q * inDim + j];
    G[p * r + q] = s;
  }
  const ga = jacobiEigen(G, r);
  const C = new Float64Array(outDim * r);
  for (let o = 0; o < outDim; o++) for (let m = 0; m < r; m++) {
    let s = 0;
    for (let p = 0; p < r; p++) s += B[o * r + p] * ga.vectors[p * r + m];
    C[o * r + m] = s * Math.sqrt(Math.max(0, ga.values[m]));
  }
  const CtC = new Float64Array(r * r);
  for (let p = 0; p < r; p++) for (let q = 0; q < r; q++) {
    let s = 0;
    for (let o = 0; o < outDim; o++) s += C[o * r + p] * C[o * r + q];
    CtC[p * r + q] = s;
  }
  const w = jacobiEigen(CtC, r).vectors; // column 0 = top
  const v = new Float64Array(inDim);
  const tiny = 1e-12 * Math.max(1e-300, ga.values[0]);
  for (let m = 0; m < r; m++) {
    if (ga.values[m] <= tiny) continue;
    // Ṽ column m = Aᵀ·q_m / √λ_m
    const coef = w[m * r] / Math.sqrt(ga.values[m]);
    for (let p = 0; p < r; p++) {
      const c = coef * ga.vectors[p * r + m];
      for (let j = 0; j < inDim; j++) v[j] += c * A[p * inDim + j];
    }
  }
  const nrm = norm(v) || 1;
  return Float32Array.from(v, (x) => x / nrm);
}

/** Arrow scores of each cluster for some layer-input rows: mean |⟨v_c, x⟩|. */
export function arrowScores(clusters: readonly MbcCluster[], features: readonly Float32Array[]): Float64Array {
  return Float64Array.from(clusters, (c) => {
    let s = 0;
    for (const x of features) {
      let d = 0;
      for (let j = 0; j < x.length; j++) d += c.arrow[j] * x[j];
      s += Math.abs(d);
    }
    return s / Math.max(1, features.length);
  });
}

/** Step 4 for one cluster: Adam on episodes of its member tasks. */
function trainClusterLora(
  members: readonly MetaTask[], init: Float32Array, layer: LayerSpec, shape: LoraShape, cfg: MbcConfig,
  cache: RowCache, rng: Rng, tick: () => void,
): Float32Array {
  const theta = Float32Array.from(init);
  const adam = initAdam(theta.length);
  const headOpts = { tau: cfg.tau ?? 10, reduction: 'mean' as const };
  for (let t = 0; t < cfg.trainSteps; t++) {
    const task = members[rng.int(members.length)];
    const batch = episodeBatch(cache, task.sampleEpisode(rng), task.nWay);
    const out = episodeLoss(layer, shape, theta, batch, headOpts, new Float64Array(theta.length));
    if (out.grad.every(Number.isFinite)) adamStep(adam, theta, out.grad, cfg.trainLr);
    tick();
  }
  return theta;
}

/**
 * MBC training. `zoo` holds the per-task LoRAs (ids match `tasks`); each cluster LoRA trains on
 * its members' MetaTasks. Progress counts Adam steps over all clusters.
 */
export function mbcTrain(
  zoo: readonly { id: string; theta: Float32Array }[], tasks: readonly MetaTask[], layer: LayerSpec, cfg: MbcConfig,
  rng: Rng, onProgress?: (done: number, total: number) => void,
): MbcResult {
  const shape = shapeOf(layer, cfg);
  const byId = new Map(tasks.map((t) => [t.id, t]));
  for (const z of zoo) {
    check(byId.has(z.id), () => `MBC: zoo entry '${z.id}' has no training task with that id`);
    check(z.theta.length === thetaSize(shape), () => `MBC: zoo entry '${z.id}' has |θ| = ${z.theta.length}, expected ${thetaSize(shape)}`);
  }
  const { labels, svdRank } = clusterLoras(zoo.map((z) => z.theta), cfg, rng);
  const nClusters = Math.max(...labels) + 1;
  const total = nClusters * cfg.trainSteps;
  const report = progressReporter(total, onProgress);
  let done = 0;
  const cache = sharedRowCache(layer);
  const a0Init = initTheta(shape, seededA0(shape, cfg.a0Seed ?? 0));
  const clusters: MbcCluster[] = [];
  for (let c = 0; c < nClusters; c++) {
    const idx = [...labels.keys()].filter((i) => labels[i] === c);
    if (idx.length === 0) continue;
    const init = cfg.init === 'mean' ? meanOf(idx.map((i) => zoo[i].theta)) : a0Init;
    const theta = trainClusterLora(idx.map((i) => byId.get(zoo[i].id)!), init, layer, shape, cfg, cache,
      rng.fork(`mbc-cluster/${c}`), () => report(++done));
    clusters.push({ index: clusters.length, members: idx.map((i) => zoo[i].id), theta, arrow: arrowPrototype(shape, theta) });
  }
  return { clusters, assignments: labels, svdRank };
}

function meanOf(thetas: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(thetas[0].length);
  for (const t of thetas) for (let i = 0; i < out.length; i++) out[i] += t[i] / thetas.length;
  return out;
}

/**
 * MBC test time. 'likelihood' picks the cluster LoRA with the lowest support NLL (head: the
 * support prototypes under that LoRA); a non-finite score falls back to Arrow routing.
 */
export function mbcMethod(
  clusters: readonly MbcCluster[], layer: LayerSpec, opts: { route: 'likelihood' | 'arrow' }, cfg: TuneConfig,
): FewShotMethod {
  check(clusters.length > 0, () => 'MBC: no cluster LoRAs');
  const shape = shapeOf(layer, cfg);
  for (const c of clusters) {
    check(c.theta.length === thetaSize(shape), () => `MBC: cluster ${c.index} has |θ| = ${c.theta.length}, expected ${thetaSize(shape)}`);
  }
  return methodFromFit(`mbc-${opts.route}`, (support, nWay) => {
    const ctx = prepareSupport(layer, shape, support, nWay, cfg.tau ?? 10);
    return tuneFrom(clusters[chooseCluster(clusters, ctx, support.features, opts.route).index].theta, ctx, cfg);
  });
}

/** The routed cluster and every cluster's score (higher is better); `route` says which rule was used. */
export function chooseCluster(
  clusters: readonly MbcCluster[], ctx: AdaptContext, features: readonly Float32Array[], route: 'likelihood' | 'arrow',
): { index: number; scores: Float64Array; route: 'likelihood' | 'arrow' } {
  let scores: Float64Array | null = null;
  if (route === 'likelihood') {
    const fit = Float64Array.from(clusters, (c) => -supportLoss(c.theta, ctx));
    if (fit.every(Number.isFinite)) scores = fit;
  }
  const used = scores ? 'likelihood' : 'arrow';
  scores ??= arrowScores(clusters, features);
  let best = 0;
  for (let c = 1; c < scores.length; c++) if (scores[c] > scores[best]) best = c;
  return { index: best, scores, route: used };
}
