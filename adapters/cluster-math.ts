/**
 * Small dense tools for clustering a LoRA zoo (MBC): symmetric eigen-decomposition by cyclic
 * Jacobi rotations, truncated SVD through the n×n Gram matrix (n = tasks ≪ |θ|), magnitude
 * sparsification, and seeded k-means with k-means++ starts. Matrices are row-major Float64Array.
 */
import { check } from './errors.ts';
import type { Rng } from './rng.ts';

/**
 * Eigen-decomposition of a symmetric S [n, n]: S = Q·diag(λ)·Qᵀ, λ sorted descending.
 * Returns λ [n] and the eigenvectors as the columns of Q [n, n]. Cyclic Jacobi: each sweep
 * zeroes every off-diagonal pair once; stops when the off-diagonal mass is ≤ tol·‖S‖_F.
 */
export function jacobiEigen(S: Float64Array, n: number, opts: { maxSweeps?: number; tol?: number } = {}): { values: Float64Array; vectors: Float64Array } {
  check(S.length === n * n, () => `Jacobi: expected ${n}x${n} entries, got ${S.length}`);
  const a = Float64Array.from(S);
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += a[i] * a[i];
  const tol = (opts.tol ?? 1e-12) * Math.sqrt(total);
  for (let sweep = 0; sweep < (opts.maxSweeps ?? 60); sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += 2 * a[i * n + j] * a[i * n + j];
    if (Math.sqrt(off) <= tol) break;
    for (let p = 0; p < n - 1; p++) for (let r = p + 1; r < n; r++) rotate(a, q, n, p, r);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y * n + y] - a[x * n + x]);
  const values = Float64Array.from(order, (i) => a[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => { for (let i = 0; i < n; i++) vectors[i * n + dst] = q[i * n + src]; });
  return { values, vectors };
}

/** One Jacobi rotation zeroing a[p, r] (a ← JᵀaJ, q ← qJ). */
function rotate(a: Float64Array, q: Float64Array, n: number, p: number, r: number): void {
  const apr = a[p * n + r];
  if (Math.abs(apr) < 1e-300) return;
  const theta = (a[r * n + r] - a[p * n + p]) / (2 * apr);
  const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
  const c = 1 / Math.sqrt(t * t + 1), s = t * c;
  for (let k = 0; k < n; k++) {
    const akp = a[k * n + p], akr = a[k * n + r];
    a[k * n + p] = c * akp - s * akr;
    a[k * n + r] = s * akp + c * akr;
  }
  for (let k = 0; k < n; k++) {
    const apk = a[p * n + k], ark = a[r * n + k];
    a[p * n + k] = c * apk - s * ark;
    a[r * n + k] = s * apk + c * ark;
  }
  for (let k = 0; k < n; k++) {
    const qkp = q[k * n + p], qkr = q[k * n + r];
    q[k * n + p] = c * qkp - s * qkr;
    q[k * n + r] = s * qkp + c * qkr;
  }
}

export interface TruncatedSvd {
  readonly rank: number;
  /** Left singular vectors U [n, rank]. */
  readonly U: Float64Array;
  /** σ [rank], descending. */
  readonly S: Float64Array;
  /** Right singular vectors Vᵀ [rank, D]. */
  readonly Vt: Float64Array;
}

/**
 * Rank-k SVD of M [n, D] with n small (tasks) and D large (|θ|): eigen-decompose the Gram
 * matrix G = M·Mᵀ = U·Σ²·Uᵀ, then Vᵀ = Σ⁻¹·Uᵀ·M. Components with σ ≤ 1e-6·σ_1 are dropped.
 */
export function truncatedSvd(M: Float64Array | Float32Array, n: number, D: number, k: number): TruncatedSvd {
  check(M.length === n * D, () => `SVD: expected ${n}x${D} entries, got ${M.length}`);
  const G = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let c = 0; c < D; c++) s += M[i * D + c] * M[j * D + c];
      G[i * n + j] = s;
      G[j * n + i] = s;
    }
  }
  const eig = jacobiEigen(G, n);
  const top = Math.sqrt(Math.max(0, eig.values[0]));
  let rank = 0;
  // Gram eigenvalues carry ~1e-16·λ₁ rounding, i.e. ~1e-8·σ₁ in σ: drop σ ≤ 1e-6·σ₁.
  while (rank < Math.min(k, n) && Math.sqrt(Math.max(0, eig.values[rank])) > 1e-6 * top) rank++;
  const U = new Float64Array(n * rank), S = new Float64Array(rank), Vt = new Float64Array(rank * D);
  for (let j = 0; j < rank; j++) {
    S[j] = Math.sqrt(eig.values[j]);
    for (let i = 0; i < n; i++) U[i * rank + j] = eig.vectors[i * n + j];
    for (let i = 0; i < n; i++) {
      const u = eig.vectors[i * n + j] / S[j];
      if (u === 0) continue;
      for (let c = 0; c < D; c++) Vt[j * D + c] += u * M[i * D + c];
    }
  }
  return { rank, U, S, Vt };
}

