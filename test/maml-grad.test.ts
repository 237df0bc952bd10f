import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initA0, initTheta, loraShape, splitTheta, type LayerSpec } from '../adapters/lora.ts';
import {
  hessianVectorProduct, metaGradient, postAdaptationLoss, type InnerProblem,
} from '../adapters/maml.ts';
import { createRowCache, episodeBatch, supportBatch } from '../adapters/meta-task.ts';
import { episodeLoss } from '../adapters/proto-head.ts';
import { createRng, type Rng } from '../adapters/rng.ts';
import { relError, worstFdError } from './fd-helpers.ts';
import { makeEpisode, makeFamily } from './synthetic-tasks.ts';

function randomLayer(inDim: number, outDim: number, rng: Rng): LayerSpec {
  return {
    inDim, outDim, activation: 'tanh', normalize: true,
    weight: Float32Array.from({ length: inDim * outDim }, () => rng.normal() / Math.sqrt(inDim)),
    bias: Float32Array.from({ length: outDim }, () => 0.1 * rng.normal()),
  };
}

/** A tiny problem: 6-d features, 5-d layer, rank 1 (|θ| = 11), 3-way 2-shot episode. */
function tinyProblem(seed: number) {
  const rng = createRng(seed);
  const layer = randomLayer(6, 5, rng);
  const shape = loraShape(layer, 1, 1);
  const theta = initTheta(shape, initA0(shape, rng));
  const { B } = splitTheta(theta, shape);
  for (let i = 0; i < B.length; i++) B[i] = 0.5 * rng.normal();
  const row = () => Float32Array.from({ length: 6 }, () => rng.normal());
  const ep = {
    support: { features: Array.from({ length: 6 }, row), labels: Int32Array.from([0, 0, 1, 1, 2, 2]) },
    query: { features: Array.from({ length: 6 }, row), labels: Int32Array.from([0, 1, 2, 0, 1, 2]) },
  };
  const cache = createRowCache(layer);
  const p: InnerProblem = { layer, shape, tau: 5 };
  return { p, theta, support: supportBatch(cache, ep.support, 3), episode: episodeBatch(cache, ep, 3) };
}

describe('MAML meta-gradient', () => {
  it('Hessian-vector product by central differences of the gradient matches a Hessian from second differences of the loss (rel. ≤ 2e-3)', () => {
    const { p, theta, support } = tinyProblem(1);
    const loss = (t: Float32Array) => episodeLoss(p.layer, p.shape, t, support, { tau: p.tau, reduction: 'sum' }).loss;
    const grad = (t: Float32Array) => episodeLoss(p.layer, p.shape, t, support, { tau: p.tau, reduction: 'sum' }, new Float64Array(t.length)).grad as Float64Array;
    const d = theta.length, h = 3e-3;
    // H_ij from four loss evaluations (independent of the gradient code).
    const H = new Float64Array(d * d);
    const at = (i: number, si: number, j: number, sj: number) => {
      const t = Float32Array.from(theta);
      t[i] += si * h;
      t[j] += sj * h;
      return loss(t);
    };
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) {
        const hij = (at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1) + at(i, -1, j, -1)) / (4 * h * h);
        H[i * d + j] = hij;
        H[j * d + i] = hij;
      }
    }
    const rng = createRng(2);
    for (let trial = 0; trial < 3; trial++) {
      const v = Float64Array.from({ length: d }, () => rng.normal());
      const hv = hessianVectorProduct(grad, theta, v);
      const ref = new Float64Array(d);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) ref[i] += H[i * d + j] * v[j];
      const scale = Math.max(...ref.map(Math.abs));
      const worst = Math.max(...hv.map((x, i) => Math.abs(x - ref[i]) / scale));
      assert.ok(worst <= 2e-3, `HVP error ${worst}`);
    }
  });

  for (const steps of [1, 2]) {
    it(`second-order meta-gradient (${steps} inner step${steps > 1 ? 's' : ''}) matches central differences of the post-adaptation query loss (rel. ≤ 1e-3)`, () => {
      const { p, theta, support, episode } = tinyProblem(3);
      const alpha = 0.05;
      const out = metaGradient(p, support, episode, theta, alpha, steps, 'maml');
      const err = worstFdError((t) => postAdaptationLoss(p, support, episode, t, alpha, steps), theta, out.grad, { h: 1e-3, nCoords: 6 });
      assert.ok(err <= 1e-3, `meta-gradient FD error ${err}`);
    });
  }

  it('FOMAML differs from the second-order meta-gradient (and fails the same check)', () => {
    const { p, theta, support, episode } = tinyProblem(3);
    const alpha = 0.05;
    const so = metaGradient(p, support, episode, theta, alpha, 1, 'maml').grad;
    const fo = metaGradient(p, support, episode, theta, alpha, 1, 'fomaml').grad;
    let diff = 0, nrm = 0;
    for (let i = 0; i < so.length; i++) { diff += (so[i] - fo[i]) ** 2; nrm += so[i] ** 2; }
    assert.ok(Math.sqrt(diff / nrm) > 0.01, `FOMAML vs MAML relative difference ${Math.sqrt(diff / nrm)}`);
    const err = worstFdError((t) => postAdaptationLoss(p, support, episode, t, alpha, 1), theta, fo, { h: 1e-3, nCoords: 6 });
    assert.ok(err > 1e-3, `FOMAML unexpectedly matches the exact meta-gradient (${err})`);
  });

  for (const [steps, tol] of [[1, 1e-3], [5, 5e-3]] as const) it(`meta-gradient on the synthetic family at rank 2 (|θ| = 64), ${steps} inner step(s), matches central differences (rel. ≤ ${tol})`, () => {
    const rng = createRng(5);
    const fam = makeFamily(16, rng.fork('family'));
    const shape = loraShape(fam.layer, 2, 2);
    const theta = initTheta(shape, initA0(shape, rng.fork('a0')));
    const { B } = splitTheta(theta, shape);
    for (let i = 0; i < B.length; i++) B[i] = 0.2 * rng.normal();
    const ep = makeEpisode(fam, 3, 3, 4, rng.fork('episode'));
    const cache = createRowCache(fam.layer);
    const p: InnerProblem = { layer: fam.layer, shape, tau: 10 };
    const support = supportBatch(cache, ep.support, 3), episode = episodeBatch(cache, ep, 3);
    const out = metaGradient(p, support, episode, theta, 0.02, steps, 'maml');
    const err = worstFdError((t) => postAdaptationLoss(p, support, episode, t, 0.02, steps), theta, out.grad, { h: 1e-3 });
    // Float32 rounding of the inner trajectory grows with the number of inner steps.
    assert.ok(err <= tol, `meta-gradient FD error ${err}`);
    assert.ok(relError(out.loss, postAdaptationLoss(p, support, episode, theta, 0.02, steps)) < 1e-9);
  });
});
