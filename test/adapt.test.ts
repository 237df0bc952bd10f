import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { fineTune, mapObjective, prepareSupport, startHead } from '../adapters/adapt.ts';
import { constantSchedule } from '../adapters/diffusions.ts';
import { trainLift, type LiftResult } from '../adapters/lift.ts';
import { initTheta, loraShape, seededA0 } from '../adapters/lora.ts';
import { frozenPrototypes, independentLora, liftMap, liftPosterior } from '../adapters/method.ts';
import { inducePrior, priorNegLogPdf, type MixturePrior } from '../adapters/mixture-prior.ts';
import { createRng } from '../adapters/rng.ts';
import { episodicTaskLikelihood } from '../adapters/task-likelihood.ts';
import { worstFdError } from './fd-helpers.ts';
import { accuracy, ece, makeEpisode, makeFamily, makeTask } from './synthetic-tasks.ts';

const rng = createRng(11);
const fam = makeFamily(16, rng.fork('family'));
const shape = loraShape(fam.layer, 2, 2);

describe('mixture prior', () => {
  it('−log p(θ) gradient matches central differences (rel. error ≤ 1e-4)', () => {
    const r = createRng(3);
    const dim = 12;
    const prior: MixturePrior = {
      weights: Float64Array.from([0.2, 0.5, 0.3]),
      means: [0, 1, 2].map(() => Float32Array.from({ length: dim }, () => 0.3 * r.normal())),
      variances: [0, 1, 2].map(() => Float32Array.from({ length: dim }, () => 0.05 + 0.1 * r.uniform())),
      sigma2: 0.02, beta2: 1, dim,
    };
    const ind = inducePrior(prior);
    const theta = Float32Array.from({ length: dim }, () => 0.3 * r.normal());
    const { grad } = priorNegLogPdf(ind, theta, new Float64Array(dim));
    assert.ok(worstFdError((t) => priorNegLogPdf(ind, t).loss, theta, grad, { nCoords: 6 }) <= 1e-4);
  });

  it('MAP objective (cosine-head support NLL + mixture prior) gradients in θ and W match central differences', () => {
    const ep = makeEpisode(fam, 3, 2, 1, createRng(4));
    const ctx = prepareSupport(fam.layer, shape, ep.support, 3, 10);
    const dim = shape.rank * 32;
    const r = createRng(5);
    const prior: MixturePrior = {
      weights: Float64Array.from([0.6, 0.4]),
      means: [0, 1].map(() => Float32Array.from({ length: dim }, () => 0.2 * r.normal())),
      variances: [0, 1].map(() => new Float32Array(dim).fill(0.05)), sigma2: 0.01, beta2: 1, dim,
    };
    const spec = { kind: 'mixture' as const, prior: inducePrior(prior) };
    const theta = Float32Array.from(prior.means[0], (m) => m + 0.05 * r.normal());
    const head = Float32Array.from(startHead(ctx, theta), (w) => w + 0.1 * r.normal());
    const headGrad = new Float64Array(head.length);
    const { grad } = mapObjective(theta, head, ctx, spec, new Float64Array(dim), headGrad);
    assert.ok(worstFdError((t) => mapObjective(t, head, ctx, spec).loss, theta, grad, { nCoords: 6 }) <= 1e-4);
    assert.ok(worstFdError((w) => mapObjective(theta, w, ctx, spec).loss, head, headGrad, { nCoords: 6 }) <= 1e-4);
  });
});

