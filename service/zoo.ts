/**
 * The service context every use case works on: the registry, the loaded backbones, the feature
 * path, the restored-adapter cache and an observer for metrics. The server builds one `Zoo` and
 * passes it to the use-case functions (tasks, fit, predict, compare, retrieve); tests can build
 * one around an in-memory store.
 */
import type { LayerSpec } from '../adapters/lora.ts';
import { NotFoundError, ConflictError } from '../registry/errors.ts';
import type { RegistryStore } from '../registry/store.ts';
import type { AdapterSummary, Modality, Prior, Task } from '../registry/types.ts';
import { AdapterHeads, type AdapterHead } from './adapter-heads.ts';
import { Backbones, type LoadedBackbone } from './backbones.ts';
import { Featurizer, type FeatureObserver } from './featurizer.ts';

/** Events the server turns into metrics. */
export interface ZooObserver extends FeatureObserver {
  fitted(method: string, ms: number): void;
  predicted(adapterId: string, inputs: number): void;
}

export const SILENT_OBSERVER: ZooObserver = {
  featureLookup: () => {}, backboneRun: () => {}, fitted: () => {}, predicted: () => {},
};

export interface ZooLimits {
  readonly maxInputs: number;
  readonly maxTextLength: number;
}

export interface ZooOptions extends ZooLimits {
  readonly modelsDir: string;
  readonly adapterCacheSize: number;
  readonly featureCacheSize: number;
}

export class Zoo {
  readonly backbones: Backbones;
  readonly featurizer: Featurizer;
  readonly heads: AdapterHeads;
  readonly limits: ZooLimits;

  constructor(readonly store: RegistryStore, options: ZooOptions, readonly observer: ZooObserver = SILENT_OBSERVER) {
    this.backbones = new Backbones(store, options.modelsDir);
    this.featurizer = new Featurizer(store, options.featureCacheSize, observer);
    this.heads = new AdapterHeads(options.adapterCacheSize);
    this.limits = { maxInputs: options.maxInputs, maxTextLength: options.maxTextLength };
  }

  /** Loads every backbone (registering its base model); /readyz is true once this resolves. */
  async load(): Promise<void> {
    await Promise.all([this.backbones.text(), this.backbones.image()]);
  }

  forModality(modality: Modality): Promise<LoadedBackbone<unknown>> {
    return this.backbones.forModality(modality);
  }

  /** The served backbone for a base model; ConflictError when the sha is not the one served. */
  async backboneFor(baseModelSha: string, what: string): Promise<LoadedBackbone<unknown>> {
    const base = this.store.getBaseModel(baseModelSha);
    const backbone = await this.backbones.forModality(base.modality);
    if (backbone.baseModel.sha256 !== base.sha256) {
      throw new ConflictError(`${what} was made with base model '${base.name}' (${base.sha256.slice(0, 12)}…), but this server runs '${backbone.baseModel.name}'; refit it`);
    }
    return backbone;
  }

  taskBackbone(task: Task): Promise<LoadedBackbone<unknown>> {
    return this.backboneFor(task.baseModelSha, `task '${task.id}'`);
  }

  /** The newest prior for a base model, or null when none was trained. */
  latestPrior(baseModelSha: string): Prior | null {
    try {
      return this.store.getLatestPrior(baseModelSha);
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
  }

  /** The restored predictor of an adapter and the backbone that feeds it. */
  async head(summary: AdapterSummary): Promise<{ head: AdapterHead; backbone: LoadedBackbone<unknown> }> {
    const backbone = await this.backboneFor(summary.baseModelSha, `adapter '${summary.name}' v${summary.version}`);
    const layer: LayerSpec = backbone.encoder.layer;
    return { head: this.heads.get(summary, layer, () => this.store.getAdapter(summary.id)), backbone };
  }

  async close(): Promise<void> {
    await this.backbones.dispose();
    this.store.close();
  }
}
