/**
 * Choosing adapters from the input (LoRA-Retriever style): the mean backbone feature of the
 * request's inputs is compared by cosine with each zoo adapter's task embedding (the mean feature
 * of the task it was trained on, stored as the tensor `task_embedding`). Zoo adapters are those
 * stored with method `zoo` by meta-training. Embeddings are cached by adapter id (immutable).
 */
import { ConflictError } from '../registry/errors.ts';
import type { AdapterSummary } from '../registry/types.ts';
import { listAllAdapters } from './adapter-refs.ts';
import type { LoadedBackbone } from './backbones.ts';
import { decodeInput, modalityOf, type FeatureItem, type InputBody } from './inputs.ts';
import { LruCache } from './lru.ts';
import { checkInputCount } from './predict.ts';
import type { Zoo } from './zoo.ts';

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

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

function meanRow(rows: readonly Float32Array[]): Float64Array {
  const mean = new Float64Array(rows[0].length);
  for (const r of rows) for (let j = 0; j < r.length; j++) mean[j] += r[j] / rows.length;
  return mean;
}

export class Retriever {
  private readonly embeddings = new LruCache<string, Float32Array | null>(100000);

  constructor(private readonly zoo: Zoo) {}

  /** Top-k zoo adapters for the inputs; ConflictError when the zoo is empty for this backbone. */
  async retrieve(inputs: readonly InputBody[], topK: number): Promise<Retrieval> {
    checkInputCount(this.zoo, inputs);
    const modality = modalityOf(inputs);
    const items = inputs.map((input, i) => decodeInput(input, modality, `inputs[${i}]`, this.zoo.limits.maxTextLength));
    const backbone = await this.zoo.forModality(modality);
    const sha = backbone.baseModel.sha256;
    const zooAdapters = listAllAdapters(this.zoo.store, { method: ZOO_METHOD, baseModelSha: sha });
    const scored = zooAdapters.flatMap((adapter) => {
      const emb = this.embeddingOf(adapter);
      return emb && emb.length === backbone.encoder.featureDim ? [{ adapter, emb }] : [];
    });
    if (scored.length === 0) {
      throw new ConflictError(`no zoo adapters with a ${TASK_EMBEDDING} for base model '${backbone.baseModel.name}' (${modality}); train the zoo first (npm run train), or name an adapter and use /v1/predict`);
    }
    const mean = meanRow(await this.zoo.featurizer.features(backbone, items));
    const candidates = scored.map(({ adapter, emb }) => ({ adapter, score: cosine(mean, emb) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, topK);
    return { candidates, backbone, items };
  }

  private embeddingOf(adapter: AdapterSummary): Float32Array | null {
    let emb = this.embeddings.get(adapter.id);
    if (emb === undefined) {
      emb = this.zoo.store.getAdapter(adapter.id).parameters[TASK_EMBEDDING] ?? null;
      this.embeddings.set(adapter.id, emb);
    }
    return emb;
  }
}
