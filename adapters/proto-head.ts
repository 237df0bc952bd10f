/**
 * Cosine-prototype head: proto_c = normalize(mean of ẑ over support rows of class c),
 * p(y=c|x) = softmax_c(τ·cos(z(x), proto_c)). The head has no parameters of its own.
 *
 * A row that is both support and query is scored against a leave-one-out prototype of its own
 * class (it never sees a prototype built from itself). A query whose own-class prototype would
 * be empty (a 1-shot class in leave-one-out) is not scored; it still serves as a negative
 * prototype for the other rows.
 */
import { check } from './errors.ts';
import { logSumExp, type Vec } from './linalg.ts';
import { backwardLayer, forwardLayer, type LayerSpec, type LoraShape } from './lora.ts';

/** An episode over cached features: X [n, in], base = W·x + b [n, out]. */
export interface HeadBatch {
  readonly n: number;
  readonly X: Float32Array;
  readonly base: Float32Array;
  /** [n], class ids in [0, nWay). */
  readonly labels: Int32Array;
  readonly nWay: number;
  /** [n], 1 where the row builds prototypes. */
  readonly isSupport: Uint8Array;
  /** [n], 1 where the row is scored. */
  readonly isQuery: Uint8Array;
}

export interface HeadOptions {
  /** Fixed temperature τ of the cosine logits. */
  readonly tau: number;
  /** 'sum' of query NLLs, or their 'mean'. */
  readonly reduction: 'sum' | 'mean';
}

/** Σ_j a[aOff + j]·b[bOff + j] on Float64 scratch (kept monomorphic: this is the head's hot loop). */
function dot64(a: Float64Array, b: Float64Array, n: number, aOff = 0, bOff = 0): number {
  let s = 0;
  for (let j = 0; j < n; j++) s += a[aOff + j] * b[bOff + j];
  return s;
}

/** ẑ = Z/‖Z‖ per row, [n, d]. */
export function normalizeRows(Z: Float64Array, n: number, d: number): { Zhat: Float64Array; norms: Float64Array } {
  const Zhat = new Float64Array(n * d);
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const nrm = Math.sqrt(dot64(Z, Z, d, i * d, i * d)) + 1e-12;
    norms[i] = nrm;
    for (let j = 0; j < d; j++) Zhat[i * d + j] = Z[i * d + j] / nrm;
  }
  return { Zhat, norms };
}

/** In place: dv ← (dv − v̂(v̂·dv))/‖v‖ for the row at `off` — backward of normalisation. */
export function normalizeBackward(vhat: Float64Array, vOff: number, nrm: number, dv: Float64Array, dOff: number, d: number): void {
  const proj = dot64(vhat, dv, d, vOff, dOff);
  for (let j = 0; j < d; j++) dv[dOff + j] = (dv[dOff + j] - vhat[vOff + j] * proj) / nrm;
}

/** Unnormalised class sums m_c = Σ ẑ_i over support rows [nWay, d], and counts. */
function classSums(Zhat: Float64Array, batch: HeadBatch, d: number): { M: Float64Array; counts: Int32Array } {
  const M = new Float64Array(batch.nWay * d);
  const counts = new Int32Array(batch.nWay);
  for (let i = 0; i < batch.n; i++) {
    if (!batch.isSupport[i]) continue;
    const c = batch.labels[i];
    check(c >= 0 && c < batch.nWay, () => `label of row ${i}: expected 0..${batch.nWay - 1}, got ${c}`);
    counts[c]++;
    for (let j = 0; j < d; j++) M[c * d + j] += Zhat[i * d + j];
  }
  return { M, counts };
}

/**
 * Head loss on embeddings Z [n, d]: Σ (or mean) over scored queries of −log p(y|x).
 * Returns dL/dZ [n, d] and the number of scored queries.
 */
export function protoHeadLoss(
  Z: Float64Array, d: number, batch: HeadBatch, opts: HeadOptions,
): { loss: number; dZ: Float64Array; count: number } {
  const { n, nWay, labels } = batch;
  const rows = normalizeRows(Z, n, d);
  const Zhat = rows.Zhat;
  const { M, counts } = classSums(Zhat, batch, d);
  const protos = normalizeRows(M, nWay, d);
  const P = protos.Zhat;
  const acc: HeadGrads = {
    dZhat: new Float64Array(n * d),
    dP: new Float64Array(nWay * d),
    dM: new Float64Array(nWay * d),
  };
  const scored: number[] = [];
  for (let q = 0; q < n; q++) {
    if (batch.isQuery[q] && counts[labels[q]] - (batch.isSupport[q] ? 1 : 0) > 0) scored.push(q);
  }
  const w = opts.reduction === 'mean' && scored.length > 0 ? 1 / scored.length : 1;
  const logits = new Float64Array(nWay);
  const own = new Float64Array(d);
  let loss = 0;
  for (const q of scored) {
    const y = labels[q];
    const loo = batch.isSupport[q] === 1;
    let ownNorm = 1;
    if (loo) {
      // p' = normalize(m_y − ẑ_q): the own-class prototype without the query itself
      for (let j = 0; j < d; j++) own[j] = M[y * d + j] - Zhat[q * d + j];
      ownNorm = Math.sqrt(dot64(own, own, d)) + 1e-12;
      for (let j = 0; j < d; j++) own[j] /= ownNorm;
    }
    for (let c = 0; c < nWay; c++) {
      if (counts[c] === 0) logits[c] = -Infinity;
      else logits[c] = opts.tau * (loo && c === y ? dot64(Zhat, own, d, q * d, 0) : dot64(Zhat, P, d, q * d, c * d));
    }
    const lse = logSumExp(logits, nWay);
    loss += w * (lse - logits[y]);
    // dL/dlogit_c = w·(softmax_c − [c = y]), and logit_c = τ·ẑ_q·p_c
    for (let c = 0; c < nWay; c++) {
      if (counts[c] === 0) continue;
      const g = w * opts.tau * (Math.exp(logits[c] - lse) - (c === y ? 1 : 0));
      if (loo && c === y) looBackward(Zhat, q, y, own, ownNorm, g, acc, d);
      else {
        for (let j = 0; j < d; j++) {
          acc.dZhat[q * d + j] += g * P[c * d + j];
          acc.dP[c * d + j] += g * Zhat[q * d + j];
        }
      }
    }
  }
  return { loss, dZ: headBackward(rows, protos, acc, batch, d), count: scored.length };
}

