/**
 * Retrieval that predicts. The request's inputs are ranked against the members of the zoos of
 * their base model (or one named zoo version):
 * - routing `embedding` (default, LoRA-Retriever): cosine between the inputs' task embedding
 *   (normalised mean frozen embedding) and each member's stored task embedding;
 * - routing `arrow`: mean |⟨v, x⟩| over the inputs, v the top right-singular vector of the
 *   member's ΔW = B·A (adapters/mbc.ts), i.e. how strongly the adapter acts on these inputs.
 * Then `mode: best` predicts with the top member on its own task's labels, and `mode: mixture`
 * averages the top-k members' predictive distributions (uniform weights, as LoRA-Retriever's
 * mixture averages adapter outputs) over the union of their label sets.
 */
import { retrieve as rankByCosine, taskEmbedding } from '../adapters/lora-retriever.ts';
import { loraShape, joinTheta } from '../adapters/lora.ts';
import { arrowPrototype } from '../adapters/mbc.ts';
import { ConflictError, ValidationError } from '../registry/errors.ts';
import type { AdapterSummary, ZooMember } from '../registry/types.ts';
import type { HeadOutput } from './adapter-heads.ts';
import type { LoadedBackbone } from './backbones.ts';
import { decodeInputs, modalityOf, type InputBody } from './inputs.ts';
import { LruCache } from './lru.ts';
import { checkInputCount } from './predict.ts';
import type { Runtime } from './runtime.ts';
import { adapterSummary } from '../registry/types.ts';

/** Memory for cached arrow directions (one input-width vector per adapter, a few KB each). */
const ARROW_CACHE_BYTES = 32 * 1024 * 1024;

export type RetrieveMode = 'best' | 'mixture';
export type RetrieveRouting = 'embedding' | 'arrow';

export interface RetrieveRequest {
  readonly inputs: readonly InputBody[];
  /** Default: every zoo of the inputs' base model. */
  readonly zoo?: string;
  /** With `zoo` only; default its latest version. */
  readonly zooVersion?: number;
  readonly topK?: number;
  readonly mode?: RetrieveMode;
  readonly routing?: RetrieveRouting;
  /** false: rank only. */
  readonly predict?: boolean;
}

export interface RetrievalCandidate {
  readonly adapter: AdapterSummary;
  readonly zoo: string;
  readonly zooVersion: number;
  readonly taskId: string | null;
  readonly score: number;
}

export interface MixturePart {
  readonly adapter: AdapterSummary;
  readonly weight: number;
}

export interface RetrievalPrediction {
  readonly mode: RetrieveMode;
  readonly labels: readonly string[];
  /** The members whose predictions were combined, with their weights (one for `best`). */
  readonly used: readonly MixturePart[];
  readonly output: HeadOutput;
}

export interface Retrieval {
  readonly routing: RetrieveRouting;
  readonly candidates: RetrievalCandidate[];
  readonly prediction: RetrievalPrediction | null;
}

interface Entry {
  readonly member: ZooMember;
  readonly zoo: string;
  readonly zooVersion: number;
  readonly adapter: AdapterSummary;
}

export class Retriever {
  /** Members by zoo version (versions are immutable; the creation time tells a re-created zoo apart). */
  private readonly members = new LruCache<string, Entry[]>(256);
  private readonly arrows = new LruCache<string, Float32Array>(ARROW_CACHE_BYTES, (v) => v.byteLength);

  constructor(private readonly rt: Runtime) {}

  async retrieve(req: RetrieveRequest): Promise<Retrieval> {
    checkInputCount(this.rt, req.inputs);
    if (req.zooVersion !== undefined && req.zoo === undefined) throw new ValidationError('zoo_version: needs zoo');
    const topK = req.topK ?? 3;
    const routing = req.routing ?? 'embedding';
    const modality = modalityOf(req.inputs);
    const items = await decodeInputs(this.rt, req.inputs, modality, 'inputs');
    const backbone = await this.rt.forModality(modality);
    const entries = await this.entriesFor(backbone, req.zoo, req.zooVersion);
    const features = await this.rt.featurizer.features(backbone, items);
    const scores = routing === 'arrow' ? await this.arrowScores(backbone, entries, features) : this.cosineScores(backbone, entries, features);
    const order = [...scores.keys()].sort((a, b) => scores[b] - scores[a] || a - b).slice(0, topK);
    const candidates = order.map((i) => ({
      adapter: entries[i].adapter, zoo: entries[i].zoo, zooVersion: entries[i].zooVersion, taskId: entries[i].member.taskId, score: scores[i],
    }));
    const prediction = req.predict === false ? null : await this.predict(req.mode ?? 'best', candidates, features);
    return { routing, candidates, prediction };
  }

