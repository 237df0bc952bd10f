/**
 * Choosing adapters from the input (LoRA-Retriever style): the task embedding of the request's
 * inputs (normalised mean frozen embedding, adapters/lora-retriever.ts) is compared by cosine with
 * each zoo adapter's, stored with it as the tensor `task_embedding`. Zoo adapters are those
 * stored with method `zoo` by meta-training. Embeddings are cached by adapter id (immutable).
 */
import { retrieve, taskEmbedding } from '../adapters/lora-retriever.ts';
import { ConflictError } from '../registry/errors.ts';
import type { AdapterSummary } from '../registry/types.ts';
import { listAllAdapters } from './adapter-refs.ts';
import type { LoadedBackbone } from './backbones.ts';
import { decodeInput, modalityOf, type FeatureItem, type InputBody } from './inputs.ts';
import { LruCache } from './lru.ts';
import { checkInputCount } from './predict.ts';
import type { Runtime } from './runtime.ts';

export const ZOO_METHOD = 'zoo';
export const TASK_EMBEDDING = 'task_embedding';

export interface RetrievalCandidate {
  readonly adapter: AdapterSummary;
  /** Cosine similarity in [-1, 1]. */
  readonly score: number;
}

export interface Retrieval {
  readonly candidates: RetrievalCandidate[];
  readonly backbone: LoadedBackbone<unknown>;
  readonly items: readonly FeatureItem[];
}

/** Only the newest version of each adapter name: retraining the zoo supersedes older entries. */
function latestVersions(adapters: readonly AdapterSummary[]): AdapterSummary[] {
  const newest = new Map<string, AdapterSummary>();
  for (const a of adapters) if ((newest.get(a.name)?.version ?? 0) < a.version) newest.set(a.name, a);
  return [...newest.values()];
}

export class Retriever {
  private readonly embeddings = new LruCache<string, Float32Array | null>(100000);

  constructor(private readonly runtime: Runtime) {}

  /** Top-k zoo adapters for the inputs; ConflictError when the zoo is empty for this backbone. */
  async retrieve(inputs: readonly InputBody[], topK: number): Promise<Retrieval> {
    checkInputCount(this.runtime, inputs);
    const modality = modalityOf(inputs);
    const items = inputs.map((input, i) => decodeInput(input, modality, `inputs[${i}]`, this.runtime.limits.maxTextLength));
    const backbone = await this.runtime.forModality(modality);
    const sha = backbone.baseModel.sha256;
    const zooAdapters = latestVersions(await listAllAdapters(this.runtime.store, { method: ZOO_METHOD, baseModelSha: sha }));
    const layer = backbone.encoder.layer;
    const scored: { adapter: AdapterSummary; emb: Float32Array }[] = [];
    for (const adapter of zooAdapters) {
      const emb = await this.embeddingOf(adapter);
      if (emb && emb.length === layer.outDim) scored.push({ adapter, emb });
    }
    if (scored.length === 0) {
      throw new ConflictError(`no zoo adapters with a ${TASK_EMBEDDING} for base model '${backbone.baseModel.name}' (${modality}); train the zoo first (npm run train), or name an adapter and use /v1/predict`);
    }
    // The same task embedding the zoo was stored with: normalised mean frozen embedding.
    const query = taskEmbedding(layer, await this.runtime.featurizer.features(backbone, items));
    const entries = scored.map(({ adapter, emb }) => ({ id: adapter.id, theta: new Float32Array(0), embedding: emb }));
    const hits = retrieve(entries, query, topK);
    const candidates = hits.indices.map((i, rank) => ({ adapter: scored[i].adapter, score: hits.scores[rank] }));
    return { candidates, backbone, items };
  }

  private async embeddingOf(adapter: AdapterSummary): Promise<Float32Array | null> {
    let emb = this.embeddings.get(adapter.id);
    if (emb === undefined) {
      emb = (await this.runtime.store.getAdapter(adapter.id)).parameters[TASK_EMBEDDING] ?? null;
      this.embeddings.set(adapter.id, emb);
    }
    return emb;
  }
}
