import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchEm, eStep, emStepSize, initOnlineEm, updateOnlineEm, type MixtureParams } from '../adapters/online-em.ts';
import { createRng, type Rng } from '../adapters/rng.ts';

/** Two diagonal components in 3-D: weights 0.3 / 0.7. */
const TRUE = {
  weights: [0.3, 0.7],
  means: [[-3, -2, 0], [3, 2, 1]],
  variances: [[1, 0.5, 1], [0.25, 1, 0.5]],
};

function draw(rng: Rng): number[] {
  const k = rng.uniform() < TRUE.weights[0] ? 0 : 1;
  return TRUE.means[k].map((m, j) => m + Math.sqrt(TRUE.variances[k][j]) * rng.normal());
}

/** Components matched to the truth by their first mean coordinate. */
function ordered(p: MixtureParams): number[] {
  return p.means[0][0] < p.means[1][0] ? [0, 1] : [1, 0];
}

function assertRecovers(p: MixtureParams, tolMean: number, tolVarRatio: number): void {
  const order = ordered(p);
  for (let t = 0; t < 2; t++) {
    const k = order[t];
    assert.ok(Math.abs(p.weights[k] - TRUE.weights[t]) < 0.06, `weight ${p.weights[k]} vs ${TRUE.weights[t]}`);
    for (let j = 0; j < 3; j++) {
      assert.ok(Math.abs(p.means[k][j] - TRUE.means[t][j]) < tolMean, `mean ${p.means[k][j]} vs ${TRUE.means[t][j]}`);
      const ratio = p.variances[k][j] / TRUE.variances[t][j];
      assert.ok(ratio > 1 - tolVarRatio && ratio < 1 + tolVarRatio, `variance ratio ${ratio}`);
    }
  }
}

function stream(n: number, seed: number): MixtureParams {
  const rng = createRng(seed);
  const data = rng.fork('data');
  let state = initOnlineEm(draw(data), { K: 2, initVariance: 4 }, rng.fork('init'));
  for (let i = 1; i < n; i++) state = updateOnlineEm(state, draw(data), emStepSize(state.t, { kappa: 0.6, t0: 2 }));
  return state.params;
}

describe('online EM', () => {
  it('recovers a known 2-component mixture from a stream without storing samples', () => {
    for (const seed of [1, 2, 3]) assertRecovers(stream(6000, seed), 0.2, 0.3);
  });

  it('roughly matches batch EM on the same data', () => {
    const rng = createRng(5);
    const samples = Array.from({ length: 3000 }, () => draw(rng));
    const batch = batchEm(samples, 2, { iters: 200 }, createRng(6));
    assertRecovers(batch.params, 0.15, 0.2);
    const online = stream(3000, 5);
    const [ob, oo] = [ordered(batch.params), ordered(online)];
    for (let t = 0; t < 2; t++) {
      for (let j = 0; j < 3; j++) assert.ok(Math.abs(batch.params.means[ob[t]][j] - online.means[oo[t]][j]) < 0.25);
    }
  });

  it('e-step responsibilities are normalised in log space', () => {
    const p = stream(500, 8);
    const { logResp, logProbNorm } = eStep(p, [0, 0, 0]);
    assert.ok(Number.isFinite(logProbNorm));
    assert.ok(Math.abs(Math.exp(logResp[0]) + Math.exp(logResp[1]) - 1) < 1e-12);
  });

  it('K = 1 tracks the running mean and variance', () => {
    const rng = createRng(9);
    let s = initOnlineEm([1, 2], { K: 1 }, rng);
    const xs = Array.from({ length: 4000 }, () => [1 + rng.normal(), 2 + 2 * rng.normal()]);
    for (const x of xs) s = updateOnlineEm(s, x, emStepSize(s.t, { kappa: 1, t0: 1 }));
    assert.ok(Math.abs(s.params.means[0][0] - 1) < 0.1 && Math.abs(s.params.means[0][1] - 2) < 0.15);
    assert.ok(Math.abs(s.params.variances[0][1] / 4 - 1) < 0.15);
  });
});
