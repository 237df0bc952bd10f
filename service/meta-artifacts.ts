/**
 * Loading what meta-training stored for a base model and training suite: the LiFT prior
 * (`lift/<suite>`), its zoo (`zoo/<suite>/*`, with task embeddings) and the competitors'
 * starting points (`meta/<suite>/*`). Latest versions win.
 */
import type { MbcCluster } from '../adapters/mbc.ts';
import { METHOD_NAMES, METHOD_TABLE } from '../adapters/method-table.ts';
import type { ZooEntry } from '../adapters/lora-retriever.ts';
import { NotFoundError } from '../registry/errors.ts';
import type { RegistryStore } from '../registry/store.ts';
import type { Adapter, BaseModel, Prior } from '../registry/types.ts';

export const priorName = (suite: string): string => `lift/${suite}`;
export const metaAdapterName = (suite: string, method: string): string => `meta/${suite}/${method}`;

export interface StoredStart {
  readonly id: string;
  readonly theta: Float32Array;
  readonly sigma2?: number;
}

export interface MetaArtifacts {
  readonly suite: string;
  readonly zoo: ZooEntry[];
  readonly starts: Map<string, StoredStart>;
  readonly clusters: MbcCluster[];
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

async function allAdapters(store: RegistryStore, filter: { method: string; baseModelSha: string }): Promise<Adapter[]> {
  const out: Adapter[] = [];
  let token: string | undefined;
  do {
    const page = await store.searchAdapters(filter, token, 1000);
    for (const s of page.items) out.push(await store.getAdapter(s.id));
    token = page.nextPageToken;
  } while (token);
  return out;
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
  const base = prior.baseModelSha;
  const latest = async (name: string): Promise<Adapter | null> => {
    try {
      return await store.getLatestAdapterVersion(name);
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
  };
  const zoo = (await allAdapters(store, { method: 'zoo', baseModelSha: base }))
    .filter((a) => a.parents.priorId === prior.id)
    .map((a) => ({ id: a.name, theta: thetaOf(a), embedding: a.parameters.task_embedding }));
  const starts = new Map<string, StoredStart>();
  for (const method of METHOD_NAMES.filter((n) => (METHOD_TABLE[n].stores as readonly string[]).includes('start'))) {
    const a = await latest(metaAdapterName(suite, method));
    if (a) starts.set(method, { id: a.id, theta: thetaOf(a), sigma2: typeof a.extra.sigma2 === 'number' ? a.extra.sigma2 : undefined });
  }
  const clusters: MbcCluster[] = (await allAdapters(store, { method: 'mbc-cluster', baseModelSha: base }))
    .filter((a) => a.parents.priorId === prior.id)
    .map((a, index) => ({ index, members: (a.extra.members ?? []) as string[], theta: thetaOf(a), arrow: a.parameters.arrow }));
  const artifacts = { suite, zoo, starts, clusters };
  cache.set(prior.id, artifacts);
  return artifacts;
}