  private async entriesFor(backbone: LoadedBackbone<unknown>, zooName?: string, version?: number): Promise<Entry[]> {
    const { store } = this.rt;
    const zoos = zooName !== undefined ? [await store.getZoo(zooName)] : (await store.listZoos({ baseModelSha: backbone.baseModel.sha256 }, undefined, 1000)).items;
    const entries: Entry[] = [];
    for (const zoo of zoos) {
      if (zoo.baseModelSha !== backbone.baseModel.sha256) {
        throw new ConflictError(`zoo '${zoo.name}' holds adapters of base model ${zoo.baseModelSha.slice(0, 12)}…, not the ${backbone.baseModel.modality} inputs' '${backbone.baseModel.name}'`);
      }
      const v = version ?? zoo.version;
      if (v === 0) continue;
      const key = `${zoo.name}@${v}@${zoo.createdMs}`;
      let list = this.members.get(key);
      if (!list) {
        list = await Promise.all((await store.listZooMembers(zoo.name, v)).map(async (member) => {
          const adapter = adapterSummary(await store.getAdapter(member.adapterId));
          return { member, zoo: zoo.name, zooVersion: v, adapter };
        }));
        this.members.set(key, list);
      }
      entries.push(...list);
    }
    if (entries.length === 0) {
      throw new ConflictError(`no zoo has members for base model '${backbone.baseModel.name}' (${backbone.baseModel.modality})${zooName ? ` in '${zooName}'` : ''}; promote fitted adapters first: POST /v1/zoos/<zoo>/members`);
    }
    return entries;
  }

  private cosineScores(backbone: LoadedBackbone<unknown>, entries: readonly Entry[], features: readonly Float32Array[]): number[] {
    const query = taskEmbedding(backbone.encoder.layer, features);
    const ranked = rankByCosine(entries.map((e) => ({ id: e.adapter.id, theta: new Float32Array(0), embedding: e.member.embedding })), query, entries.length);
    const scores = new Array<number>(entries.length);
    ranked.indices.forEach((i, r) => { scores[i] = ranked.scores[r]; });
    return scores;
  }

  private async arrowScores(backbone: LoadedBackbone<unknown>, entries: readonly Entry[], features: readonly Float32Array[]): Promise<number[]> {
    const layer = backbone.encoder.layer;
    return Promise.all(entries.map(async (e) => {
      let v = this.arrows.get(e.adapter.id);
      if (!v) {
        const { lora_A: A, lora_B: B } = (await this.rt.store.getAdapter(e.adapter.id)).parameters;
        const shape = loraShape(layer, e.adapter.rank, e.adapter.alpha);
        v = arrowPrototype(shape, joinTheta(A, B, shape));
        this.arrows.set(e.adapter.id, v);
      }
      let s = 0;
      for (const x of features) {
        let d = 0;
        for (let j = 0; j < x.length; j++) d += v[j] * x[j];
        s += Math.abs(d);
      }
      return s / features.length;
    }));
  }

  private async predict(mode: RetrieveMode, candidates: readonly RetrievalCandidate[], features: readonly Float32Array[]): Promise<RetrievalPrediction> {
    const used = mode === 'best' ? candidates.slice(0, 1) : candidates;
    const heads = await Promise.all(used.map(async (c) => (await this.rt.head(c.adapter)).head));
    if (mode === 'best') return { mode, labels: used[0].adapter.labels, used: [{ adapter: used[0].adapter, weight: 1 }], output: heads[0].predict(features) };
    const labels = [...new Set(used.flatMap((c) => c.adapter.labels))];
    const probs = features.map(() => new Float32Array(labels.length));
    const weight = 1 / used.length;
    heads.forEach((head, m) => {
      const column = used[m].adapter.labels.map((l) => labels.indexOf(l));
      head.predict(features).probs.forEach((row, i) => row.forEach((p, c) => { probs[i][column[c]] += weight * p; }));
    });
    return { mode, labels, used: used.map((c) => ({ adapter: c.adapter, weight })), output: { probs } };
  }
}
