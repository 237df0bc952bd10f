import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectiveSampleSize } from '../adapters/chain-diagnostics.ts';
import { constantSchedule } from '../adapters/diffusions.ts';
import { trainLift } from '../adapters/lift.ts';
import { initTheta, loraShape, seededA0 } from '../adapters/lora.ts';
import { initOnlineEmFromSamples, pruneMixture, updateOnlineEm, emStepSize } from '../adapters/online-em.ts';
import { createRng } from '../adapters/rng.ts';
import { episodicTaskLikelihood } from '../adapters/task-likelihood.ts';
import { makeFamily, makeTask } from './synthetic-tasks.ts';

describe('LiFT chain: a posterior, not a collapse', () => {
  const rng = createRng(61);
  const fam = makeFamily(16, rng.fork('family'));
  const shape = loraShape(fam.layer, 2, 2);
  const tasks = Array.from({ length: 10 }, (_, i) => makeTask(fam, 3, 4, rng.fork(`task${i}`)));
  const liks = tasks.map((t) => episodicTaskLikelihood(fam.layer, shape, t, { shots: 2, queries: 2, tau: 10 }));
  const init = tasks.map(() => initTheta(shape, seededA0(shape, 0)));
  const sigma2 = 4e-3;
  const run = (extra: object) => trainLift(liks, init, {
    steps: 1500, burnIn: 500, thinning: 5, sigma2, beta2: 1, stepSize: constantSchedule(sigma2), ...extra,
  }, rng.fork('lift'));

  it('with η = σ² the θ_i keep a spread around φ near √(Dσ²), and the chain reports its ESS', () => {
    const c = run({}).diagnostics.chain;
    const ratio = c.thetaSpread / c.expectedSpread;
    assert.ok(ratio > 0.7 && ratio < 1.2, `spread ${c.thetaSpread} vs √(Dσ²) ${c.expectedSpread}`);
    // φ drifts slowly along directions no task's data pins down (a centred hierarchy mixes slowly
    // there), so its ESS is low but reported; the θ_i spread mixes well.
    assert.ok(c.essPhiMin > 0 && c.essPhiMin <= c.essPhiMedian && c.essPhiMedian <= 200, `ESS ${c.essPhiMin}/${c.essPhiMedian}`);
    assert.ok(c.essSpread > 10, `spread ESS ${c.essSpread} of 200 kept`);
    assert.equal(c.temperature, 1);
  });

  it('the old setting (Euler step, T = 1e-3) collapses the θ_i onto φ: what the diagnostics are there to catch', () => {
    const c = run({ thetaIntegrator: 'euler', temperature: 1e-3 }).diagnostics.chain;
    assert.ok(c.thetaSpread < 0.3 * c.expectedSpread, `spread ${c.thetaSpread} vs ${c.expectedSpread}`);
  });
});

describe('mixture hierarchy: clusters where the task families are', () => {
  it('starts from k-means on the θ_i and keeps two well-separated groups of tasks in two live components', () => {
    const rng = createRng(64);
    const fam = makeFamily(16, rng.fork('family'));
    const shape = loraShape(fam.layer, 2, 2);
    const tasks = Array.from({ length: 12 }, (_, i) => makeTask(fam, 3, 4, rng.fork(`task${i}`)));
    const liks = tasks.map((t) => episodicTaskLikelihood(fam.layer, shape, t, { shots: 2, queries: 2, tau: 10 }));
    // Two groups of starting adapters far apart against σ (distance 8 vs √(Dσ²) ≈ 0.5), interleaved
    // so a start at the first K tasks would not separate them by luck.
    const a0 = initTheta(shape, seededA0(shape, 0));
    const group = tasks.map((_, i) => i % 2);
    const init = group.map((g) => Float32Array.from(a0, (v) => v + (g === 0 ? 0.5 : -0.5)));
    const sigma2 = 4e-3;
    const out = trainLift(liks, init, {
      steps: 600, burnIn: 200, thinning: 5, sigma2, beta2: 1, stepSize: constantSchedule(sigma2), hierarchy: { kind: 'mixture', K: 2 },
    }, rng.fork('lift'));
    assert.equal(out.prior.weights.length, 2);
    const comp = out.diagnostics.taskComponents!;
    assert.equal(comp.length, tasks.length);
    assert.ok(comp.every((k, i) => (k === comp[0]) === (group[i] === group[0])), `components ${comp} for groups ${group}`);
    assert.notEqual(comp[0], comp[1]);
  });
});

describe('EM over kept samples: seeded where samples lie, floored, pruned', () => {
  const rng = createRng(62);
  const D = 6;
  const draw = (centre: number) => Float32Array.from({ length: D }, () => centre + 0.1 * rng.normal());

  it('k-means++ initialisation keeps both modes alive through the online updates', () => {
    const stream = Array.from({ length: 400 }, (_, i) => draw(i % 2 === 0 ? 2 : -2));
    let em = initOnlineEmFromSamples(stream.slice(0, 20), { K: 2, varFloor: 1e-4 }, rng.fork('em'));
    for (const x of stream.slice(20)) em = updateOnlineEm(em, x, emStepSize(em.t));
    const w = Array.from(em.params.weights).sort();
    assert.ok(w[0] > 0.4, `weights ${w}`);
    const centres = em.params.means.map((m) => m[0]).sort((a, b) => a - b);
    assert.ok(Math.abs(centres[0] + 2) < 0.1 && Math.abs(centres[1] - 2) < 0.1, `means ${centres}`);
    assert.ok(em.params.variances.every((v) => v.every((x) => x >= 1e-4)));
  });

  it('variances never fall below the floor, even for a component on one repeated sample', () => {
    const x = draw(0);
    const em = initOnlineEmFromSamples([x, x, x], { K: 1, varFloor: 0.05, regVar: 0 }, rng.fork('em2'));
    assert.ok(em.params.variances[0].every((v) => Math.abs(v - 0.05) < 1e-7));
  });

  it('pruning drops dead components and renormalises', () => {
    const means = [draw(0), draw(1), draw(2)];
    const variances = means.map(() => new Float32Array(D).fill(1));
    const { params, kept } = pruneMixture({ weights: Float64Array.from([0.6, 1e-9, 0.4 - 1e-9]), means, variances }, 0.01);
    assert.deepEqual(kept, [0, 2]);
    assert.ok(Math.abs(params.weights[0] + params.weights[1] - 1) < 1e-12);
  });
});

describe('effective sample size', () => {
  it('is about M for independent draws and far less for a sticky AR(1) chain', () => {
    const rng = createRng(63);
    const iid = Array.from({ length: 2000 }, () => rng.normal());
    let x = 0;
    const ar = Array.from({ length: 2000 }, () => (x = 0.95 * x + rng.normal()));
    assert.ok(effectiveSampleSize(iid) > 1500);
    const essAr = effectiveSampleSize(ar);
    // AR(1) with ρ: τ = (1 + ρ)/(1 − ρ) = 39, so ESS ≈ 51.
    assert.ok(essAr > 20 && essAr < 120, `ESS ${essAr}`);
  });
});
