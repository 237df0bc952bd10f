/**
 * The table of frozen backbones this installation serves, and the one place they are built,
 * loaded (one ONNX session each, reused) and registered as base models.
 */
import path from 'node:path';
import type { RgbImage } from '../backbone/image.ts';
import { buildMobileNetV2, loadImageEncoder } from '../backbone/mobilenet-v2.ts';
import type { Encoder } from '../backbone/types.ts';
import { buildUseLite, loadTextEncoder } from '../backbone/use-lite.ts';
import type { RegistryStore } from '../registry/store.ts';
import type { TorchNaming } from '../registry/peft.ts';
import type { BaseModel, Modality } from '../registry/types.ts';

/**
 * Each backbone with how PyTorch names it (`torch`, used by the PEFT export): the public name of
 * the pretrained network, and for the layer LoRA adapts, the module path it has in a PyTorch
 * model of the same structure (docs/peft.md shows both models):
 *  - USE-lite is transformer, mean pooling, a 512 -> 512 tanh dense layer, L2 normalisation: a
 *    sentence-transformers pipeline [Transformer, Pooling, Dense(tanh), Normalize], whose Dense
 *    (module `2`) holds the layer as `linear`.
 *  - MobileNetV2's adapted layer is a 1280 -> 1280 linear layer (W = I, b = 0) on the pooled
 *    features, where timm's and transformers' MobileNetV2 have their `classifier`.
 */
export const BASE_MODELS = {
  'use-lite': {
    modality: 'text',
    torch: { baseModel: 'google/universal-sentence-encoder-lite', modules: { tanh_layer_0: '2.linear' } },
    build: async (dir: string, force = false) => {
      const r = await buildUseLite(dir, { force });
      return { onnxPath: r.onnxPath, sha256: r.sha256, built: r.built };
    },
    load: (dir: string): Promise<Encoder<string>> => loadTextEncoder(dir),
  },
  'mobilenet-v2': {
    modality: 'image',
    torch: { baseModel: 'infinitered/nsfwjs', modules: { identity_1280: 'classifier' } },
    build: async (dir: string, force = false) => {
      const r = buildMobileNetV2(dir, { force });
      return { onnxPath: r.onnxPath, sha256: r.sidecar.sha256, built: r.built };
    },
    load: (dir: string): Promise<Encoder<RgbImage>> => loadImageEncoder(dir),
  },
} as const;

export type BaseModelName = keyof typeof BASE_MODELS;
export type { Modality };

/** The backbone serving each modality. */
export const DEFAULT_BASE_MODEL: Readonly<Record<Modality, BaseModelName>> = { text: 'use-lite', image: 'mobilenet-v2' };

/** The backbone a registered base model was made from (its name is `<backbone>@<sha prefix>`). */
export function backboneOf(base: Pick<BaseModel, 'name'>): BaseModelName | undefined {
  const key = base.name.split('@')[0];
  return Object.hasOwn(BASE_MODELS, key) ? key as BaseModelName : undefined;
}

/** PyTorch names of a registered base model, when it is one of ours. */
export function torchNaming(base: Pick<BaseModel, 'name'>): TorchNaming | undefined {
  const key = backboneOf(base);
  return key && BASE_MODELS[key].torch;
}

/** The backbone whose public name this is (`base_model_name_or_path` of an export). */
export function backboneByPublicName(name: string): BaseModelName | undefined {
  return (Object.keys(BASE_MODELS) as BaseModelName[]).find((k) => BASE_MODELS[k].torch.baseModel === name);
}

export const DEFAULT_MODELS_DIR = path.resolve(import.meta.dirname, '..', 'models');

/** Converts every backbone that is missing or stale in `modelsDir` (all of them with `force`). */
export async function buildAllBaseModels(modelsDir = DEFAULT_MODELS_DIR, force = false): Promise<void> {
  for (const [name, entry] of Object.entries(BASE_MODELS)) {
    const started = Date.now();
    const result = await entry.build(modelsDir, force);
    console.log(`${name}: ${result.built ? `built in ${Date.now() - started} ms` : 'up to date'}, ${result.onnxPath}, sha256 ${result.sha256}`);
  }
}

export interface LoadedBackbone<I> {
  readonly encoder: Encoder<I>;
  readonly baseModel: BaseModel;
}

/**
 * Lazily loaded encoders, each registered in the store on first use. Loading is memoised as a
 * promise so concurrent first requests share one session.
 */
export class Backbones {
  private readonly loading = new Map<BaseModelName, Promise<LoadedBackbone<unknown>>>();

  constructor(private readonly store: RegistryStore, private readonly modelsDir = DEFAULT_MODELS_DIR) {}

  text(): Promise<LoadedBackbone<string>> {
    return this.get('use-lite') as Promise<LoadedBackbone<string>>;
  }

  image(): Promise<LoadedBackbone<RgbImage>> {
    return this.get('mobilenet-v2') as Promise<LoadedBackbone<RgbImage>>;
  }

  forModality(modality: Modality): Promise<LoadedBackbone<unknown>> {
    return this.get(DEFAULT_BASE_MODEL[modality]);
  }

  get(name: BaseModelName): Promise<LoadedBackbone<unknown>> {
    let pending = this.loading.get(name);
    if (!pending) {
      pending = this.load(name);
      pending.catch(() => this.loading.delete(name));
      this.loading.set(name, pending);
    }
    return pending;
  }

  async dispose(): Promise<void> {
    const loaded = await Promise.allSettled(this.loading.values());
    this.loading.clear();
    for (const r of loaded) if (r.status === 'fulfilled') await r.value.encoder.dispose();
  }

  private async load(name: BaseModelName): Promise<LoadedBackbone<unknown>> {
    const entry = BASE_MODELS[name];
    const encoder: Encoder<unknown> = await entry.load(this.modelsDir);
    const { layer } = encoder;
    const baseModel = (await this.store.registerBaseModel({
      name: `${name}@${encoder.onnxSha256.slice(0, 12)}`,
      modality: entry.modality,
      sha256: encoder.onnxSha256,
      featureDim: encoder.featureDim,
      placement: [{ layer: layer.name, inDim: layer.inDim, outDim: layer.outDim, activation: layer.activation }],
    })).value;
    return { encoder, baseModel };
  }
}
