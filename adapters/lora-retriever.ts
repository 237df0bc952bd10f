/**
 * LoRA-Retriever over a zoo of per-training-task LoRAs θ_i (LiFT's final θ_i or independently
 * fine-tuned ones, all from the same A0 so their factors are comparable).
 *
 * Each zoo LoRA carries a task embedding e_i = normalize(mean ẑ) over a sample of its task's
 * inputs, ẑ the frozen normalised embedding (B = 0). A new task's support inputs give e* the same
 * way; the top-k LoRAs by cosine(e*, e_i) are composed:
 *  - fusion: average the factors, A = mean A_j, B = mean B_j (one rank-r LoRA);
 *  - mixture: average the LoRA outputs, Δs = (1/k)·Σ_j scaling·B_j·A_j·x, as in LoRA-Retriever's
 *    mixture of LoRA modules. That is exactly one LoRA of rank k·r: A = [A_1; …; A_k],
 *    B = [B_1 … B_k]/k, alpha = k·alpha (same scaling); the adapted layer then gives the mixed
 *    embedding z = normalize(act(W·x + b + Δs)), and prototypes come from it.
 * Zero-shot: prototypes under the composition. Fine-tuned: the shared budget from the
 * composition (fusion: rank r; mixture: the rank-k·r concatenation, i.e. k× the parameters).
 */
import { prepareSupport } from './adapt.ts';
import { check } from './errors.ts';
import { methodFromFit, shapeOf, tuneFrom } from './from-init.ts';
import { norm } from './linalg.ts';
import { frozenEmbeddings } from './linear-probe.ts';
import { joinTheta, splitTheta, thetaSize, type LayerSpec, type LoraShape } from './lora.ts';
import type { FewShotMethod, TuneConfig } from './method.ts';

export interface ZooEntry {
  readonly id: string;
  /** θ_i = flatten(A, B) at the zoo's rank. */
  readonly theta: Float32Array;
  /** Normalised task embedding [out]. */
  readonly embedding: Float32Array;
}

export interface RetrieverOptions {
  /** LoRAs per composition (default 3). */
  readonly k?: number;
  readonly compose: 'mixture' | 'fusion';
  /** false: zero-shot (prototypes under the composition); true: fine-tune from it. */
  readonly fineTune: boolean;
}

/** e = normalize(mean of ẑ) over the given input rows: the task (or query-set) embedding. */
export function taskEmbedding(layer: LayerSpec, features: readonly Float32Array[]): Float32Array {
  check(features.length > 0, () => 'task embedding: expected at least one input row, got 0');
  const d = layer.outDim;
  const Zhat = frozenEmbeddings(layer, features);
  const mean = new Float64Array(d);
  for (let i = 0; i < features.length; i++) for (let j = 0; j < d; j++) mean[j] += Zhat[i * d + j];
  const nrm = norm(mean) + 1e-12;
  return Float32Array.from(mean, (v) => v / nrm);
}

/**
 * Top-k zoo entries by cosine between `queryEmbedding` and each entry's embedding (ties keep
 * zoo order). Returns ids, zoo indices and scores, best first.
 */
export function retrieve(
  zoo: readonly ZooEntry[], queryEmbedding: Float32Array, k: number,
): { ids: string[]; indices: number[]; scores: Float64Array } {
  check(zoo.length > 0, () => 'retrieve: the zoo is empty');
  check(Number.isInteger(k) && k >= 1, () => `retrieve: k must be an integer >= 1, got ${k}`);
  const qn = norm(queryEmbedding) + 1e-12;
  const scored = zoo.map((entry, i) => {
    check(entry.embedding.length === queryEmbedding.length,
      () => `retrieve: zoo entry '${entry.id}' embedding has ${entry.embedding.length} dims, query has ${queryEmbedding.length}`);
    let dotp = 0, en = 0;
    for (let j = 0; j < queryEmbedding.length; j++) {
      dotp += entry.embedding[j] * queryEmbedding[j];
      en += entry.embedding[j] * entry.embedding[j];
    }
    return { i, s: dotp / (qn * (Math.sqrt(en) + 1e-12)) };
  });
  scored.sort((a, b) => b.s - a.s || a.i - b.i);
  const top = scored.slice(0, Math.min(k, zoo.length));
  return { ids: top.map((t) => zoo[t.i].id), indices: top.map((t) => t.i), scores: Float64Array.from(top, (t) => t.s) };
}