/** Copy of θ with all but the top `keep` fraction of entries by |value| set to zero. */
export function sparsifyTopFraction(theta: ArrayLike<number>, keep: number): Float64Array {
  check(keep > 0 && keep <= 1, () => `keep fraction: expected (0, 1], got ${keep}`);
  const n = theta.length;
  const nKeep = Math.max(1, Math.round(keep * n));
  const mags = Float64Array.from(theta, Math.abs).sort();
  const threshold = mags[n - nKeep];
  const out = new Float64Array(n);
  let kept = 0;
  for (let i = 0; i < n && kept < nKeep; i++) {
    if (Math.abs(theta[i]) >= threshold) { out[i] = theta[i]; kept++; }
  }
  return out;
}

/** Rows of X [n, d] scaled to unit L2 norm (zero rows stay zero). */
export function normalizeRowsL2(X: Float64Array, n: number, d: number): Float64Array {
  const out = Float64Array.from(X);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += X[i * d + j] ** 2;
    const nrm = Math.sqrt(s);
    if (nrm > 0) for (let j = 0; j < d; j++) out[i * d + j] /= nrm;
  }
  return out;
}

function sqDist(X: Float64Array, i: number, C: Float64Array, c: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += (X[i * d + j] - C[c * d + j]) ** 2;
  return s;
}

/** k-means++ seeding: first centre uniform, then each next one ∝ squared distance to the nearest. */
function seedPlusPlus(X: Float64Array, n: number, d: number, k: number, rng: Rng): Float64Array {
  const C = new Float64Array(k * d);
  const first = rng.int(n);
  C.set(X.subarray(first * d, (first + 1) * d), 0);
  const dist = Float64Array.from({ length: n }, (_, i) => sqDist(X, i, C, 0, d));
  for (let c = 1; c < k; c++) {
    const total = dist.reduce((s, v) => s + v, 0);
    let pick = rng.int(n);
    if (total > 0) {
      let u = rng.uniform() * total;
      for (pick = 0; pick < n - 1 && u >= dist[pick]; pick++) u -= dist[pick];
    }
    C.set(X.subarray(pick * d, (pick + 1) * d), c * d);
    for (let i = 0; i < n; i++) dist[i] = Math.min(dist[i], sqDist(X, i, C, c, d));
  }
  return C;
}

export interface KMeansResult {
  readonly labels: Int32Array;
  /** Centres [k, d]. */
  readonly centers: Float64Array;
  /** Σ squared distances to the assigned centre. */
  readonly inertia: number;
}

/** One Lloyd run from k-means++ seeds; an emptied cluster is re-seeded at the farthest point. */
function lloyd(X: Float64Array, n: number, d: number, k: number, maxIter: number, rng: Rng): KMeansResult {
  const C = seedPlusPlus(X, n, d, k, rng);
  const labels = new Int32Array(n).fill(-1);
  let inertia = Infinity;
  for (let it = 0; it < maxIter; it++) {
    let changed = 0;
    inertia = 0;
    const best = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let bc = 0, bd = Infinity;
      for (let c = 0; c < k; c++) { const dd = sqDist(X, i, C, c, d); if (dd < bd) { bd = dd; bc = c; } }
      if (labels[i] !== bc) changed++;
      labels[i] = bc;
      best[i] = bd;
      inertia += bd;
    }
    const counts = new Int32Array(k);
    C.fill(0);
    for (let i = 0; i < n; i++) { counts[labels[i]]++; for (let j = 0; j < d; j++) C[labels[i] * d + j] += X[i * d + j]; }
    for (let c = 0; c < k; c++) {
      if (counts[c] > 0) { for (let j = 0; j < d; j++) C[c * d + j] /= counts[c]; continue; }
      const far = best.indexOf(Math.max(...best));
      C.set(X.subarray(far * d, (far + 1) * d), c * d);
      best[far] = 0;
      changed++;
    }
    if (changed === 0) break;
  }
  return { labels, centers: C, inertia };
}

/** Seeded k-means (k-means++ starts, `restarts` runs, lowest inertia kept) on rows of X [n, d]. */
export function kMeans(X: Float64Array, n: number, d: number, k: number, rng: Rng, opts: { restarts?: number; maxIter?: number } = {}): KMeansResult {
  check(k >= 1 && k <= n, () => `k-means: expected 1 <= k <= ${n} rows, got k = ${k}`);
  let best: KMeansResult | null = null;
  for (let r = 0; r < (opts.restarts ?? 4); r++) {
    const out = lloyd(X, n, d, k, opts.maxIter ?? 100, rng.fork(`restart/${r}`));
    if (!best || out.inertia < best.inertia) best = out;
  }
  return best!;
}
