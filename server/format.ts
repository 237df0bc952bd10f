/**
 * Domain objects -> JSON responses. Field names are snake_case; times are integer ms; tensors
 * are never inlined (adapters list their parameter names and sizes; PEFT export carries data).
 */
import type { z } from 'zod';
import type { HeadOutput } from '../service/adapter-heads.ts';
import type { CompareResult } from '../service/compare.ts';
import type { FitResult } from '../service/fit.ts';
import type { RetrievalCandidate } from '../service/retrieve.ts';
import type {
  Adapter, AdapterAlias, AdapterSummary, BaseModel, Example, Lineage, Page, PriorSummary, Task,
} from '../registry/types.ts';
import type * as R from './responses.ts';

type Json<S extends z.ZodType> = z.input<S>;

export function formatPage<T, J>(page: Page<T>, format: (item: T) => J): { items: J[]; next_page_token: string | null } {
  return { items: page.items.map(format), next_page_token: page.nextPageToken ?? null };
}

export function formatTask(t: Task): Json<typeof R.TaskJson> {
  return {
    id: t.id, name: t.name, modality: t.modality, base_model_sha256: t.baseModelSha, labels: [...t.labels],
    metadata: t.metadata, example_counts: t.exampleCounts, created_ms: t.createdMs,
  };
}

export function formatExample(e: Example): Json<typeof R.ExampleJson> {
  return {
    hash: e.hash, label: e.label, split: e.split,
    ...(e.text !== undefined ? { text: e.text } : { image_base64: Buffer.from(e.image!).toString('base64') }),
  };
}

export function formatAdapter(a: AdapterSummary): Json<typeof R.AdapterJson> {
  return {
    id: a.id, name: a.name, version: a.version, content_hash: a.contentHash, method: a.method,
    base_model_sha256: a.baseModelSha, task_id: a.taskId, labels: [...a.labels], rank: a.rank, alpha: a.alpha,
    extra: a.extra, metrics: a.metrics, training_config: a.trainingConfig,
    parents: { adapter_ids: [...a.parents.adapterIds], prior_id: a.parents.priorId }, created_ms: a.createdMs,
  };
}

export function formatAdapterDetail(a: Adapter, aliases: readonly AdapterAlias[]): Json<typeof R.AdapterDetailJson> {
  const { parameters, ...summary } = a;
  return {
    ...formatAdapter(summary),
    parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, { length: v.length }])),
    aliases: aliases.filter((al) => al.version === a.version).map((al) => al.alias),
  };
}

export function formatAlias(a: AdapterAlias): Json<typeof R.AliasJson> {
  return { name: a.name, alias: a.alias, version: a.version, updated_ms: a.updatedMs };
}

export function formatLineage(l: Lineage): Json<typeof R.LineageJson> {
  return {
    nodes: l.nodes.map((n) => ({ kind: n.kind, id: n.id, name: n.name, version: n.version, content_hash: n.contentHash, depth: n.depth })),
    edges: l.edges.map((e) => ({ child_id: e.childId, parent_id: e.parentId, parent_kind: e.parentKind })),
  };
}

export function formatPrior(p: PriorSummary): Json<typeof R.PriorJson> {
  return {
    id: p.id, name: p.name, version: p.version, content_hash: p.contentHash, base_model_sha256: p.baseModelSha,
    k: p.k, d: p.d, sigma2: p.sigma2, beta2: p.beta2, training_task_ids: [...p.trainingTaskIds], config: p.config,
    seed: p.seed, created_ms: p.createdMs,
  };
}

export function formatBaseModel(b: BaseModel): Json<typeof R.BaseModelJson> {
  return {
    name: b.name, modality: b.modality, sha256: b.sha256, feature_dim: b.featureDim, created_ms: b.createdMs,
    placement: b.placement.map((p) => ({ layer: p.layer, in_dim: p.inDim, out_dim: p.outDim, activation: p.activation })),
  };
}

export function formatAdapterRef(a: AdapterSummary): Json<typeof R.AdapterRefJson> {
  return { id: a.id, name: a.name, version: a.version, content_hash: a.contentHash, method: a.method };
}

export function formatPredictions(a: AdapterSummary, out: HeadOutput): Json<typeof R.PredictionsJson> {
  const predictions = out.probs.map((row, i) => {
    let best = 0;
    for (let c = 1; c < row.length; c++) if (row[c] > row[best]) best = c;
    return {
      label: a.labels[best],
      probabilities: Object.fromEntries(a.labels.map((l, c) => [l, row[c]])),
      ...(out.entropy ? { uncertainty: { entropy: out.entropy[i], mutual_information: out.mutualInformation![i] } } : {}),
    };
  });
  return { adapter: formatAdapterRef(a), predictions };
}

export function formatFit(r: FitResult): Json<typeof R.FitJson> {
  return {
    adapter: formatAdapter(r.adapter), created: r.created, fit_ms: r.fitMs, support_accuracy: r.supportAccuracy,
    alias: r.alias ? formatAlias(r.alias) : null,
  };
}

export function formatCompare(r: CompareResult): Json<typeof R.CompareJson> {
  return {
    task_id: r.taskId, support_size: r.supportSize, query_size: r.querySize, query_source: r.querySource,
    rows: r.rows.map((row) => ({ method: row.method, accuracy: row.accuracy, nll: row.nll, fit_ms: row.fitMs, ...(row.error ? { error: row.error } : {}) })),
  };
}

export function formatCandidates(candidates: readonly RetrievalCandidate[]): Json<typeof R.RetrievalJson>['candidates'] {
  return candidates.map((c) => ({ adapter: formatAdapterRef(c.adapter), task_id: c.adapter.taskId, labels: [...c.adapter.labels], score: c.score }));
}
