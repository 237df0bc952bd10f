/**
 * Prediction: resolve the adapter reference, restore its head (cached by content hash), check
 * and decode the inputs against the adapter's modality, then hand the job to the batcher
 * (predict-batcher.ts), which embeds the distinct inputs of many jobs at once.
 */
import { ValidationError } from '../registry/errors.ts';
import type { AdapterSummary } from '../registry/types.ts';
import type { AdapterHead, HeadOutput } from './adapter-heads.ts';
import type { AdapterRef, AdapterResolver } from './adapter-refs.ts';
import type { LoadedBackbone } from './backbones.ts';
import { decodeInputs, type FeatureItem, type InputBody } from './inputs.ts';
import { PredictBatcher, type BatchObserver, type BatcherOptions } from './predict-batcher.ts';
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

/** Predictions for requests, batched across concurrent requests (one per server). */
export class Predictor {
  private readonly batcher: PredictBatcher;

  constructor(private readonly runtime: Runtime, private readonly resolver: AdapterResolver, options: BatcherOptions, observer: BatchObserver) {
    this.batcher = new PredictBatcher(runtime, options, observer);
  }

  async predict(ref: AdapterRef, inputs: readonly InputBody[]): Promise<Prediction> {
    const job = await preparePrediction(this.runtime, this.resolver, ref, inputs);
    return { adapter: job.head.summary, output: await this.batcher.predict(job) };
  }

  /** Runs everything queued now (on shutdown). */
  flush(): void {
    this.batcher.flush();
  }
}
