/**
 * Linear probe: bias-free multinomial logistic regression on the frozen, normalised embeddings
 * ẑ = normalize(act(W·x + b)) of the adapted layer (B = 0), trained on the support set:
 *   loss(V) = mean_i −log softmax(V·ẑ_i)[y_i] + (λ/2)‖V‖²,   V [nWay, out],
 * by a fixed number of gradient-descent steps from V = 0. A sanity floor beside frozen prototypes.
 *
 * As a FittedAdapter: B = 0 (rank 1, A = 0), τ = 1 and `prototypes` = V (unnormalised rows),
 * so `predict` = softmax(τ·ẑ·V_c) is exactly the probe; `restoreFittedAdapter` reproduces it
 * from the stored parts. The weights are also exposed as `weights`. No bias: on unit-norm
 * features a bias adds little, and without it the probe fits the cosine-head adapter format.
 */
import { check } from './errors.ts';
import { dot, logSumExp } from './linalg.ts';
import { forwardLayer, loraShape, thetaSize, type LayerSpec } from './lora.ts';
import { restoreFittedAdapter, type FewShotMethod, type FittedAdapter } from './method.ts';
import { normalizeRows } from './proto-head.ts';
import { cacheRows } from './task-likelihood.ts';
import type { SupportSet } from './adapt.ts';
import { methodFromFit } from './from-init.ts';

export interface LinearProbeConfig {
  /** GD steps (default 100). */
  readonly steps?: number;
  /** GD step size (default 1; the mean-CE Hessian is ≤ ½ on unit-norm rows). */
  readonly lr?: number;
  /** λ of the L2 penalty (default 1e-2). */
  readonly l2?: number;
}

export interface LinearProbeAdapter extends FittedAdapter {
  /** V [nWay, out]. */
  readonly weights: Float32Array;
}

/** Frozen normalised embeddings ẑ [n, out] of feature rows. */
export function frozenEmbeddings(layer: LayerSpec, features: readonly Float32Array[]): Float64Array {
  const shape = loraShape(layer, 1, 1);
  const rows = cacheRows(layer, features);
  const Z = forwardLayer(layer, shape, new Float32Array(thetaSize(shape)), rows.X, rows.base, rows.n).Z;
  return normalizeRows(Z, rows.n, layer.outDim).Zhat;
}

/** Probe objective and its gradient in V (accumulated into `grad`, caller-zeroed). */
export function probeLoss(
  V: ArrayLike<number>, Zhat: Float64Array, labels: Int32Array, nWay: number, d: number, l2: number,
  grad: Float64Array = new Float64Array(nWay * d),
): { loss: number; grad: Float64Array } {
  const n = labels.length;
  const logits = new Float64Array(nWay);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < nWay; c++) logits[c] = dot(V as Float64Array, Zhat, d, c * d, i * d);
    const lse = logSumExp(logits, nWay);
    loss += (lse - logits[labels[i]]) / n;
    // d/dlogit_c = (softmax_c − [c = y]) / n, and logit_c = V_c·ẑ_i
    for (let c = 0; c < nWay; c++) {
      const g = (Math.exp(logits[c] - lse) - (c === labels[i] ? 1 : 0)) / n;
      for (let j = 0; j < d; j++) grad[c * d + j] += g * Zhat[i * d + j];
    }
  }
  for (let k = 0; k < nWay * d; k++) {
    loss += 0.5 * l2 * V[k] * V[k];
    grad[k] += l2 * V[k];
  }
  return { loss, grad };
}

/** Trains the probe on a support set; returns V [nWay, out]. */
export function trainProbe(layer: LayerSpec, support: SupportSet, nWay: number, cfg: LinearProbeConfig = {}): Float32Array {
  check(support.features.length === support.labels.length && support.labels.length > 0,
    () => `support: expected one label per row (> 0 rows), got ${support.labels.length} labels, ${support.features.length} rows`);
  check(support.labels.every((y) => y >= 0 && y < nWay), () => `support labels: expected 0..${nWay - 1}`);
  const d = layer.outDim;
  const Zhat = frozenEmbeddings(layer, support.features);
  const V = new Float64Array(nWay * d);
  const grad = new Float64Array(nWay * d);
  const lr = cfg.lr ?? 1, l2 = cfg.l2 ?? 1e-2;
  for (let t = 0; t < (cfg.steps ?? 100); t++) {
    grad.fill(0);
    probeLoss(V, Zhat, support.labels, nWay, d, l2, grad);
    for (let k = 0; k < V.length; k++) V[k] -= lr * grad[k];
  }
  return Float32Array.from(V);
}

/** The probe as a cosine-head adapter with B = 0, τ = 1 and prototypes = V. */
export function probeAdapter(layer: LayerSpec, weights: Float32Array, nWay: number): LinearProbeAdapter {
  const adapter = restoreFittedAdapter(layer, {
    A: new Float32Array(layer.inDim), B: new Float32Array(layer.outDim), rank: 1, alpha: 1, tau: 1, nWay, prototypes: weights,
  });
  return { ...adapter, weights };
}

export function linearProbe(layer: LayerSpec, cfg: LinearProbeConfig = {}): FewShotMethod {
  return methodFromFit('linear-probe', (support, nWay) => probeAdapter(layer, trainProbe(layer, support, nWay, cfg), nWay));
}
