import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyRule, chooseAuto, leaveOneOutLogLik, supportLikelihoodGain, zooCloseness, type AutoCandidate } from '../adapters/auto-choice.ts';
import { taskEmbedding } from '../adapters/lora-retriever.ts';
import { loraShape, thetaSize, type LayerSpec } from '../adapters/lora.ts';
import { createRng, type Rng } from '../adapters/rng.ts';

const dim = 16;
const identity: LayerSpec = (() => {
  const weight = new Float32Array(dim * dim);
  for (let i = 0; i < dim; i++) weight[i * dim + i] = 1;
  return { inDim: dim, outDim: dim, weight, bias: new Float32Array(dim), activation: 'identity', normalize: true };
})();

/** A domain: every input is its direction plus class-specific and noise terms. */
function domainTask(direction: number, rng: Rng, nWay: number, shots: number): { features: Float32Array[]; labels: Int32Array } {
  const features: Float32Array[] = [];
  const labels: number[] = [];
  for (let c = 0; c < nWay; c++) {
    const cls = Float32Array.from({ length: dim }, () => 0.4 * rng.normal());
    for (let s = 0; s < shots; s++) {
      features.push(Float32Array.from(cls, (v, j) => v + (j === direction ? 3 : 0) + 0.2 * rng.normal()));
      labels.push(c);
    }
  }
  return { features, labels: Int32Array.from(labels) };
}

const candidate = (embeddings: Float32Array[]): AutoCandidate => {
  const shape = loraShape(identity, 2);
  return { embeddings, theta: new Float32Array(thetaSize(shape)), rank: 2, alpha: 2, tau: 10 };
};

describe('auto: closeness, support likelihood, the rule', () => {
  it('closeness is the mean cosine to the nearest members (clamped to the zoo size)', () => {
    const members = [Float32Array.of(1, 0), Float32Array.of(0, 1), Float32Array.of(-1, 0)];
    const e = Float32Array.of(1, 0);
    assert.equal(zooCloseness(e, members, 1), 1);
    assert.equal(zooCloseness(e, members, 2), 0.5);
    assert.equal(zooCloseness(e, members, 10), 0);
  });

  it('leave-one-out likelihood is undefined at 1 shot and matches a hand computation at 2', () => {
    const Z1 = Float64Array.of(1, 0, 0, 1);
    assert.equal(leaveOneOutLogLik(Z1, 2, Int32Array.of(0, 1), 2, 10), null);
    // Class 0: (1,0) and (0.6,0.8); class 1: (0,1) and (-0.6,0.8). Row 0 left out: proto0 = (0.6,0.8), proto1 = normalize((-0.6,1.8)).
    const Z = Float64Array.of(1, 0, 0.6, 0.8, 0, 1, -0.6, 0.8);
    const labels = Int32Array.of(0, 0, 1, 1);
    const cos = (a: number[], b: number[]) => (a[0] * b[0] + a[1] * b[1]) / Math.hypot(...a) / Math.hypot(...b);
    const rows = [[1, 0], [0.6, 0.8], [0, 1], [-0.6, 0.8]];
    let expected = 0;
    rows.forEach((z, i) => {
      const y = labels[i];
      const protos = [0, 1].map((c) => {
        const others = rows.filter((_, j) => labels[j] === c && j !== i);
        return [others.reduce((s, r) => s + r[0] / Math.hypot(...r), 0), others.reduce((s, r) => s + r[1] / Math.hypot(...r), 0)];
      });
      const logits = protos.map((p) => 10 * cos(z, p));
      expected += logits[y] - Math.log(Math.exp(logits[0]) + Math.exp(logits[1]));
    });
    assert.ok(Math.abs(leaveOneOutLogLik(Z, 2, labels, 2, 10)! - expected / 4) < 1e-9);
  });

  it('the rule: a zoo below the threshold is never used; the larger likelihood gain wins; the gate refuses a negative gain', () => {
    const rule = { minCloseness: 0.5, topMembers: 1, likelihoodGate: false };
    assert.equal(applyRule([{ closeness: 0.49, likelihoodGain: 5 }], rule), null);
    assert.equal(applyRule([{ closeness: 0.6, likelihoodGain: 0.1 }, { closeness: 0.55, likelihoodGain: 0.3 }], rule), 1);
    assert.equal(applyRule([{ closeness: 0.6, likelihoodGain: null }, { closeness: 0.7, likelihoodGain: null }], rule), 1);
    assert.equal(applyRule([{ closeness: 0.9, likelihoodGain: -0.1 }], rule), 0);
    assert.equal(applyRule([{ closeness: 0.9, likelihoodGain: -0.1 }], { ...rule, likelihoodGate: true }), null);
  });

  it('chooses the zoo of a task from its domain and falls back for a task from another', () => {
    const rng = createRng(7);
    const zooA = candidate(Array.from({ length: 6 }, () => taskEmbedding(identity, domainTask(0, rng, 5, 4).features)));
    const zooB = candidate(Array.from({ length: 6 }, () => taskEmbedding(identity, domainTask(1, rng, 5, 4).features)));
    const rule = { minCloseness: 0.8, topMembers: 3, likelihoodGate: false };
    const fromA = domainTask(0, rng, 5, 1);
    const fromB = domainTask(1, rng, 5, 1);
    const other = domainTask(2, rng, 5, 1);
    assert.equal(chooseAuto(identity, [zooA, zooB], fromA, 5, rule).chosen, 0);
    assert.equal(chooseAuto(identity, [zooA, zooB], fromB, 5, rule).chosen, 1);
    const far = chooseAuto(identity, [zooA, zooB], other, 5, rule);
    assert.equal(far.chosen, null);
    assert.ok(far.scores.every((s) => s.closeness < 0.8 && !s.close && s.likelihoodGain === null), JSON.stringify(far.scores));
  });

  it('a prior mean with B = 0 leaves the support likelihood unchanged (gain 0)', () => {
    const task = domainTask(0, createRng(3), 3, 3);
    const shape = loraShape(identity, 2);
    const theta = new Float32Array(thetaSize(shape));
    theta.fill(0.3, 0, 2 * dim); // A only: B = 0, so ΔW = 0
    assert.equal(supportLikelihoodGain(identity, { ...candidate([]), theta }, task.features, task.labels, 3), 0);
  });
});
