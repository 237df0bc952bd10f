/**
 * The small grid `npm run tune` searches per method on meta-validation episodes. Every grid lists
 * its cheaper settings first (0 steps, then fewer steps), so a tie goes to the cheaper setting.
 * Shared knobs: test-time steps (0 = no fine-tuning) and learning rate; then each method's own:
 * the MAML family's inner loop as meta-trained (an empty setting replays the stored loop),
 * LoRA-Retriever's k, MBC's stored clustering (clusters × init), LiFT's prior scale λ.
 */
import type { MethodName } from '../adapters/method-table.ts';
import type { TunedOptions } from './tuned.ts';

/**
 * 0 steps (the start as is), then Adam: 10 steps at lr 1e-2, 30 steps at lr 1e-3 and 1e-2 (10
 * steps at 1e-3 hardly leave the start, so that point is left out to keep tuning affordable).
 */
const FINE_TUNE: readonly TunedOptions[] = [{ steps: 0 }, { steps: 10, lr: 1e-2 }, { steps: 30, lr: 1e-3 }, { steps: 30, lr: 1e-2 }];

const adamFineTune = FINE_TUNE.map((o) => (o.steps === 0 ? o : { ...o, optimizer: 'adam' }));

/** MAML family: no fine-tuning, the inner loop it was meta-trained with ({}), or Adam. */
const META_LEARNED: readonly TunedOptions[] = [adamFineTune[0], {}, ...adamFineTune.slice(1)];

const RETRIEVER_K = [1, 3, 5];

/** What the tuner needs to know about the stored artifacts to build grids. */
export interface GridContext {
  /** Stored MBC clusterings (train-baselines.ts MBC_VARIANTS that were trained). */
  readonly mbcVariants: readonly string[];
}

/**
 * A method's grid, or `{ follows, vary }`: it takes the choice of another method and varies only
 * some knobs around it (LiFT's posterior predictive: the θ_MAP fit LiFT-MAP chose, with its own
 * prior scale, since the spread of the samples depends on it).
 */
export type MethodGrid = { readonly points: readonly TunedOptions[] } | { readonly follows: MethodName; readonly vary: readonly TunedOptions[] };

export function gridFor(name: MethodName, ctx: GridContext): MethodGrid {
  switch (name) {
    case 'prototypes':
    case 'linear-probe':
      return { points: [{}] };
    case 'independent':
    case 'pooled-lora':
    case 'map-hierarchical':
      return { points: FINE_TUNE };
    case 'maml-1':
    case 'maml-5':
    case 'fomaml':
    case 'reptile':
      return { points: META_LEARNED };
    case 'lora-retriever-mixture':
    case 'lora-retriever-fusion':
      return { points: [...RETRIEVER_K, 10, 20, 50].map((k) => ({ k })) };
    case 'lora-retriever-mixture-ft':
    case 'lora-retriever-fusion-ft':
      return { points: RETRIEVER_K.flatMap((k) => FINE_TUNE.slice(1).map((o) => ({ k, ...o }))) };
    case 'mbc-likelihood':
    case 'mbc-arrow':
      return { points: ctx.mbcVariants.flatMap((variant) => FINE_TUNE.map((o) => ({ variant, ...o }))) };
    case 'lift-map':
      return { points: [{ steps: 0 }, ...FINE_TUNE.slice(1).flatMap((o) => [1, 0.1, 0.01].map((priorScale) => ({ ...o, priorScale })))] };
    case 'lift-posterior':
      return { follows: 'lift-map', vary: [1, 0.1, 0.01].map((priorScale) => ({ priorScale })) };
  }
}
