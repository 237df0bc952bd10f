/**
 * Cosine classifier head with its own weights, the test-time head of every fine-tuning method:
 *   p(y=c|x) = softmax_c(τ·cos(z(x), w_c)),   W [nWay, d] row-major.
 * W starts at the support prototypes (normalised class means of the support embeddings) and is
 * trained on the support together with θ, as in Proto-MAML (Triantafillou et al. 2020).
 *
 * Why not the prototype head at test time: scoring the support against prototypes built from
 * itself is trivial, and leave-one-out prototypes leave a 1-shot class with no scored row, so
 * "fine-tuning" at 1 shot would return its start. Here every support row is scored against
 * trainable class directions, which is defined (and has a gradient) at 1 shot. The trained head
 * is what an adapter stores as its `prototypes` (normalised rows), so prediction and export are
 * unchanged: one forward pass, cosine against the stored class directions.
 */
import { check } from './errors.ts';
import { logSumExp, type Vec } from './linalg.ts';
import { normalizeBackward, normalizeRows, prototypes } from './proto-head.ts';

/** Σ_j a[aOff + j]·b[bOff + j] on Float64 scratch. */
function dot64(a: Float64Array, b: Float64Array, n: number, aOff: number, bOff: number): number {
  let s = 0;
  for (let j = 0; j < n; j++) s += a[aOff + j] * b[bOff + j];
  return s;
}

/** Initial head: the support prototypes [nWay, d] of embeddings Z [n, d]. */
export function initHead(Z: Float64Array, d: number, labels: Int32Array, nWay: number): Float64Array {
  return prototypes(Z, d, labels, nWay);
}

/** Rows of W normalised: the class directions an adapter stores and predicts with. */
export function headDirections(W: Vec, nWay: number, d: number): Float64Array {
  return normalizeRows(Float64Array.from(W), nWay, d).Zhat;
}

/**
 * Σ (or mean) over the labelled rows of −log softmax_c(τ·ẑ_i·ŵ_c), for embeddings Z [n, d] and
 * head W [nWay, d]. Returns dL/dZ [n, d]; dL/dW is accumulated into `dW` (caller-zeroed) when given.
 */
export function cosineHeadLoss(
  Z: Float64Array, d: number, W: Vec, nWay: number, labels: Int32Array, tau: number,
  reduction: 'sum' | 'mean', dW?: Vec,
): { loss: number; dZ: Float64Array } {
  const n = labels.length;
  check(Z.length === n * d && W.length === nWay * d,
    () => `cosine head: expected Z ${n}x${d} and W ${nWay}x${d}, got ${Z.length} and ${W.length} values`);
  const rows = normalizeRows(Z, n, d);
  const heads = normalizeRows(Float64Array.from(W), nWay, d);
  const Zhat = rows.Zhat, What = heads.Zhat;
  const dZ = new Float64Array(n * d);
  const dWhat = new Float64Array(nWay * d);
  const logits = new Float64Array(nWay);
  const w = reduction === 'mean' && n > 0 ? 1 / n : 1;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    check(y >= 0 && y < nWay, () => `label of row ${i}: expected 0..${nWay - 1}, got ${y}`);
    for (let c = 0; c < nWay; c++) logits[c] = tau * dot64(Zhat, What, d, i * d, c * d);
    const lse = logSumExp(logits, nWay);
    loss += w * (lse - logits[y]);
    // dL/dlogit_c = w·(p_c − [c = y]); logit_c = τ·ẑ_i·ŵ_c
    for (let c = 0; c < nWay; c++) {
      const g = w * tau * (Math.exp(logits[c] - lse) - (c === y ? 1 : 0));
      for (let j = 0; j < d; j++) {
        dZ[i * d + j] += g * What[c * d + j];
        dWhat[c * d + j] += g * Zhat[i * d + j];
      }
    }
    normalizeBackward(Zhat, i * d, rows.norms[i], dZ, i * d, d);
  }
  if (dW) {
    for (let c = 0; c < nWay; c++) {
      normalizeBackward(What, c * d, heads.norms[c], dWhat, c * d, d);
      for (let j = 0; j < d; j++) dW[c * d + j] += dWhat[c * d + j];
    }
  }
  return { loss, dZ };
}
