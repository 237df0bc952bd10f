/**
 * Choosing the prior for a new task, or none (`method: auto`). Each candidate is a zoo with the
 * prior trained from it. Two signals, both from the support set alone:
 *  - closeness: how near the task's embedding e* (normalised mean frozen embedding of its
 *    support inputs, lora-retriever.ts) lies to the zoo: the mean cosine to its `topMembers`
 *    nearest members' task embeddings. A prior only helps tasks like those it was learned from
 *    (a WordNet prior costs points on other text, an emoji prior on digits), so a zoo below
 *    `minCloseness` is not used at all;
 *  - support likelihood: the leave-one-out prototype log-likelihood of the support under θ = the
 *    prior's heaviest component mean, against the frozen features (θ = 0 would be B = 0). Defined
 *    from 2 shots on (at 1 shot a left-out example has no prototype of its class).
 * Among the close zoos the one with the highest likelihood gain wins (closeness when the
 * likelihood is undefined); with `likelihoodGate` a prior whose gain is below 0 is not used.
 * No usable zoo: the prior-free fallback. The rule's knobs are chosen on meta-validation
 * episodes (scripts/bench-auto.ts).
 */
import { check } from './errors.ts';
import { taskEmbedding } from './lora-retriever.ts';
import { forwardLayer, loraShape, type LayerSpec } from './lora.ts';
import { normalizeRows } from './proto-head.ts';
import { cacheRows } from './task-likelihood.ts';

export interface AutoRule {
  /** Closeness a zoo needs before its prior is used. */
  readonly minCloseness: number;
  /** Nearest members averaged into a zoo's closeness. */
  readonly topMembers: number;
  /** Also require the prior to raise the support's leave-one-out likelihood (when defined). */
  readonly likelihoodGate: boolean;
}

export interface AutoCandidate {
  /** The zoo's task embeddings, one per member [out] (normalised). */
  readonly embeddings: readonly Float32Array[];
  /** The prior's heaviest component mean θ = flatten(A, B), with its rank and α. */
  readonly theta: Float32Array;
  readonly rank: number;
  readonly alpha: number;
  /** Cosine temperature τ the prior was trained with. */
  readonly tau: number;
}

export interface CandidateScore {
  readonly closeness: number;
  /** Mean leave-one-out log-likelihood of the support under θ minus under the frozen features; null at 1 shot. */
  readonly likelihoodGain: number | null;
  readonly close: boolean;
}

export interface AutoDecision {
  /** Index of the chosen candidate, or null for the prior-free fallback. */
  readonly chosen: number | null;
  readonly scores: readonly CandidateScore[];
}

/** Mean cosine of e* to the `top` nearest of the (normalised) member embeddings. */
export function zooCloseness(taskEmb: Float32Array, members: readonly Float32Array[], top: number): number {
  check(members.length > 0, () => 'closeness: the zoo has no members');
  const cos = members.map((e) => {
    check(e.length === taskEmb.length, () => `closeness: member embedding has ${e.length} dims, task ${taskEmb.length}`);
    let s = 0;
    for (let j = 0; j < e.length; j++) s += e[j] * taskEmb[j];
    return s;
  }).sort((a, b) => b - a);
  const n = Math.min(Math.max(1, top), cos.length);
  return cos.slice(0, n).reduce((s, v) => s + v, 0) / n;
}

/**
 * Mean over support rows i whose class has another row of log p(y_i | z_i) with prototypes from
 * the other rows (class y_i without i): softmax over τ·cos. Null when no class has 2 rows.
 * Z [n, d] row-major embeddings.
 */
export function leaveOneOutLogLik(Z: Float64Array, d: number, labels: Int32Array, nWay: number, tau: number): number | null {
  const n = labels.length;
  const { Zhat } = normalizeRows(Z, n, d);
  const sums = new Float64Array(nWay * d);
  const counts = new Int32Array(nWay);
  for (let i = 0; i < n; i++) {
    counts[labels[i]]++;
    for (let j = 0; j < d; j++) sums[labels[i] * d + j] += Zhat[i * d + j];
  }
  let total = 0, scored = 0;
  const logits = new Float64Array(nWay);
  const proto = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (counts[y] < 2) continue;
    for (let c = 0; c < nWay; c++) {
      let norm = 0;
      for (let j = 0; j < d; j++) {
        proto[j] = sums[c * d + j] - (c === y ? Zhat[i * d + j] : 0);
        norm += proto[j] * proto[j];
      }
      norm = Math.sqrt(norm) + 1e-12;
      let dotp = 0;
      for (let j = 0; j < d; j++) dotp += proto[j] * Zhat[i * d + j];
      logits[c] = counts[c] === 0 ? -Infinity : tau * dotp / norm;
    }
    let max = -Infinity;
    for (const v of logits) max = Math.max(max, v);
    let s = 0;
    for (const v of logits) s += Math.exp(v - max);
    total += logits[y] - max - Math.log(s);
    scored++;
  }
  return scored === 0 ? null : total / scored;
}

/** The leave-one-out likelihood gain of the support under the candidate's θ over the frozen features. */
export function supportLikelihoodGain(layer: LayerSpec, c: AutoCandidate, features: readonly Float32Array[], labels: Int32Array, nWay: number): number | null {
  const rows = cacheRows(layer, features);
  const shape = loraShape(layer, c.rank, c.alpha);
  const adapted = forwardLayer(layer, shape, c.theta, rows.X, rows.base, rows.n).Z;
  const frozen = forwardLayer(layer, shape, new Float32Array(c.theta.length), rows.X, rows.base, rows.n).Z;
  const withPrior = leaveOneOutLogLik(adapted, layer.outDim, labels, nWay, c.tau);
  const without = leaveOneOutLogLik(frozen, layer.outDim, labels, nWay, c.tau);
  return withPrior === null || without === null ? null : withPrior - without;
}

/** Scores every candidate on the support set and applies the rule. */
export function chooseAuto(
  layer: LayerSpec, candidates: readonly AutoCandidate[], support: { features: readonly Float32Array[]; labels: Int32Array }, nWay: number, rule: AutoRule,
): AutoDecision {
  const e = taskEmbedding(layer, support.features);
  const scores = candidates.map((c) => {
    const closeness = zooCloseness(e, c.embeddings, rule.topMembers);
    const close = closeness >= rule.minCloseness;
    // The likelihood costs two forward passes of the support; only close zoos need it.
    const likelihoodGain = close ? supportLikelihoodGain(layer, c, support.features, support.labels, nWay) : null;
    return { closeness, likelihoodGain, close };
  });
  return { chosen: applyRule(scores, rule), scores };
}

/**
 * The candidate the rule picks from its scores (null: none is usable): among the close ones (and,
 * with the gate, those whose likelihood gain is not negative) the highest likelihood gain, or the
 * highest closeness where the gain is undefined.
 */
export function applyRule(scores: readonly Pick<CandidateScore, 'closeness' | 'likelihoodGain'>[], rule: AutoRule): number | null {
  let chosen: number | null = null;
  scores.forEach((s, i) => {
    if (s.closeness < rule.minCloseness || (rule.likelihoodGate && s.likelihoodGain !== null && s.likelihoodGain < 0)) return;
    if (chosen === null) { chosen = i; return; }
    const best = scores[chosen];
    const better = s.likelihoodGain !== null && best.likelihoodGain !== null ? s.likelihoodGain > best.likelihoodGain : s.closeness > best.closeness;
    if (better) chosen = i;
  });
  return chosen;
}
