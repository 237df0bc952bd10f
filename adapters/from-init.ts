/**
 * "Fine-tune from a given initialisation" as a FewShotMethod: MAML/FOMAML/Reptile (the
 * meta-learned θ0), MBC (the routed cluster LoRA), LoRA-Retriever (the fused LoRA) and
 * MAP-hierarchical (φ, with an L2 pull) all end here, with the shared `TuneConfig` budget
 * (steps, lr) on the support set with the trained cosine head (adapt.ts `fineTune`).
 * `steps: 0` is the zero-shot variant: prototypes under the initialisation itself.
 */
import { fineTune, prepareSupport, type AdaptContext, type PriorSpec } from './adapt.ts';
import { check } from './errors.ts';
import { thetaSize, type LayerSpec } from './lora.ts';
import { createFittedAdapter, methodFromFit, shapeOf, type FewShotMethod, type FittedAdapter, type TuneConfig } from './method.ts';

/** Test-time options beyond the shared budget. */
export interface FromInitOptions {
  /** 'adam' (default, as every other method) or 'gd' (MAML's own inner loop). */
  readonly optimizer?: 'adam' | 'gd';
  /** Optional L2 pull strength towards the initialisation. */
  readonly l2?: number;
}

/** Defined with the other methods (method.ts); re-exported for the methods built on a start. */
export { methodFromFit, shapeOf };

/** Fine-tunes `init` on the prepared support (0 steps: `init` as is) and packages the adapter. */
export function tuneFrom(
  init: Float32Array, ctx: AdaptContext, cfg: { steps: number; lr: number; headLr?: number }, opts: FromInitOptions = {}, prior?: PriorSpec,
): FittedAdapter {
  check(init.length === thetaSize(ctx.shape),
    () => `initialisation: expected |θ| = ${thetaSize(ctx.shape)} (rank ${ctx.shape.rank}), got ${init.length}`);
  if (cfg.steps <= 0) return createFittedAdapter(ctx, init);
  const spec: PriorSpec = prior ?? (opts.l2 ? { kind: 'l2', center: init, strength: opts.l2 } : { kind: 'none' });
  const out = fineTune(init, ctx, { steps: cfg.steps, lr: cfg.lr, headLr: cfg.headLr, optimizer: opts.optimizer, prior: spec });
  return createFittedAdapter(ctx, out.theta, out.head);
}

/** Fine-tune from a fixed θ0 (layout of `cfg`'s rank/alpha) on each support set. */
export function fromInit(
  name: string, theta0: Float32Array, layer: LayerSpec, cfg: TuneConfig, opts: FromInitOptions = {},
): FewShotMethod {
  const shape = shapeOf(layer, cfg);
  check(theta0.length === thetaSize(shape),
    () => `${name}: θ0 has ${theta0.length} entries, expected ${thetaSize(shape)} for rank ${shape.rank} on ${shape.outDim}x${shape.inDim}`);
  const init = Float32Array.from(theta0);
  return methodFromFit(name, (support, nWay) =>
    tuneFrom(init, prepareSupport(layer, shape, support, nWay, cfg.tau ?? 10), cfg, opts));
}
