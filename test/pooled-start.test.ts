import assert from 'node:assert/strict';
import { it } from 'node:test';
import { initTheta, loraShape, seededA0 } from '../adapters/lora.ts';
import { pooledStart } from '../adapters/pooled-start.ts';
import { createRng } from '../adapters/rng.ts';
import { episodicTaskLikelihood } from '../adapters/task-likelihood.ts';
import { makeFamily, makeTask } from './synthetic-tasks.ts';

it('the pooled start raises the mean episodic log-likelihood over the training tasks', () => {
  const rng = createRng(21);
  const fam = makeFamily(16, rng.fork('family'));
  const shape = loraShape(fam.layer, 2, 2);
  const tasks = Array.from({ length: 8 }, (_, i) =>
    episodicTaskLikelihood(fam.layer, shape, makeTask(fam, 5, 10, rng.fork(`task${i}`)), { shots: 3, queries: 5, tau: 10 }));
  const init = initTheta(shape, seededA0(shape, 0));
  const meanLogLik = (theta: Float32Array) => {
    const r = createRng(5);
    let s = 0;
    for (let rep = 0; rep < 20; rep++) for (const t of tasks) s += t.gradLogLik(theta, r).logLik;
    return s / (20 * tasks.length);
  };
  const theta = pooledStart(tasks, init, { steps: 300, lr: 0.01 }, rng.fork('pooled'));
  assert.notDeepEqual(theta, init);
  assert.ok(meanLogLik(theta) > meanLogLik(init) + 0.05, `log-lik ${meanLogLik(init)} -> ${meanLogLik(theta)}`);
  assert.deepEqual(pooledStart(tasks, init, { steps: 0, lr: 0.01 }, rng), init);
});
