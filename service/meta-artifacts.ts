/**
 * Loading what meta-training stored for a base model and training suite. Priors are named
 * `lift/<suite>`; the latest version wins.
 */
import { NotFoundError } from '../registry/errors.ts';
import type { RegistryStore } from '../registry/store.ts';
import type { BaseModel, Prior } from '../registry/types.ts';

export const priorName = (suite: string): string => `lift/${suite}`;

/** The latest LiFT prior trained on `suite` for this base model, or null. */
export function findPrior(store: RegistryStore, baseModel: BaseModel, suite: string): Prior | null {
  try {
    return store.getLatestPrior(baseModel.sha256, priorName(suite));
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}
