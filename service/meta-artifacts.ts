/**
 * Loading what meta-training stored for a base model and training suite: the LiFT prior
 * (`lift/<suite>`), and what the competitors trained in the same run (train-baselines.ts):
 * meta-learned starts (`meta/<suite>/<method>`, with the inner loop they were trained for), the
 * zoo of independently fine-tuned LoRAs (registry zoo `independent-<suite>`) and the MBC cluster
 * LoRAs of each variant. Competitor artifacts are matched to the prior by `extra.trainedWith`.
 */
import type { MbcCluster } from '../adapters/mbc.ts';
import { METHOD_NAMES, METHOD_TABLE } from '../adapters/method-table.ts';
import type { ZooEntry } from '../adapters/lora-retriever.ts';
import { independentZooName, metaAdapterName, priorName, STORED_METHODS } from '../registry/artifact-names.ts';
import { NotFoundError, orNull } from '../registry/errors.ts';
import { allPages } from '../registry/pages.ts';
import { finiteOrUndefined } from '../registry/validate.ts';
import type { RegistryStore } from '../registry/store.ts';
import type { Adapter, BaseModel, Prior } from '../registry/types.ts';


/** Names of the meta-learned starts a training run stores (records whose `stores` include 'start'). */
export const START_NAMES = METHOD_NAMES.filter((n) => (METHOD_TABLE[n].stores as readonly string[]).includes('start'));

/** The MBC clustering (train-baselines.ts MBC_VARIANTS) used when a request names none. */
export const DEFAULT_MBC_VARIANT = 'c10-mean';

export interface StoredStart {
  readonly id: string;
  readonly theta: Float32Array;
  readonly sigma2?: number;
  /** MAML family: the inner loop meta-training used (what test time replays). */
  readonly innerSteps?: number;
  readonly innerLr?: number;
  readonly optimizer?: 'gd' | 'adam';
}

export interface MetaArtifacts {
  readonly suite: string;
  /** Independently fine-tuned per-task LoRAs (never LiFT's θ_i). */
  readonly zoo: ZooEntry[];
  readonly starts: Map<string, StoredStart>;
  /** MBC cluster LoRAs by variant name (e.g. `c10-mean`). */
  readonly clusters: Map<string, MbcCluster[]>;
}

/** The latest LiFT prior trained on `suite` for this base model, or null. */
export async function findPrior(store: RegistryStore, baseModel: BaseModel, suite: string): Promise<Prior | null> {
  try {
    return await store.getLatestPrior(baseModel.sha256, priorName(suite));
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}

const thetaOf = (a: Adapter): Float32Array => {
  const { lora_A: A, lora_B: B } = a.parameters;
  const theta = new Float32Array(A.length + B.length);
  theta.set(A);
  theta.set(B, A.length);
  return theta;
};

const num = finiteOrUndefined;

async function allAdapters(store: RegistryStore, filter: { method: string; baseModelSha: string }): Promise<Adapter[]> {
  const summaries = await allPages((token, size) => store.searchAdapters(filter, token, size));
  return Promise.all(summaries.map((s) => store.getAdapter(s.id)));
}

/** Members of the suite's independent zoo that were trained with `prior` (empty when none). */
async function independentZoo(store: RegistryStore, suite: string, prior: Prior): Promise<ZooEntry[]> {
  const members = await orNull(store.listZooMembers(independentZooName(suite)));
  if (members === null) return [];
  const entries: ZooEntry[] = [];
  for (const m of members) {
    const a = await store.getAdapter(m.adapterId);
    if (a.extra.trainedWith === prior.id) entries.push({ id: a.name, theta: thetaOf(a), embedding: m.embedding });
  }
  return entries;
}

const cache = new Map<string, MetaArtifacts>();

/**
 * Everything trained on the suite of `prior` (memoised per prior version: a newer training run
 * stores a new prior, so a stale entry is never served).
 */
export async function loadMetaArtifacts(store: RegistryStore, prior: Prior): Promise<MetaArtifacts> {
  const hit = cache.get(prior.id);
  if (hit) return hit;
  const suite = String(prior.config.suite ?? '');
  const starts = new Map<string, StoredStart>();
  for (const method of START_NAMES) {
    const a = await orNull(store.getLatestAdapterVersion(metaAdapterName(suite, method)));
    if (!a || a.extra.trainedWith !== prior.id) continue;
    const optimizer = a.extra.optimizer === 'gd' || a.extra.optimizer === 'adam' ? a.extra.optimizer : undefined;
    starts.set(method, {
      id: a.id, theta: thetaOf(a), sigma2: num(a.extra.sigma2), innerSteps: num(a.extra.innerSteps), innerLr: num(a.extra.innerLr), optimizer,
    });
  }
  const clusters = new Map<string, MbcCluster[]>();
  const stored = (await allAdapters(store, { method: STORED_METHODS.mbcCluster, baseModelSha: prior.baseModelSha }))
    .filter((a) => a.extra.trainedWith === prior.id && typeof a.extra.variant === 'string');
  for (const a of stored) {
    const variant = a.extra.variant as string;
    const list = clusters.get(variant) ?? [];
    list.push({ index: list.length, members: (a.extra.members ?? []) as string[], theta: thetaOf(a), arrow: a.parameters.arrow });
    clusters.set(variant, list);
  }
  const artifacts = { suite, zoo: await independentZoo(store, suite, prior), starts, clusters };
  cache.set(prior.id, artifacts);
  return artifacts;
}
