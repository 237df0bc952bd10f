/**
 * Domain objects -> JSON responses. Field names are snake_case; times are integer ms; tensors
 * are never inlined (adapters list their parameter names and sizes; PEFT export carries data).
 */
import type { z } from 'zod';
import type { HeadOutput } from '../service/adapter-heads.ts';
import { compareJson, type CompareResult } from '../service/compare.ts';
import type { FitResult } from '../service/fit.ts';
import type { Retrieval } from '../service/retrieve.ts';
import type {
  Adapter, AdapterAlias, AdapterSummary, BaseModel, Example, Job, Lineage, Page, PriorSummary, Run, Task, ZooChange,
  ZooMember, ZooRecord, ZooVersion,
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
    seed: p.seed, created_ms: p.createdMs, diagnostics: formatPriorDiagnostics(p.config.diagnostics),
  };
}

const finite = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** The chain / mixture diagnostics training stored in the prior's config, snake_case; null when absent. */
function formatPriorDiagnostics(d: unknown): Json<typeof R.PriorJson>['diagnostics'] {
  if (typeof d !== 'object' || d === null || Array.isArray(d)) return null;
  const o = d as Record<string, unknown>;
  return {
    theta_spread: finite(o.thetaSpread), expected_spread: finite(o.expectedSpread),
    ess_phi_min: finite(o.essPhiMin), ess_phi_median: finite(o.essPhiMedian), ess_spread: finite(o.essSpread),
    components_asked: finite(o.componentsAsked), components_live: finite(o.componentsLive),
    weights: Array.isArray(o.weights) ? o.weights.map(finite) : [],
    separation: typeof o.separation === 'number' ? o.separation : null,
    variance_over_sigma2: finite(o.varianceOverSigma2), temperature: finite(o.temperature),
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

/** Probability rows over `labels` -> predicted label, probabilities and (posterior) uncertainty. */
function formatRows(labels: readonly string[], out: HeadOutput): Json<typeof R.PredictionsJson>['predictions'] {
  return out.probs.map((row, i) => {
    let best = 0;
    for (let c = 1; c < row.length; c++) if (row[c] > row[best]) best = c;
    return {
      label: labels[best],
      probabilities: Object.fromEntries(labels.map((l, c) => [l, row[c]])),
      ...(out.entropy ? { uncertainty: { entropy: out.entropy[i], mutual_information: out.mutualInformation![i] } } : {}),
    };
  });
}

export function formatPredictions(a: AdapterSummary, out: HeadOutput): Json<typeof R.PredictionsJson> {
  return { adapter: formatAdapterRef(a), predictions: formatRows(a.labels, out) };
}

export function formatFit(r: FitResult): Json<typeof R.FitJson> {
  return {
    adapter: formatAdapter(r.adapter), created: r.created, fit_ms: r.fitMs, support_accuracy: r.supportAccuracy,
    alias: r.alias ? formatAlias(r.alias) : null, zoo: r.zoo ? formatZooChange(r.zoo) : null, run_id: r.runId,
    auto: r.auto as Json<typeof R.AutoChoiceJson> | null,
  };
}

export function formatCompare(r: CompareResult): Json<typeof R.CompareJson> {
  return compareJson(r) as Json<typeof R.CompareJson>;
}

export function formatRetrieval(r: Retrieval): Json<typeof R.RetrievalJson> {
  const p = r.prediction;
  return {
    routing: r.routing,
    candidates: r.candidates.map((c) => ({
      adapter: formatAdapterRef(c.adapter), zoo: c.zoo, zoo_version: c.zooVersion, task_id: c.taskId, labels: [...c.adapter.labels], score: c.score,
    })),
    result: p === null ? null : {
      mode: p.mode, labels: [...p.labels], used: p.used.map((u) => ({ adapter: formatAdapterRef(u.adapter), weight: u.weight })),
      predictions: formatRows(p.labels, p.output),
    },
  };
}

/** The board's Job JSON (times in integer ms, named *_at). */
export function formatJob(j: Job): Json<typeof R.JobJson> {
  return {
    id: j.id, kind: j.kind, status: j.status, phase: j.phase, phase_index: j.phaseIndex, phase_count: j.phaseCount,
    progress: j.progress, eta_ms: j.etaMs, trace: [...j.trace], params: j.params, result: j.result, error: j.error,
    run_id: j.runId, created_at: j.createdMs, started_at: j.startedMs, finished_at: j.finishedMs,
  };
}

export function formatRun(r: Run): Json<typeof R.RunJson> {
  return {
    id: r.id, kind: r.kind, name: r.name, status: r.status, params: r.config, metrics: r.metrics,
    refs: r.refs as Json<typeof R.RunJson>['refs'], code_version: r.codeVersion, error: r.error,
    started_ms: r.startedMs, finished_ms: r.finishedMs, duration_ms: r.finishedMs === null ? null : r.finishedMs - r.startedMs,
  };
}

export function formatZoo(z: ZooRecord): Json<typeof R.ZooJson> {
  return {
    name: z.name, base_model_sha256: z.baseModelSha, description: z.description, metadata: z.metadata,
    version: z.version, member_count: z.memberCount, created_ms: z.createdMs, updated_ms: z.updatedMs,
  };
}

export function formatZooVersion(v: ZooVersion): Json<typeof R.ZooVersionJson> {
  return { zoo: v.zoo, version: v.version, member_count: v.memberCount, note: v.note, created_ms: v.createdMs };
}

export function formatZooMember(m: ZooMember, a: AdapterSummary): Json<typeof R.ZooMembersJson>['items'][number] {
  return {
    adapter: formatAdapterRef(a), task_id: m.taskId, labels: [...a.labels], base_model_sha256: a.baseModelSha,
    added_version: m.addedVersion, removed_version: m.removedVersion,
  };
}

export function formatZooChange(c: ZooChange): Json<typeof R.ZooChangeJson> {
  return { zoo: formatZoo(c.zoo), version: c.version, changed: c.changed, added: [...c.added], replaced: [...c.replaced], removed: [...c.removed] };
}
