/**
 * LoRA on one pretrained linear layer, PEFT names: A [r, in], B [out, r], alpha,
 * scaling = alpha / r, B = 0 at init so a new adapter is exactly the base model.
 *
 * The adapted layer: s = (W + scaling·B·A)·x + b, h = act(s), z = normalize(h) (optional).
 * The per-task parameter θ is one Float32Array: A row-major, then B row-major
 * (length r·in + out·r); `splitTheta` gives zero-copy views, so gradients share the layout.
 * W·x + b never changes, so it is computed once per example (row-cache.ts memoises it) and each
 * step only does the rank-r work: u = A·x [r], v = B·u [out].
 */
import { check } from './errors.ts';
import { addMatmulAtB, allFinite, dot, type Vec } from './linalg.ts';
import { createRng, type Rng } from './rng.ts';

export type Activation = 'tanh' | 'relu' | 'identity';

/** The pretrained layer LoRA attaches to (structurally the backbone's layer contract). */
export interface LayerSpec {
  readonly inDim: number;
  readonly outDim: number;
  /** [out, in] row-major. */
  readonly weight: Float32Array;
  /** [out]. */
  readonly bias: Float32Array;
  readonly activation: Activation;
  readonly normalize: boolean;
}

/** Shape of an adapter: θ has the same size for every task with the same shape. */
export interface LoraShape {
  readonly inDim: number;
  readonly outDim: number;
  readonly rank: number;
  readonly alpha: number;
}

export function loraShape(layer: LayerSpec, rank: number, alpha: number = rank): LoraShape {
  check(Number.isInteger(rank) && rank >= 1, () => `LoRA rank: expected integer >= 1, got ${rank}`);
  check(alpha > 0, () => `LoRA alpha: expected > 0, got ${alpha}`);
  return { inDim: layer.inDim, outDim: layer.outDim, rank, alpha };
}

/** scaling = alpha / r. */
export function scalingOf(shape: LoraShape): number {
  return shape.alpha / shape.rank;
}

/** |θ| = r·in + out·r. */
export function thetaSize(shape: LoraShape): number {
  return shape.rank * (shape.inDim + shape.outDim);
}

/** Zero-copy views: A [r, in] and B [out, r] inside θ (or inside a gradient of θ). */
export function splitTheta<T extends Vec>(theta: T, shape: LoraShape): { A: T; B: T } {
  check(theta.length === thetaSize(shape),
    () => `θ: expected length ${thetaSize(shape)} (rank ${shape.rank}), got ${theta.length}`);
  const nA = shape.rank * shape.inDim;
  return { A: theta.subarray(0, nA) as T, B: theta.subarray(nA) as T };
}

/** θ = flatten(A, B). */
export function joinTheta(A: Float32Array, B: Float32Array, shape: LoraShape): Float32Array {
  const theta = new Float32Array(thetaSize(shape));
  const views = splitTheta(theta, shape);
  check(A.length === views.A.length && B.length === views.B.length,
    () => `A/B: expected ${views.A.length}/${views.B.length} entries, got ${A.length}/${B.length}`);
  views.A.set(A);
  views.B.set(B);
  return theta;
}

/**
 * The shared seeded A0 [r, in]: PEFT's kaiming_uniform(a=√5) on fan_in = in, i.e.
 * U(−1/√in, 1/√in). Every task starts from the same A0 so factors stay comparable.
 */
export function initA0(shape: LoraShape, rng: Rng): Float32Array {
  const bound = 1 / Math.sqrt(shape.inDim);
  const A = new Float32Array(shape.rank * shape.inDim);
  for (let i = 0; i < A.length; i++) A[i] = (2 * rng.uniform() - 1) * bound;
  return A;
}

/** The project-wide A0 for a seed: meta-training, baselines and test time must agree on it. */
export function seededA0(shape: LoraShape, seed: number): Float32Array {
  return initA0(shape, createRng(seed).fork('lora-A0'));
}

/** A fresh θ: A = A0, B = 0 (exactly the base model). */
export function initTheta(shape: LoraShape, A0: Float32Array): Float32Array {
  return joinTheta(A0, new Float32Array(shape.outDim * shape.rank), shape);
}

/** ΔW = scaling · B·A [out, in]: the only place ΔW is formed. */
export function deltaWeight(shape: LoraShape, theta: Float32Array): Float32Array {
  const { A, B } = splitTheta(theta, shape);
  const { inDim, outDim, rank } = shape;
  const s = scalingOf(shape);
  const dW = new Float32Array(outDim * inDim);
  for (let o = 0; o < outDim; o++) {
    for (let k = 0; k < rank; k++) {
      const bok = s * B[o * rank + k];
      if (bok === 0) continue;
      for (let j = 0; j < inDim; j++) dW[o * inDim + j] += bok * A[k * inDim + j];
    }
  }
  return dW;
}

function foldAdapter(layer: LayerSpec, shape: LoraShape, theta: Float32Array, sign: 1 | -1, name: string): LayerSpec {
  check(layer.inDim === shape.inDim && layer.outDim === shape.outDim,
    () => `adapter '${name}': expected layer ${shape.outDim}x${shape.inDim}, got ${layer.outDim}x${layer.inDim}`);
  const dW = deltaWeight(shape, theta);
  const weight = Float32Array.from(layer.weight);
  for (let i = 0; i < weight.length; i++) weight[i] += sign * dW[i];
  check(allFinite(weight), () => `adapter '${name}': merged weight has non-finite entries`);
  return { ...layer, weight };
}

