import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fineTune, prepareSupport, startHead, supportLoss } from '../adapters/adapt.ts';
import { cosineHeadLoss, headDirections } from '../adapters/head.ts';
import { initTheta, loraShape, seededA0 } from '../adapters/lora.ts';
import { independentLora } from '../adapters/method.ts';
import { createRng } from '../adapters/rng.ts';
import { worstFdError } from './fd-helpers.ts';
import { makeEpisode, makeFamily } from './synthetic-tasks.ts';

describe('cosine head (trained on the support, defined at 1 shot)', () => {
  const rng = createRng(41);
  const d = 7, n = 6, nWay = 3;
  const Z = Float64Array.from({ length: n * d }, () => rng.normal());
  const W = Float32Array.from({ length: nWay * d }, () => rng.normal());
  const labels = Int32Array.from([0, 1, 2, 0, 1, 2]);

  for (const reduction of ['sum', 'mean'] as const) {
    it(`dL/dZ and dL/dW match central differences (${reduction}, rel. error ≤ 1e-5)`, () => {
      const dW = new Float64Array(W.length);
      const { dZ } = cosineHeadLoss(Z, d, W, nWay, labels, 5, reduction, dW);
      const zf = Float32Array.from(Z);
      const lossZ = (z: Float32Array) => cosineHeadLoss(Float64Array.from(z), d, W, nWay, labels, 5, reduction).loss;
      const lossW = (w: Float32Array) => cosineHeadLoss(Z, d, w, nWay, labels, 5, reduction).loss;
      assert.ok(worstFdError(lossZ, zf, dZ, { nCoords: 8 }) <= 1e-5);
      assert.ok(worstFdError(lossW, W, dW, { nCoords: 8 }) <= 1e-5);
    });
  }

  it('the head is scale-invariant per class and its stored directions are unit rows', () => {
    const scaled = Float32Array.from(W, (w, i) => w * (1 + Math.floor(i / d)));
    const a = cosineHeadLoss(Z, d, W, nWay, labels, 5, 'sum').loss;
    const b = cosineHeadLoss(Z, d, scaled, nWay, labels, 5, 'sum').loss;
    assert.ok(Math.abs(a - b) < 1e-6 * Math.abs(a), `${a} vs ${b}`);
    const dirs = headDirections(W, nWay, d);
    for (let c = 0; c < nWay; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += dirs[c * d + j] ** 2;
      assert.ok(Math.abs(s - 1) < 1e-9);
    }
  });

  it('at 1 shot, fine-tuning moves θ and the head and lowers the support loss (the old leave-one-out objective could not)', () => {
    const fam = makeFamily(16, createRng(42));
    const shape = loraShape(fam.layer, 2, 2);
    const ep = makeEpisode(fam, 5, 1, 10, createRng(43));
    const ctx = prepareSupport(fam.layer, shape, ep.support, 5, 10);
    const init = initTheta(shape, seededA0(shape, 0));
    const head0 = startHead(ctx, init);
    const before = supportLoss(init, ctx, head0);
    const out = fineTune(init, ctx, { steps: 20, lr: 0.01, prior: { kind: 'none' } });
    let moved = 0, headMoved = 0;
    for (let i = 0; i < init.length; i++) moved += (out.theta[i] - init[i]) ** 2;
    for (let i = 0; i < head0.length; i++) headMoved += (out.head[i] - head0[i]) ** 2;
    assert.ok(Math.sqrt(moved) > 1e-2, `‖Δθ‖ = ${Math.sqrt(moved)}`);
    assert.ok(Math.sqrt(headMoved) > 1e-2, `‖ΔW‖ = ${Math.sqrt(headMoved)}`);
    assert.ok(out.loss < before, `${out.loss} vs ${before}`);
    // The stored adapter carries the trained head: it differs from prototypes under the fitted θ.
    const fitted = independentLora(fam.layer, { rank: 2, steps: 20, lr: 0.01 }).fit(ep.support, 5, createRng(1));
    const protos = headDirections(startHead(ctx, out.theta), 5, 16);
    let diff = 0;
    for (let i = 0; i < protos.length; i++) diff += Math.abs(fitted.prototypes[i] - protos[i]);
    assert.ok(diff > 1e-3, `stored head equals the prototypes (Σ|Δ| = ${diff})`);
  });
});

describe('Laplace posterior at θ_MAP (test-time posterior predictive)', () => {
  it('precision = the prior precision + the squared per-row support gradients (one row: exactly g²)', async () => {
    const { laplacePrecision, mapObjective } = await import('../adapters/adapt.ts');
    const { inducePrior } = await import('../adapters/mixture-prior.ts');
    const fam = makeFamily(8, createRng(44));
    const shape = loraShape(fam.layer, 1, 1);
    const dim = 16;
    const ep = makeEpisode(fam, 2, 1, 1, createRng(45));
    const one = { features: [ep.support.features[0]], labels: Int32Array.from([0]) };
    const ctx = prepareSupport(fam.layer, shape, one, 2, 10);
    const r = createRng(46);
    const theta = Float32Array.from({ length: dim }, () => 0.3 * r.normal());
    const head = Float32Array.from({ length: 2 * 8 }, () => r.normal());
    const prior = inducePrior({ weights: Float64Array.from([1]), means: [new Float32Array(dim)], variances: [new Float32Array(dim).fill(0.05)], sigma2: 0.05, beta2: 1, dim });
    const prec = laplacePrecision(prior, ctx, theta, head);
    const g = mapObjective(theta, head, ctx, { kind: 'none' }).grad;
    for (let d = 0; d < dim; d++) assert.ok(Math.abs(prec[d] - (10 + g[d] * g[d])) < 1e-6 * prec[d], `coord ${d}: ${prec[d]} vs ${10 + g[d] ** 2}`);
  });
});

describe('test-time prior scale λ', () => {
  it('a weaker prior (λ < 1) lets the support move θ further from μ', async () => {
    const { adaptMap } = await import('../adapters/adapt.ts');
    const { scalePrior } = await import('../adapters/method.ts');
    const { inducePrior } = await import('../adapters/mixture-prior.ts');
    const fam = makeFamily(16, createRng(47));
    const shape = loraShape(fam.layer, 2, 2);
    const dim = 64;
    const mu = initTheta(shape, seededA0(shape, 0));
    const prior = { weights: Float64Array.from([1]), means: [mu], variances: [new Float32Array(dim).fill(1e-4)], sigma2: 1e-3, beta2: 1, dim };
    const ep = makeEpisode(fam, 5, 5, 1, createRng(48));
    const ctx = prepareSupport(fam.layer, shape, ep.support, 5, 10);
    const move = (lambda: number) => {
      const out = adaptMap(inducePrior(scalePrior(prior, lambda)), ctx, { steps: 60, lr: 0.01 });
      return Math.sqrt(out.theta.reduce((s, t, i) => s + (t - mu[i]) ** 2, 0));
    };
    const strong = move(1), weak = move(0.01);
    assert.ok(weak > 3 * strong, `‖θ − μ‖: λ=1 ${strong}, λ=0.01 ${weak}`);
    assert.throws(() => scalePrior(prior, 0), /priorScale/);
  });
});
