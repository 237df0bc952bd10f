/**
 * Prediction requests -> jobs for the batcher: resolve the adapter reference, restore its head
 * (cached by content hash), check and decode the inputs against the adapter's modality.
 * The batcher (server/predict-batcher.ts) then embeds the distinct inputs of many jobs at once.
 */
import { ValidationError } from '../registry/errors.ts';
import type { AdapterSummary } from '../registry/types.ts';
import type { AdapterHead, HeadOutput } from './adapter-heads.ts';
import type { AdapterRef, AdapterResolver } from './adapter-refs.ts';
import type { LoadedBackbone } from './backbones.ts';
import { decodeInputs, type FeatureItem, type InputBody } from './inputs.ts';
import type { Runtime } from './runtime.ts';

export interface PredictJob {
  readonly head: AdapterHead;
  readonly backbone: LoadedBackbone<unknown>;
  readonly items: readonly FeatureItem[];
}

export interface Prediction {
  readonly adapter: AdapterSummary;
  readonly output: HeadOutput;
}

export function checkInputCount(runtime: Runtime, inputs: readonly unknown[], field = 'inputs'): void {
  if (inputs.length === 0) throw new ValidationError(`${field}: expected at least 1 input, got none`);
  if (inputs.length > runtime.limits.maxInputs) throw new ValidationError(`${field}: expected at most ${runtime.limits.maxInputs} inputs per request, got ${inputs.length}`);
}

export async function preparePrediction(runtime: Runtime, resolver: AdapterResolver, ref: AdapterRef, inputs: readonly InputBody[]): Promise<PredictJob> {
  checkInputCount(runtime, inputs);
  const summary = await resolver.resolve(ref);
  const { head, backbone } = await runtime.head(summary);
  const modality = backbone.baseModel.modality;
  const items = await decodeInputs(runtime, inputs, modality, 'inputs');
  return { head, backbone, items };
}
