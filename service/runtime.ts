/**
 * The runtime context every use case works on: the registry (opened from a URL by
 * `openRegistry`, the only place an engine is chosen), the loaded backbones, the feature path, the
 * restored-adapter cache, the request limits and an observer for metrics. The server, the CLIs
 * and the workers each open one `Runtime` and pass it to the use-case functions (tasks, fit,
 * predict, compare, retrieve, training).
 */
import type { LayerSpec } from '../adapters/lora.ts';
import { ConflictError, orNull } from '../registry/errors.ts';
import { openRegistry } from '../registry/open.ts';
import type { RegistryStore } from '../registry/store.ts';
import type { AdapterSummary, Modality, Prior, Task } from '../registry/types.ts';
import { AdapterHeads, type AdapterHead } from './adapter-heads.ts';
import { Backbones, type LoadedBackbone } from './backbones.ts';
import { DEFAULT_SERVICE_CONFIG } from './config.ts';
import { Featurizer, type FeatureObserver } from './featurizer.ts';
import { InlineFitter, ThreadPoolFitter, type Fitter } from './fitter.ts';
import { ImageDecoder } from './image-decoder.ts';
import type { WorkLimits } from './work-bounds.ts';

/** Events the server turns into metrics. */
export interface RuntimeObserver extends FeatureObserver {
  fitted(method: string, ms: number): void;
  predicted(adapterId: string, inputs: number): void;
}

export const SILENT_OBSERVER: RuntimeObserver = {
  featureLookup: () => {}, backboneRun: () => {}, fitted: () => {}, predicted: () => {},
};

export interface RuntimeLimits extends WorkLimits {
  readonly maxInputs: number;
  readonly maxTextLength: number;
  readonly maxImageSide: number;
  readonly maxImagePixels: number;
  readonly maxDecodedBytes: number;
  readonly maxImportRank: number;
}

export interface RuntimeOptions extends RuntimeLimits {
  /** Registry URL (registry/open.ts). */
  readonly registryUrl: string;
  readonly modelsDir: string;
  /** Bytes of restored adapters kept in memory. */
  readonly adapterCacheBytes: number;
  /** Bytes of feature rows kept in memory. */
  readonly featureCacheBytes: number;
  /** Worker threads for fits; 0 fits on the calling thread. */
  readonly fitThreads: number;
}

export class Runtime {
  readonly backbones: Backbones;
  readonly featurizer: Featurizer;
  readonly heads: AdapterHeads;
  readonly limits: RuntimeLimits;
  /** Where fits run: worker threads in the server, this thread in CLIs. */
  readonly fitter: Fitter;
  /** Decodes request and stored images off the event loop, within the per-request budget. */
  readonly images: ImageDecoder;
  /** Backbones by the sha of the base model they serve (see `backboneFor`). */
  private readonly served = new Map<string, LoadedBackbone<unknown>>();

  constructor(readonly store: RegistryStore, options: Omit<RuntimeOptions, 'registryUrl'>, readonly observer: RuntimeObserver = SILENT_OBSERVER) {
    this.backbones = new Backbones(store, options.modelsDir);
    this.featurizer = new Featurizer(store, options.featureCacheBytes, observer);
    this.heads = new AdapterHeads(options.adapterCacheBytes);
    const { maxInputs, maxTextLength, maxImageSide, maxImagePixels, maxDecodedBytes, maxInlineWork, maxJobWork, maxImportRank } = options;
    this.limits = { maxInputs, maxTextLength, maxImageSide, maxImagePixels, maxDecodedBytes, maxInlineWork, maxJobWork, maxImportRank };
    this.images = new ImageDecoder({ maxSide: maxImageSide, maxPixels: maxImagePixels, maxDecodedBytes });
    this.fitter = options.fitThreads > 0 ? new ThreadPoolFitter(options.fitThreads) : new InlineFitter();
  }

  /**
   * Opens the registry at `options.registryUrl` (default: $LIFT_REGISTRY, else the embedded
   * SQLite file) and builds a runtime on it; unset options take the service's defaults.
   */
  static async open(options: Partial<RuntimeOptions> = {}, observer?: RuntimeObserver): Promise<Runtime> {
    const registryUrl = options.registryUrl ?? process.env.LIFT_REGISTRY ?? DEFAULT_SERVICE_CONFIG.registryUrl;
    const resolved: RuntimeOptions = { ...DEFAULT_SERVICE_CONFIG, ...options, registryUrl };
    return new Runtime(await openRegistry(registryUrl), resolved, observer);
  }

  /** Loads every backbone (registering its base model) and starts the fit threads; /readyz is true once this resolves. */
  async load(): Promise<void> {
    await Promise.all([this.backbones.text(), this.backbones.image(), this.fitter.warm()]);
  }

  forModality(modality: Modality): Promise<LoadedBackbone<unknown>> {
    return this.backbones.forModality(modality);
  }

  /**
   * The served backbone for a base model; ConflictError when the sha is not the one served.
   * A sha names one model forever, so each is looked up in the registry once: the lookup was a
   * synchronous SQLite read on every prediction (about 5% of the event loop's time per request).
   */
  async backboneFor(baseModelSha: string, what: string): Promise<LoadedBackbone<unknown>> {
    const known = this.served.get(baseModelSha);
    if (known) return known;
    const base = await this.store.getBaseModel(baseModelSha);
    const backbone = await this.backbones.forModality(base.modality);
    if (backbone.baseModel.sha256 !== base.sha256) {
      throw new ConflictError(`${what} was made with base model '${base.name}' (${base.sha256.slice(0, 12)}…), but this server runs '${backbone.baseModel.name}'; refit it`);
    }
    this.served.set(baseModelSha, backbone);
    return backbone;
  }

  taskBackbone(task: Task): Promise<LoadedBackbone<unknown>> {
    return this.backboneFor(task.baseModelSha, `task '${task.id}'`);
  }

  /** The newest prior for a base model, or null when none was trained. */
  async latestPrior(baseModelSha: string): Promise<Prior | null> {
    return orNull(this.store.getLatestPrior(baseModelSha));
  }

  /** The restored predictor of an adapter and the backbone that feeds it. */
  async head(summary: AdapterSummary): Promise<{ head: AdapterHead; backbone: LoadedBackbone<unknown> }> {
    const backbone = await this.backboneFor(summary.baseModelSha, `adapter '${summary.name}' v${summary.version}`);
    const layer: LayerSpec = backbone.encoder.layer;
    return { head: await this.heads.get(summary, layer, () => this.store.getAdapter(summary.id)), backbone };
  }

  async close(): Promise<void> {
    await this.fitter.close();
    await this.images.close();
    await this.backbones.dispose();
    await this.store.close();
  }
}
