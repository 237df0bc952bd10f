/**
 * A small LiFT prior stored directly (no training): two components around A0 / B = 0 in the
 * rank-2 θ space of the text backbone's layer, so tests can fit `lift-map` / `lift-posterior`
 * through a real server in milliseconds.
 */
import { joinTheta, loraShape, seededA0 } from '../adapters/lora.ts';
import { createRng } from '../adapters/rng.ts';
import type { RegistryStore } from '../registry/store.ts';

/** Stores the prior under `name` for the registry's text base model; returns its id. */
export async function insertTestPrior(store: RegistryStore, name = 'test-prior'): Promise<string> {
  const base = (await store.listBaseModels()).find((b) => b.modality === 'text')!;
  const p = base.placement[0];
  const layer = { inDim: p.inDim, outDim: p.outDim, weight: new Float32Array(0), bias: new Float32Array(0), activation: 'tanh' as const, normalize: true };
  const shape = loraShape(layer, 2, 2);
  const theta0 = joinTheta(seededA0(shape, 0), new Float32Array(p.outDim * 2), shape);
  const rng = createRng(7);
  const second = Float32Array.from(theta0, (v) => v + 0.01 * rng.normal());
  const D = theta0.length;
  const means = new Float32Array(2 * D);
  means.set(theta0, 0);
  means.set(second, D);
  return (await store.createPrior({
    name, baseModel: base.sha256, weights: Float32Array.from([0.6, 0.4]), means,
    variances: new Float32Array(2 * D).fill(1e-3), sigma2: 1e-3, beta2: 1, seed: 7,
    config: { rank: 2, alpha: 2, tau: 10, a0Seed: 0 },
  })).value.id;
}