/** Gradient accumulators of the head: dL/dẑ [n, d], dL/dp_c [nWay, d], dL/dm_c (raw) [nWay, d]. */
interface HeadGrads {
  readonly dZhat: Float64Array;
  readonly dP: Float64Array;
  readonly dM: Float64Array;
}

/** Backward of logit = τ·ẑ_q·p' with p' = normalize(m_y − ẑ_q); g = dL/dlogit·τ. */
function looBackward(
  Zhat: Float64Array, q: number, y: number, own: Float64Array, ownNorm: number, g: number,
  acc: HeadGrads, d: number,
): void {
  const dp = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    acc.dZhat[q * d + j] += g * own[j];
    dp[j] = g * Zhat[q * d + j];
  }
  normalizeBackward(own, 0, ownNorm, dp, 0, d);
  // m' = m_y − ẑ_q: dm' reaches every support row of class y through dM, and leaves ẑ_q.
  for (let j = 0; j < d; j++) {
    acc.dM[y * d + j] += dp[j];
    acc.dZhat[q * d + j] -= dp[j];
  }
}

/** Prototype grads back to the support rows, then every row back through its normalisation. */
function headBackward(
  rows: { Zhat: Float64Array; norms: Float64Array }, protos: { Zhat: Float64Array; norms: Float64Array },
  acc: HeadGrads, batch: HeadBatch, d: number,
): Float64Array {
  const { dZhat, dP, dM } = acc;
  for (let c = 0; c < batch.nWay; c++) {
    normalizeBackward(protos.Zhat, c * d, protos.norms[c], dP, c * d, d);
    for (let j = 0; j < d; j++) dM[c * d + j] += dP[c * d + j];
  }
  for (let i = 0; i < batch.n; i++) {
    if (batch.isSupport[i]) {
      const c = batch.labels[i];
      for (let j = 0; j < d; j++) dZhat[i * d + j] += dM[c * d + j];
    }
    normalizeBackward(rows.Zhat, i * d, rows.norms[i], dZhat, i * d, d);
  }
  return dZhat;
}

/**
 * Episode loss through the adapted layer: forward the LoRA layer, score with the head,
 * back to θ. `grad` (layout of θ) accumulates dL/dθ; the caller zeroes it (a new zero buffer
 * when omitted).
 */
export function episodeLoss(
  layer: LayerSpec, shape: LoraShape, theta: Float32Array, batch: HeadBatch, opts: HeadOptions,
  grad: Vec = new Float32Array(theta.length),
): { loss: number; grad: Vec; count: number } {
  const cache = forwardLayer(layer, shape, theta, batch.X, batch.base, batch.n);
  const head = protoHeadLoss(cache.Z, shape.outDim, batch, opts);
  backwardLayer(layer, shape, theta, batch.X, cache, head.dZ, grad);
  return { loss: head.loss, grad, count: head.count };
}

/** Normalised prototypes [nWay, d] from labelled embeddings (rows with a label outside 0..nWay-1 are skipped). */
export function prototypes(Z: Float64Array, d: number, labels: Int32Array, nWay: number): Float64Array {
  const n = labels.length;
  const { Zhat } = normalizeRows(Z, n, d);
  const M = new Float64Array(nWay * d);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    if (c < 0 || c >= nWay) continue;
    for (let j = 0; j < d; j++) M[c * d + j] += Zhat[i * d + j];
  }
  return normalizeRows(M, nWay, d).Zhat;
}

/** Class probabilities [n][nWay] of embeddings Z [n, d] against normalised prototypes. */
export function predictFromPrototypes(Z: Float64Array, d: number, protos: Float64Array, nWay: number, tau: number): Float32Array[] {
  const n = Z.length / d;
  const { Zhat } = normalizeRows(Z, n, d);
  const out: Float32Array[] = [];
  const logits = new Float64Array(nWay);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < nWay; c++) logits[c] = tau * dot64(Zhat, protos, d, i * d, c * d);
    const lse = logSumExp(logits, nWay);
    const p = new Float32Array(nWay);
    for (let c = 0; c < nWay; c++) p[c] = Math.exp(logits[c] - lse);
    out.push(p);
  }
  return out;
}