/** W' = W + ΔW on a copy; throws (naming the adapter) on non-finite results. */
export function mergeAdapter(layer: LayerSpec, shape: LoraShape, theta: Float32Array, name = 'adapter'): LayerSpec {
  return foldAdapter(layer, shape, theta, 1, name);
}

/** W = W' − ΔW on a copy: the inverse of `mergeAdapter`. */
export function unmergeAdapter(layer: LayerSpec, shape: LoraShape, theta: Float32Array, name = 'adapter'): LayerSpec {
  return foldAdapter(layer, shape, theta, -1, name);
}

/** What the backward pass needs from the forward pass of a batch of n rows. */
export interface LayerCache {
  readonly n: number;
  /** u = A·x, [n, r]. */
  readonly U: Float64Array;
  /** h = act(s), [n, out]. */
  readonly H: Float64Array;
  /** z = normalize(h) (or h), [n, out]. */
  readonly Z: Float64Array;
  /** ‖h‖ per row, [n] (1 when the layer does not normalise). */
  readonly hNorm: Float64Array;
}

/** Forward of the adapted layer on rows X [n, in] with cached base pre-activations [n, out]. */
export function forwardLayer(
  layer: LayerSpec, shape: LoraShape, theta: Float32Array, X: Float32Array, base: Float32Array, n: number,
): LayerCache {
  const { A, B } = splitTheta(theta, shape);
  const { inDim, outDim, rank } = shape;
  const s = scalingOf(shape);
  const act = layer.activation;
  const U = new Float64Array(n * rank);
  const H = new Float64Array(n * outDim);
  const Z = new Float64Array(n * outDim);
  const hNorm = new Float64Array(n);
  const u = new Float64Array(rank);
  for (let i = 0; i < n; i++) {
    // u = A·x (rank-r), then s_o = base_o + scaling·(B·u)_o
    for (let k = 0; k < rank; k++) u[k] = U[i * rank + k] = dot(A, X, inDim, k * inDim, i * inDim);
    let sq = 0;
    const off = i * outDim;
    for (let o = 0; o < outDim; o++) {
      let bu = 0;
      const bOff = o * rank;
      for (let k = 0; k < rank; k++) bu += B[bOff + k] * u[k];
      const pre = base[off + o] + s * bu;
      const h = act === 'tanh' ? Math.tanh(pre) : act === 'relu' ? (pre > 0 ? pre : 0) : pre;
      H[off + o] = h;
      sq += h * h;
    }
    const nrm = layer.normalize ? Math.sqrt(sq) + 1e-12 : 1;
    hNorm[i] = nrm;
    for (let o = 0; o < outDim; o++) Z[off + o] = H[off + o] / nrm;
  }
  return { n, U, H, Z, hNorm };
}

/**
 * Backward of `forwardLayer`: given dL/dZ [n, out], accumulates dL/dθ into `gradTheta`
 * (layout of θ; the caller zeroes it). Phases: through normalize, through act, then the
 * two rank-r factors: dB += scaling·dSᵀ·U, dU = scaling·dS·B, dA += dUᵀ·X.
 * act'(s) is written in terms of h = act(s): tanh 1 − h², relu [h > 0], identity 1.
 */
export function backwardLayer(
  layer: LayerSpec, shape: LoraShape, theta: Float32Array, X: Float32Array, cache: LayerCache,
  dZ: Float64Array, gradTheta: Vec,
): void {
  const { B } = splitTheta(theta, shape);
  const grads = splitTheta(gradTheta, shape);
  const gB = grads.B;
  const { inDim, outDim, rank } = shape;
  const s = scalingOf(shape);
  const act = layer.activation;
  const { n, U, H, Z, hNorm } = cache;
  const dU = new Float64Array(n * rank);
  for (let i = 0; i < n; i++) {
    const off = i * outDim;
    // z = h/‖h‖  =>  dh = (dz − z·(z·dz)) / ‖h‖
    let zdz = 0;
    if (layer.normalize) for (let o = 0; o < outDim; o++) zdz += Z[off + o] * dZ[off + o];
    const inv = 1 / hNorm[i];
    const uOff = i * rank;
    for (let o = 0; o < outDim; o++) {
      const h = H[off + o];
      const ds = (dZ[off + o] - Z[off + o] * zdz) * inv * (act === 'tanh' ? 1 - h * h : act === 'relu' ? (h > 0 ? 1 : 0) : 1);
      if (ds === 0) continue;
      // s_o = base_o + scaling·Σ_k B_ok u_k:  dB_ok += scaling·ds·u_k,  du_k += scaling·ds·B_ok
      const d = s * ds;
      const bOff = o * rank;
      for (let k = 0; k < rank; k++) {
        gB[bOff + k] += d * U[uOff + k];
        dU[uOff + k] += d * B[bOff + k];
      }
    }
  }
  // u = A·x:  dA += dUᵀ·X
  addMatmulAtB(1, dU, X, n, rank, inDim, grads.A);
}