/** Fusion: the elementwise mean of the θ_j (= mean A and mean B). */
export function fuseThetas(thetas: readonly Float32Array[]): Float32Array {
  check(thetas.length > 0, () => 'fusion: expected at least one LoRA, got 0');
  const out = new Float32Array(thetas[0].length);
  for (const t of thetas) {
    check(t.length === out.length, () => `fusion: LoRAs differ in size (${t.length} vs ${out.length})`);
    for (let i = 0; i < out.length; i++) out[i] += t[i] / thetas.length;
  }
  return out;
}

/** Mixture: the rank-k·r LoRA whose output is the mean of the k LoRAs' outputs. */
export function mixtureTheta(thetas: readonly Float32Array[], shape: LoraShape): { theta: Float32Array; shape: LoraShape } {
  const k = thetas.length;
  check(k > 0, () => 'mixture: expected at least one LoRA, got 0');
  const { inDim, outDim, rank } = shape;
  const mixShape: LoraShape = { inDim, outDim, rank: k * rank, alpha: k * shape.alpha };
  const A = new Float32Array(k * rank * inDim), B = new Float32Array(outDim * k * rank);
  thetas.forEach((t, j) => {
    const v = splitTheta(t, shape);
    A.set(v.A, j * rank * inDim);
    for (let o = 0; o < outDim; o++) {
      for (let q = 0; q < rank; q++) B[o * k * rank + j * rank + q] = v.B[o * rank + q] / k;
    }
  });
  return { theta: joinTheta(A, B, mixShape), shape: mixShape };
}

/** LoRA-Retriever as a FewShotMethod; the zoo's θ must match cfg's rank/alpha. */
export function loraRetriever(zoo: readonly ZooEntry[], layer: LayerSpec, opts: RetrieverOptions, cfg: TuneConfig): FewShotMethod {
  const shape = shapeOf(layer, cfg);
  check(zoo.length > 0, () => 'LoRA-Retriever: the zoo is empty');
  for (const e of zoo) {
    check(e.theta.length === thetaSize(shape),
      () => `LoRA-Retriever: zoo entry '${e.id}' has |θ| = ${e.theta.length}, expected ${thetaSize(shape)} (rank ${shape.rank})`);
  }
  const k = Math.min(opts.k ?? 3, zoo.length);
  const name = `lora-retriever-${opts.compose}${opts.fineTune ? '-ft' : ''}`;
  const tune = opts.fineTune ? cfg : { steps: 0, lr: 0 };
  return methodFromFit(name, (support, nWay) => {
    const hits = retrieve(zoo, taskEmbedding(layer, support.features), k);
    const thetas = hits.indices.map((i) => zoo[i].theta);
    const composed = opts.compose === 'fusion'
      ? { theta: fuseThetas(thetas), shape }
      : mixtureTheta(thetas, shape);
    const ctx = prepareSupport(layer, composed.shape, support, nWay, cfg.tau ?? 10);
    return tuneFrom(composed.theta, ctx, tune);
  });
}

/** Builds zoo entries from per-task θ_i and a sample of each task's inputs. */
export function buildZoo(
  layer: LayerSpec, items: readonly { id: string; theta: Float32Array; inputs: readonly Float32Array[] }[],
): ZooEntry[] {
  return items.map((it) => ({ id: it.id, theta: it.theta, embedding: taskEmbedding(layer, it.inputs) }));
}

