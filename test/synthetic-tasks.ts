/**
 * A synthetic few-shot family where adaptation matters: inputs carry a large shared nuisance
 * component in a fixed 2-D subspace U, class means live in its complement. Frozen cosine
 * prototypes are dominated by the nuisance; a rank-2 LoRA that removes W·U·Uᵀ fixes every task,
 * so a prior learned from training tasks should find it.
 */
import type { LayerSpec } from '../adapters/lora.ts';
import type { Rng } from '../adapters/rng.ts';

export interface Family {
  readonly dim: number;
  readonly layer: LayerSpec;
  /** Orthonormal nuisance directions, 2 × [dim]. */
  readonly U: Float64Array[];
  readonly nuisance: number;
  readonly noise: number;
}

function orthonormalRows(k: number, dim: number, rng: Rng): Float64Array[] {
  const rows: Float64Array[] = [];
  while (rows.length < k) {
    const v = Float64Array.from({ length: dim }, () => rng.normal());
    for (const r of rows) {
      let d = 0;
      for (let j = 0; j < dim; j++) d += v[j] * r[j];
      for (let j = 0; j < dim; j++) v[j] -= d * r[j];
    }
    const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    rows.push(v.map((x) => x / n));
  }
  return rows;
}

export function makeFamily(dim: number, rng: Rng, nuisance = 3, noise = 0.5): Family {
  const Q = orthonormalRows(dim, dim, rng);
  const weight = new Float32Array(dim * dim);
  Q.forEach((row, o) => row.forEach((v, j) => { weight[o * dim + j] = 0.5 * v; }));
  const layer: LayerSpec = {
    inDim: dim, outDim: dim, weight, bias: new Float32Array(dim), activation: 'tanh', normalize: true,
  };
  return { dim, layer, U: orthonormalRows(2, dim, rng), nuisance, noise };
}

/** Class mean with norm 2, orthogonal to the nuisance subspace. */
export function classMean(f: Family, rng: Rng): Float64Array {
  const v = Float64Array.from({ length: f.dim }, () => rng.normal());
  for (const u of f.U) {
    let d = 0;
    for (let j = 0; j < f.dim; j++) d += v[j] * u[j];
    for (let j = 0; j < f.dim; j++) v[j] -= d * u[j];
  }
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => (2 * x) / n);
}

export function sample(f: Family, mean: Float64Array, rng: Rng): Float32Array {
  const a = f.nuisance * rng.normal(), b = f.nuisance * rng.normal();
  return Float32Array.from(mean, (m, j) => m + a * f.U[0][j] + b * f.U[1][j] + f.noise * rng.normal());
}

/** nWay classes × perClass examples with labels 0..nWay-1. */
export function makeTask(f: Family, nWay: number, perClass: number, rng: Rng): { features: Float32Array[]; labels: Int32Array; means: Float64Array[] } {
  const means = Array.from({ length: nWay }, () => classMean(f, rng));
  const features: Float32Array[] = [];
  const labels: number[] = [];
  means.forEach((m, c) => {
    for (let i = 0; i < perClass; i++) { features.push(sample(f, m, rng)); labels.push(c); }
  });
  return { features, labels: Int32Array.from(labels), means };
}

/** An episode: support (shots per class) and query (queries per class) from fresh classes. */
export function makeEpisode(f: Family, nWay: number, shots: number, queries: number, rng: Rng) {
  const means = Array.from({ length: nWay }, () => classMean(f, rng));
  const support = { features: [] as Float32Array[], labels: [] as number[] };
  const query = { features: [] as Float32Array[], labels: [] as number[] };
  means.forEach((m, c) => {
    for (let i = 0; i < shots; i++) { support.features.push(sample(f, m, rng)); support.labels.push(c); }
    for (let i = 0; i < queries; i++) { query.features.push(sample(f, m, rng)); query.labels.push(c); }
  });
  return {
    support: { features: support.features, labels: Int32Array.from(support.labels) },
    query: { features: query.features, labels: Int32Array.from(query.labels) },
  };
}

export function accuracy(probs: Float32Array[], labels: Int32Array): number {
  let ok = 0;
  probs.forEach((p, i) => { if (p.indexOf(Math.max(...p)) === labels[i]) ok++; });
  return ok / probs.length;
}

/** Expected calibration error with equal-width confidence bins. */
export function ece(probs: Float32Array[], labels: Int32Array, bins = 10): number {
  const conf = new Float64Array(bins), acc = new Float64Array(bins), cnt = new Float64Array(bins);
  probs.forEach((p, i) => {
    const c = Math.max(...p);
    const b = Math.min(bins - 1, Math.floor(c * bins));
    conf[b] += c; acc[b] += p.indexOf(c) === labels[i] ? 1 : 0; cnt[b]++;
  });
  let e = 0;
  for (let b = 0; b < bins; b++) if (cnt[b] > 0) e += Math.abs(acc[b] - conf[b]);
  return e / probs.length;
}