describe('test-time adaptation on a synthetic few-shot family', () => {
  let lift: LiftResult;
  before(() => {
    const tasks = Array.from({ length: 12 }, (_, i) => makeTask(fam, 5, 10, rng.fork(`task${i}`)));
    const liks = tasks.map((t) => episodicTaskLikelihood(fam.layer, shape, t, { shots: 3, queries: 5, tau: 10 }));
    const init = tasks.map(() => initTheta(shape, seededA0(shape, 0)));
    lift = trainLift(liks, init, {
      steps: 2000, burnIn: 1000, thinning: 5, sigma2: 0.01, beta2: 1, stepSize: constantSchedule(1e-3),
    }, rng.fork('lift'));
  });

  function evaluate(shots: number, episodes: number) {
    const cfg = { rank: 2, steps: 30, lr: 0.01 };
    const methods = {
      frozen: frozenPrototypes(fam.layer),
      independent: independentLora(fam.layer, cfg),
      map: liftMap(lift.prior, fam.layer, cfg),
      posterior: liftPosterior(lift.prior, fam.layer, cfg),
    };
    const out = Object.fromEntries(Object.keys(methods).map((k) => [k, { acc: 0, probs: [] as Float32Array[] }]));
    const labels: number[] = [];
    let mi = 0, miWrong = 0, nWrong = 0;
    for (let e = 0; e < episodes; e++) {
      const ep = makeEpisode(fam, 5, shots, 10, rng.fork(`episode/${shots}/${e}`));
      labels.push(...ep.query.labels);
      for (const [name, m] of Object.entries(methods)) {
        const probs = m.fitPredict(ep.support, ep.query.features, 5, rng.fork(`m/${e}`));
        out[name].acc += accuracy(probs, ep.query.labels) / episodes;
        out[name].probs.push(...probs);
      }
      const pp = methods.posterior.fitPredictWithUncertainty(ep.support, ep.query.features, 5, rng.fork(`pp/${e}`));
      pp.mutualInformation.forEach((v, i) => {
        mi += v;
        if (pp.probs[i].indexOf(Math.max(...pp.probs[i])) !== ep.query.labels[i]) { miWrong += v; nWrong++; }
      });
    }
    const lab = Int32Array.from(labels);
    const eces = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, ece(v.probs, lab)]));
    return { out, eces, meanMi: mi / labels.length, meanMiWrong: nWrong ? miWrong / nWrong : 0 };
  }

  it('the learned prior has the right shape and the zoo has one θ per task', () => {
    assert.equal(lift.prior.dim, shape.rank * 32);
    assert.equal(lift.thetas.length, 12);
    assert.ok(lift.diagnostics.kept === 200);
  });

  for (const shots of [1, 5]) {
    it(`LiFT-MAP beats frozen prototypes (5-way ${shots}-shot); posterior predictive gives non-degenerate uncertainty`, () => {
      const r = evaluate(shots, 15);
      const line = Object.entries(r.out).map(([k, v]) => `${k} acc ${v.acc.toFixed(3)} ece ${r.eces[k].toFixed(3)}`).join(' | ');
      console.log(`# ${shots}-shot: ${line} | mean MI ${r.meanMi.toFixed(4)} (wrong: ${r.meanMiWrong.toFixed(4)})`);
      assert.ok(r.out.map.acc > r.out.frozen.acc + 0.1, line);
      assert.ok(r.eces.map < r.eces.frozen, line);
      assert.ok(r.meanMi > 1e-4, `mean mutual information ${r.meanMi}`);
    });
  }

  it('fineTune with an L2 pull and plain GD lowers the objective', () => {
    const ep = makeEpisode(fam, 5, 5, 1, createRng(21));
    const ctx = prepareSupport(fam.layer, shape, ep.support, 5, 10);
    const init = initTheta(shape, seededA0(shape, 0));
    const prior = { kind: 'l2' as const, center: init, strength: 1 };
    const before = mapObjective(init, startHead(ctx, init), ctx, prior).loss;
    for (const optimizer of ['adam', 'gd'] as const) {
      const out = fineTune(init, ctx, { steps: 20, lr: optimizer === 'adam' ? 0.01 : 1e-3, optimizer, prior });
      assert.ok(out.loss < before, `${optimizer}: ${out.loss} vs ${before}`);
    }
  });

  it('the mixture-hierarchy variant returns a K-component prior and cluster counts', () => {
    const tasks = Array.from({ length: 6 }, (_, i) => makeTask(fam, 3, 6, rng.fork(`mtask${i}`)));
    const liks = tasks.map((t) => episodicTaskLikelihood(fam.layer, shape, t, { shots: 2, queries: 3, tau: 10 }));
    const init = tasks.map(() => initTheta(shape, seededA0(shape, 0)));
    const res = trainLift(liks, init, {
      steps: 300, burnIn: 100, thinning: 2, sigma2: 0.01, beta2: 1, stepSize: constantSchedule(1e-3),
      hierarchy: { kind: 'mixture', K: 2 },
    }, rng.fork('lift-mixture'));
    assert.equal(res.prior.means.length, 2);
    assert.ok(Math.abs(res.prior.weights[0] + res.prior.weights[1] - 1) < 1e-9);
    assert.equal(res.diagnostics.clusterCounts!.reduce((a, b) => a + b, 0), 6);
    assert.ok(res.prior.means.every((m) => m.every(Number.isFinite)));
  });

  it('a fitted adapter predicts the same as fitPredict', () => {
    const ep = makeEpisode(fam, 5, 5, 3, createRng(22));
    const m = liftMap(lift.prior, fam.layer, { rank: 2, steps: 10, lr: 0.01 });
    const adapter = m.fit(ep.support, 5, createRng(1));
    assert.deepEqual(adapter.predict(ep.query.features), m.fitPredict(ep.support, ep.query.features, 5, createRng(1)));
    assert.equal(adapter.prototypes.length, 5 * 16);
  });
});
