/**
 * An adapter's classifier head as it is stored: the parameter names of its tensors and the typed
 * settings (τ, class count, posterior sample count) kept in the adapter's `extra` JSON. Readers and
 * writers go through here, so the names and the checks exist once.
 *
 * Tensors (flat row-major Float32Arrays in `parameters`):
 *   prototypes            [nWay, out]       one direction per label, in `labels` order
 *   posterior_lora_A      [S, r, in]        LiFT posterior adapters: S samples of A,
 *   posterior_lora_B      [S, out, r]       of B,
 *   posterior_prototypes  [S, nWay, out]    and of the prototypes
 */
import { ValidationError } from './errors.ts';
import type { JsonObject } from './types.ts';

export const HEAD_TENSORS = {
  prototypes: 'prototypes',
  posteriorA: 'posterior_lora_A',
  posteriorB: 'posterior_lora_B',
  posteriorPrototypes: 'posterior_prototypes',
} as const;

/** Most posterior samples a stored head may carry. */
export const MAX_POSTERIOR_SAMPLES = 64;

/** What prediction needs besides the tensors: p(y = c | x) = softmax_c(τ · cos(z(x), prototype_c)). */
export interface HeadSettings {
  /** Temperature τ > 0. */
  readonly tau: number;
  /** Number of classes (= labels). */
  readonly nWay: number;
  /** S posterior samples stored beside the MAP head (0: none). */
  readonly posteriorSamples: number;
}

/** The `extra` keys a head is written as (merged into an adapter's other `extra` fields). */
export function headExtra(head: HeadSettings): JsonObject {
  return { tau: head.tau, nWay: head.nWay, ...(head.posteriorSamples > 0 ? { posteriorSamples: head.posteriorSamples } : {}) };
}

/** True when `extra` or the parameters say the adapter carries a head (possibly a broken one). */
export function declaresHead(extra: JsonObject, parameters: Readonly<Record<string, unknown>>): boolean {
  return parameters[HEAD_TENSORS.prototypes] !== undefined || extra.tau !== undefined || extra.posteriorSamples !== undefined;
}

/** True when the adapter can predict on its own labels: it has prototypes and a τ. */
export function hasHead(extra: JsonObject, parameters: Readonly<Record<string, unknown>>): boolean {
  return typeof extra.tau === 'number' && parameters[HEAD_TENSORS.prototypes] !== undefined;
}

/**
 * The head settings in `extra`, or null when there is no τ (an adapter without a head).
 * `field` prefixes error messages (where the caller read `extra` from).
 */
export function readHeadSettings(extra: JsonObject, labels: readonly string[], field = 'extra'): HeadSettings | null {
  if (extra.tau === undefined) return null;
  const { tau, nWay = labels.length, posteriorSamples = 0 } = extra;
  if (typeof tau !== 'number' || !Number.isFinite(tau) || tau <= 0) {
    throw new ValidationError(`${field}.tau: expected a finite number > 0 (the head's temperature), got ${JSON.stringify(tau)}`);
  }
  if (nWay !== labels.length) {
    throw new ValidationError(`${field}.nWay: expected the number of labels (${labels.length}), got ${JSON.stringify(nWay)}`);
  }
  if (typeof posteriorSamples !== 'number' || !Number.isSafeInteger(posteriorSamples) || posteriorSamples < 0 || posteriorSamples > MAX_POSTERIOR_SAMPLES) {
    throw new ValidationError(`${field}.posteriorSamples: expected an integer in [0, ${MAX_POSTERIOR_SAMPLES}], got ${JSON.stringify(posteriorSamples)}`);
  }
  return { tau, nWay: labels.length, posteriorSamples };
}

/** Shape of each head tensor, for files that keep shapes (a PEFT export). */
export function headTensorShapes(dims: { nWay: number; rank: number; inDim: number; outDim: number; samples: number }): Record<string, number[]> {
  const { nWay, rank, inDim, outDim, samples } = dims;
  return {
    [HEAD_TENSORS.prototypes]: [nWay, outDim],
    [HEAD_TENSORS.posteriorA]: [samples, rank, inDim],
    [HEAD_TENSORS.posteriorB]: [samples, outDim, rank],
    [HEAD_TENSORS.posteriorPrototypes]: [samples, nWay, outDim],
  };
}
