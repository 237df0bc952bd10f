/**
 * Pooled multi-task LoRA: one adapter trained by Adam on episodes of every training task, the
 * baseline every meta-learner must beat (it shares across tasks without learning to adapt).
 * Early stopping: every `evalEvery` steps the caller's `score(θ)` (validation accuracy, higher is
 * better) is taken; training stops after `patience` checks without a new best, and the best
 * checkpoint is returned. Test time fine-tunes from it like any other start (from-init.ts).
 */
import { adamStep, initAdam } from './adam.ts';
import { check } from './errors.ts';
import { episodeBatch, progressReporter, sharedRowCache, type MetaTask } from './meta-task.ts';
import { episodeLoss } from './proto-head.ts';
import { thetaSize, type LayerSpec, type LoraShape } from './lora.ts';
import type { Rng } from './rng.ts';

export interface PooledLoraConfig {
  /** Most Adam steps (one episode of a random task each). */
  readonly maxSteps: number;
  readonly lr: number;
  readonly tau: number;
  /** Steps between validation checks. */
  readonly evalEvery: number;
  /** Checks without improvement before stopping. */
  readonly patience: number;
}

export interface PooledLoraResult {
  readonly theta: Float32Array;
  /** Step of the returned checkpoint (0 = the initialisation). */
  readonly bestStep: number;
  readonly bestScore: number;
  /** (step, score) at every check, step 0 first. */
  readonly trace: readonly { step: number; score: number }[];
}

export function trainPooledLora(
  tasks: readonly MetaTask[], layer: LayerSpec, shape: LoraShape, init: Float32Array, cfg: PooledLoraConfig,
  score: (theta: Float32Array) => number, rng: Rng, onProgress?: (done: number, total: number) => void,
): PooledLoraResult {
  check(tasks.length > 0, () => 'pooled LoRA: expected at least one task, got 0');
  check(init.length === thetaSize(shape), () => `pooled LoRA: init has ${init.length} entries, expected ${thetaSize(shape)}`);
  check(cfg.evalEvery >= 1 && cfg.patience >= 1, () => `pooled LoRA: evalEvery and patience must be >= 1, got ${cfg.evalEvery}, ${cfg.patience}`);
  const theta = Float32Array.from(init);
  const adam = initAdam(theta.length);
  const cache = sharedRowCache(layer);
  const report = progressReporter(cfg.maxSteps, onProgress);
  const stream = rng.fork('pooled-lora');
  const trace = [{ step: 0, score: score(theta) }];
  let best = { theta: Float32Array.from(theta), step: 0, score: trace[0].score };
  let sinceBest = 0;
  for (let t = 1; t <= cfg.maxSteps; t++) {
    const task = tasks[stream.int(tasks.length)];
    const batch = episodeBatch(cache, task.sampleEpisode(stream), task.nWay);
    const out = episodeLoss(layer, shape, theta, batch, { tau: cfg.tau, reduction: 'mean' }, new Float64Array(theta.length));
    if (out.grad.every(Number.isFinite)) adamStep(adam, theta, out.grad, cfg.lr);
    report(t);
    if (t % cfg.evalEvery !== 0) continue;
    const s = score(theta);
    trace.push({ step: t, score: s });
    if (s > best.score) {
      best = { theta: Float32Array.from(theta), step: t, score: s };
      sinceBest = 0;
    } else if (++sinceBest >= cfg.patience) {
      report(cfg.maxSteps);
      break;
    }
  }
  return { theta: best.theta, bestStep: best.step, bestScore: best.score, trace };
}
