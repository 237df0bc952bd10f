import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { constantSchedule, polynomialDecay } from '../adapters/diffusions.ts';
import { trainLift } from '../adapters/lift.ts';
import { createRng, type Rng } from '../adapters/rng.ts';
import {
  initSgldGibbs, stepSgldGibbs, type SgldGibbsOptions, type TaskLikelihood,
} from '../adapters/sgld-gibbs.ts';

/**
 * Conjugate toy: φ ~ N(0, β²I), θ_i ~ N(φ, σ²I), y_ij ~ N(θ_i, s²I). Marginally
 * ȳ_i ~ N(φ, (σ² + s²/N_i)I), so φ | y is Gaussian with
 * precision P = 1/β² + Σ_i 1/(σ² + s²/N_i) and mean Σ_i ȳ_i/(σ² + s²/N_i) / P.
 */
const D = 2, SIGMA2 = 0.5, BETA2 = 4, S2 = 1;

interface Toy { tasks: TaskLikelihood[]; postMean: number[]; postVar: number; calls: { n: number } }

function makeToy(nTasks: number, rng: Rng, minibatch?: number): Toy {
  const calls = { n: 0 };
  const phiTrue = [1, -1];
  let precision = 1 / BETA2;
  const weighted = [0, 0];
  const tasks: TaskLikelihood[] = [];
  for (let i = 0; i < nTasks; i++) {
    const N = 5 + rng.int(16);
    const theta = phiTrue.map((p) => p + Math.sqrt(SIGMA2) * rng.normal());
    const ys = Array.from({ length: N }, () => theta.map((t) => t + Math.sqrt(S2) * rng.normal()));
    const w = 1 / (SIGMA2 + S2 / N);
    precision += w;
    for (let d = 0; d < D; d++) weighted[d] += (w * ys.reduce((s, y) => s + y[d], 0)) / N;
    tasks.push({
      size: N,
      gradLogLik(th, r) {
        calls.n++;
        const rows = minibatch ? Array.from({ length: minibatch }, () => ys[r.int(N)]) : ys;
        const grad = new Float64Array(D);
        let logLik = 0;
        for (const y of rows) {
          for (let d = 0; d < D; d++) {
            grad[d] += (y[d] - th[d]) / S2 / rows.length;
            logLik += (-0.5 * (y[d] - th[d]) ** 2) / S2 / rows.length;
          }
        }
        return { logLik, grad };
      },
    });
  }
  return { tasks, postMean: weighted.map((v) => v / precision), postVar: 1 / precision, calls };
}

function runChain(toy: Toy, opts: SgldGibbsOptions, steps: number, seed: number): { mean: number[]; variance: number[] } {
  const init = toy.tasks.map(() => new Float32Array(D));
  let state = initSgldGibbs(init, opts);
  const rng = createRng(seed);
  const sum = new Float64Array(D), sq = new Float64Array(D);
  let kept = 0;
  for (let t = 0; t < steps; t++) {
    const out = stepSgldGibbs(state, toy.tasks, opts, rng);
    state = out.state;
    if (!out.info.kept) continue;
    kept++;
    for (let d = 0; d < D; d++) { sum[d] += state.phi[d]; sq[d] += state.phi[d] ** 2; }
  }
  const mean = Array.from(sum, (s) => s / kept);
  return { mean, variance: Array.from(sq, (s, d) => s / kept - mean[d] ** 2) };
}

const base: SgldGibbsOptions = {
  sigma2: SIGMA2, beta2: BETA2, stepSize: constantSchedule(0.004), burnIn: 3000, thinning: 1,
};

describe('SGLD-Gibbs on a conjugate Gaussian hierarchy', () => {
  const toy = makeToy(8, createRng(7));

  it('φ samples match the analytic posterior mean and variance', () => {
    const { mean, variance } = runChain(toy, base, 60000, 1);
    for (let d = 0; d < D; d++) {
      assert.ok(Math.abs(mean[d] - toy.postMean[d]) < 0.06, `mean ${mean[d]} vs ${toy.postMean[d]}`);
      const ratio = variance[d] / toy.postVar;
      assert.ok(ratio > 0.75 && ratio < 1.35, `variance ratio ${ratio}`);
    }
  });

  it('the exact conjugate Gibbs draw of φ matches too', () => {
    const { mean, variance } = runChain(toy, { ...base, phiUpdate: 'gibbs' }, 60000, 2);
    for (let d = 0; d < D; d++) {
      assert.ok(Math.abs(mean[d] - toy.postMean[d]) < 0.06, `mean ${mean[d]} vs ${toy.postMean[d]}`);
      const ratio = variance[d] / toy.postVar;
      assert.ok(ratio > 0.75 && ratio < 1.35, `variance ratio ${ratio}`);
    }
  });

  it('pSGLD, minibatches and a decaying step size stay near the posterior mean', () => {
    const mini = makeToy(8, createRng(7), 4);
    const opts: SgldGibbsOptions = {
      ...base, stepSize: polynomialDecay(0.05, 100, 0.2), preconditioning: { decay: 0.99, lambda: 1e-3 },
    };
    const { mean } = runChain(mini, opts, 30000, 3);
    for (let d = 0; d < D; d++) assert.ok(Math.abs(mean[d] - mini.postMean[d]) < 0.15, `mean ${mean[d]} vs ${mini.postMean[d]}`);
  });

  it('the no-J ablation (active-task estimate of the φ-gradient) is still centred', () => {
    const { mean } = runChain(toy, { ...base, useJ: false, stepSize: constantSchedule(0.002) }, 40000, 4);
    for (let d = 0; d < D; d++) assert.ok(Math.abs(mean[d] - toy.postMean[d]) < 0.2, `mean ${mean[d]} vs ${toy.postMean[d]}`);
  });

  it('step cost is flat in the number of tasks: likelihood calls = tasksPerStep × steps', () => {
    for (const nTasks of [5, 500]) {
      const t = makeToy(nTasks, createRng(nTasks));
      runChain(t, { ...base, tasksPerStep: 2, burnIn: 0 }, 100, 5);
      assert.equal(t.calls.n, 200);
    }
  });

  it('is reproducible from the seed', () => {
    const a = runChain(toy, base, 4000, 9);
    const b = runChain(toy, base, 4000, 9);
    assert.deepEqual(a, b);
  });
});

describe('LiFT training guard', () => {
  it('refuses to turn a diverged chain into a prior, naming the step size', () => {
    const toy = makeToy(5, createRng(9));
    const init = toy.tasks.map(() => new Float32Array(D));
    // η = 50σ², far above the 2σ² stability bound of the θ-updates.
    assert.throws(() => trainLift(toy.tasks, init, { steps: 400, sigma2: SIGMA2, beta2: BETA2, stepSize: constantSchedule(50 * SIGMA2) }, createRng(1)),
      /chain diverged.*below 2σ²/);
    assert.doesNotThrow(() => trainLift(toy.tasks, init, { steps: 400, sigma2: SIGMA2, beta2: BETA2, stepSize: constantSchedule(0.01) }, createRng(1)));
  });
});
