/**
 * Names and shapes of an adapter's LoRA tensors for a base model's placement. One place decides
 * them, so the store's validation and the PEFT exporter/importer cannot disagree.
 *
 * Single-layer placements (the usual case) use the plain PEFT names `lora_A` [r, in] and
 * `lora_B` [out, r]; with several layers each is prefixed by its layer: `<layer>.lora_A`.
 */
import { ValidationError } from './errors.ts';
import type { LoraPlacement } from './types.ts';

export interface LoraTensorLayout {
  readonly placement: LoraPlacement;
  /** Parameter name of A: [r, inDim] row-major. */
  readonly a: string;
  /** Parameter name of B: [outDim, r] row-major. */
  readonly b: string;
}

export function loraTensorLayout(placement: readonly LoraPlacement[]): LoraTensorLayout[] {
  if (placement.length === 1) return [{ placement: placement[0], a: 'lora_A', b: 'lora_B' }];
  return placement.map((p) => ({ placement: p, a: `${p.layer}.lora_A`, b: `${p.layer}.lora_B` }));
}

/** Checks that every LoRA tensor is present with the length rank and placement imply, and all values are finite. */
export function checkLoraParameters(
  placement: readonly LoraPlacement[], rank: number, parameters: Readonly<Record<string, Float32Array>>,
): void {
  for (const { placement: p, a, b } of loraTensorLayout(placement)) {
    for (const [name, rows, cols] of [[a, rank, p.inDim], [b, p.outDim, rank]] as const) {
      const t = parameters[name];
      if (!Object.hasOwn(parameters, name) || !(t instanceof Float32Array)) {
        throw new ValidationError(`parameters.${name}: expected a Float32Array [${rows}, ${cols}] for layer '${p.layer}', got ${t === undefined ? 'nothing' : typeof t}`);
      }
      if (t.length !== rows * cols) {
        throw new ValidationError(`parameters.${name}: expected ${rows}x${cols} = ${rows * cols} values (rank ${rank}, layer '${p.layer}'), got ${t.length}`);
      }
    }
  }
  for (const [name, t] of Object.entries(parameters)) {
    if (!(t instanceof Float32Array)) throw new ValidationError(`parameters.${name}: expected a Float32Array, got ${typeof t}`);
    for (let i = 0; i < t.length; i++) {
      if (!Number.isFinite(t[i])) throw new ValidationError(`parameters.${name}[${i}]: expected a finite value, got ${t[i]}`);
    }
  }
}
