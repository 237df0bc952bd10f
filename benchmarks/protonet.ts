/**
 * Frozen prototypes: the no-adaptation floor. Class prototype = normalised mean of the
 * L2-normalised support features; p(y=c|x) = softmax_c(τ·cos(x, proto_c)). This is the same
 * cosine head every adapted method uses, with the backbone left as it is, so the gap between a
 * method and this baseline is what its adaptation buys.
 */
import type { FewShotMethod, SupportSet } from './protocol.ts';

/** Softmax temperature τ of the cosine head. */
export const DEFAULT_TAU = 10;

function normalised(v: ArrayLike<number>): Float32Array {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i] * v[i];
  const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * scale;
  return out;
}

/** Prototypes [nWay][dim], each unit length. Throws when a class has no support example. */
export function cosinePrototypes(support: SupportSet, nWay: number): Float32Array[] {
  const dim = support.features[0]?.length ?? 0;
  const sums = Array.from({ length: nWay }, () => new Float64Array(dim));
  const counts = new Int32Array(nWay);
  support.features.forEach((f, i) => {
    const c = support.labels[i];
    const unit = normalised(f);
    for (let d = 0; d < dim; d++) sums[c][d] += unit[d];
    counts[c]++;
  });
  const empty = [...counts].findIndex((n) => n === 0);
  if (empty >= 0) throw new Error(`prototypes: class ${empty} of ${nWay} has no support example`);
  return sums.map(normalised);
}

/** Rows softmax(τ·cos(query, prototypes)), computed with the max subtracted for stability. */
export function prototypeProbabilities(
  prototypes: readonly Float32Array[],
  query: readonly Float32Array[],
  tau: number = DEFAULT_TAU,
): Float32Array[] {
  return query.map((q) => {
    const unit = normalised(q);
    const logits = prototypes.map((p) => {
      let dot = 0;
      for (let d = 0; d < p.length; d++) dot += p[d] * unit[d];
      return tau * dot;
    });
    const max = Math.max(...logits);
    const exps = logits.map((l) => Math.exp(l - max));
    const total = exps.reduce((a, b) => a + b, 0);
    return Float32Array.from(exps, (e) => e / total);
  });
}

export function frozenPrototypes(tau: number = DEFAULT_TAU): FewShotMethod {
  return {
    name: 'frozen-prototypes',
    fitPredict(support, query, nWay) {
      return prototypeProbabilities(cosinePrototypes(support, nWay), query, tau);
    },
  };
}
