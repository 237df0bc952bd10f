/**
 * Small dense linear algebra on row-major typed arrays. Parameters and features are
 * Float32Array; scratch that gradients flow through is Float64Array, so finite-difference
 * checks run in double precision. Every function writes into a caller-given `out`.
 */
import { check } from './errors.ts';

/** A dense vector or row-major matrix. */
export type Vec = Float32Array | Float64Array;

/** Σ_j a[aOff + j] · b[bOff + j] for j < n (4-way unrolled: this is the hot loop). */
export function dot(a: Vec, b: Vec, n: number = a.length, aOff = 0, bOff = 0): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    s0 += a[aOff + j] * b[bOff + j];
    s1 += a[aOff + j + 1] * b[bOff + j + 1];
    s2 += a[aOff + j + 2] * b[bOff + j + 2];
    s3 += a[aOff + j + 3] * b[bOff + j + 3];
  }
  for (; j < n; j++) s0 += a[aOff + j] * b[bOff + j];
  return s0 + s1 + s2 + s3;
}

/** Euclidean norm of a[off .. off+n). */
export function norm(a: Vec, n: number = a.length, off = 0): number {
  return Math.sqrt(dot(a, a, n, off, off));
}

/** out = M·x with M [rows, cols] row-major, x [cols], out [rows]. */
export function matvec(M: Vec, x: Vec, rows: number, cols: number, out: Vec): Vec {
  for (let i = 0; i < rows; i++) out[i] = dot(M, x, cols, i * cols, 0);
  return out;
}

/**
 * out = X·Wᵀ (+ bias per row): X [n, k], W [m, k], out [n, m]. This is a batch of matvecs with
 * the layer's weight, e.g. the base pre-activations W·x + b of n cached features.
 */
export function matmulABt(
  X: Vec, W: Vec, n: number, k: number, m: number, out: Vec, bias?: Vec,
): Vec {
  for (let i = 0; i < n; i++) {
    const xOff = i * k;
    const oOff = i * m;
    for (let o = 0; o < m; o++) out[oOff + o] = dot(X, W, k, xOff, o * k) + (bias ? bias[o] : 0);
  }
  return out;
}

/** out += alpha · Xᵀ·Y: X [n, p], Y [n, q], out [p, q] (gradient of a batched linear map). */
export function addMatmulAtB(
  alpha: number, X: Vec, Y: Vec, n: number, p: number, q: number, out: Vec,
): void {
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < p; a++) {
      const xa = alpha * X[i * p + a];
      if (xa === 0) continue;
      const oOff = a * q;
      const yOff = i * q;
      for (let b = 0; b < q; b++) out[oOff + b] += xa * Y[yOff + b];
    }
  }
}

/** log Σ_i exp(v[off + i]) for i < n, stable; −∞ for an all −∞ input. */
export function logSumExp(v: ArrayLike<number>, n: number = v.length, off = 0): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (v[off + i] > max) max = v[off + i];
  if (max === -Infinity) return -Infinity;
  if (max === Infinity) return Infinity;
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(v[off + i] - max);
  return max + Math.log(s);
}

/** Packs equal-length rows into one row-major [rows.length, dim] Float32Array. */
export function packRows(rows: readonly Vec[], dim: number): Float32Array {
  const out = new Float32Array(rows.length * dim);
  for (let i = 0; i < rows.length; i++) {
    check(rows[i].length === dim, () => `feature row ${i}: expected length ${dim}, got ${rows[i].length}`);
    out.set(rows[i], i * dim);
  }
  return out;
}

/** True when every entry is finite. */
export function allFinite(v: ArrayLike<number>): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return false;
  return true;
}
