/**
 * Domain types of the registry. These (never SQL rows) are what the store returns.
 * Times are integer milliseconds since the epoch. Tensors are flat row-major Float32Arrays with
 * their shape written in the doc comment. JSON fields are plain objects that survive JSON.stringify.
 */

export type Modality = 'text' | 'image';
export const MODALITIES: readonly Modality[] = ['text', 'image'];

/** A JSON object stored verbatim (metrics, configs, metadata). */
export type JsonObject = Record<string, unknown>;

/** Where LoRA attaches: one pretrained linear layer `y = act(x·(W + (α/r)·BA)ᵀ + b)`. */
export interface LoraPlacement {
  /** Layer name in the backbone graph, e.g. 'tanh_layer_0'; also the PEFT target module. */
  readonly layer: string;
  /** Input width of the layer (columns of A: A is [r, inDim]). */
  readonly inDim: number;
  /** Output width of the layer (rows of B: B is [outDim, r]). */
  readonly outDim: number;
  /** Activation after the layer, e.g. 'tanh' or 'identity'. */
  readonly activation: string;
}

/** A frozen backbone, identified by the sha256 of its ONNX file. */
export interface BaseModel {
  readonly name: string;
  readonly modality: Modality;
  /** sha256 (hex) of the ONNX file: the identity every feature and adapter refers to. */
  readonly sha256: string;
  /** Width of the cached features (the LoRA layer's input). */
  readonly featureDim: number;
  /** LoRA layers, in order; usually one. */
  readonly placement: readonly LoraPlacement[];
  readonly createdMs: number;
}
export type BaseModelInput = Omit<BaseModel, 'createdMs'>;

/** Example splits. 'support'/'query' for few-shot tasks, 'train'/'val'/'test' for zoo tasks. */
export type Split = 'support' | 'query' | 'train' | 'val' | 'test';
export const SPLITS: readonly Split[] = ['support', 'query', 'train', 'val', 'test'];

export interface Task {
  /** Slug: lower-case letters, digits, '.', '_', '-'; 1-128 chars, starts with a letter or digit. */
  readonly id: string;
  readonly name: string;
  readonly modality: Modality;
  readonly baseModelSha: string;
  /** Ordered label set; example labels must belong to it. */
  readonly labels: readonly string[];
  readonly metadata: JsonObject;
  readonly createdMs: number;
  /** Number of stored examples per split. */
  readonly exampleCounts: Readonly<Partial<Record<Split, number>>>;
}

export interface ExampleInputFields {
  readonly label: string;
  readonly split: Split;
  /** Exactly one of text / image, matching the task's modality. */
  readonly text?: string;
  readonly image?: Uint8Array;
}

export interface Example extends ExampleInputFields {
  readonly taskId: string;
  /** `exampleHash` of the input: key of the feature cache. */
  readonly hash: string;
}

export interface TaskInput {
  readonly id: string;
  readonly name?: string;
  readonly modality: Modality;
  /** Base model name or sha256. */
  readonly baseModel: string;
  readonly labels: readonly string[];
  readonly metadata?: JsonObject;
  readonly examples?: readonly ExampleInputFields[];
}

export interface TaskFilter {
  readonly modality?: Modality;
  readonly baseModelSha?: string;
}

/** Lineage of an adapter: adapters it was derived from and/or the prior it was fitted under. */
export interface AdapterParents {
  readonly adapterIds: readonly string[];
  readonly priorId: string | null;
}

/** Adapter fields without tensors (what searches return). */
export interface AdapterSummary {
  /** Stable id, derived from (name, version, contentHash). */
  readonly id: string;
  readonly name: string;
  /** 1, 2, 3… per name; never reused, never mutated. */
  readonly version: number;
  /** sha256 of (method, rank, alpha, base model, label set, parameters, extra). */
  readonly contentHash: string;
  readonly method: string;
  readonly baseModelSha: string;
  /** Task the adapter was fitted on; kept as provenance even after the task is deleted. */
  readonly taskId: string | null;
  readonly labels: readonly string[];
  readonly rank: number;
  readonly alpha: number;
  readonly extra: JsonObject;
  readonly metrics: JsonObject;
  readonly trainingConfig: JsonObject;
  readonly parents: AdapterParents;
  readonly createdMs: number;
}

/**
 * A full adapter. Parameters: `lora_A` [r, inDim] and `lora_B` [outDim, r] for a single-layer
 * placement (`<layer>.lora_A` / `<layer>.lora_B` when the base model has several LoRA layers),
 * plus any other named tensors the method needs (e.g. `prototypes` [N, D]).
 */
export interface Adapter extends AdapterSummary {
  readonly parameters: Readonly<Record<string, Float32Array>>;
}

/** An adapter without its tensors, as listings and API answers carry it. */
export function adapterSummary(adapter: Adapter | AdapterSummary): AdapterSummary {
  const { parameters: _, ...summary } = adapter as AdapterSummary & { parameters?: unknown };
  return summary;
}

export interface AdapterInput {
  readonly name: string;
  readonly method: string;
  /** Base model name or sha256. */
  readonly baseModel: string;
  readonly taskId?: string | null;
  readonly labels: readonly string[];
  readonly rank: number;
  readonly alpha: number;
  readonly parameters: Readonly<Record<string, Float32Array>>;
  readonly extra?: JsonObject;
  readonly metrics?: JsonObject;
  readonly trainingConfig?: JsonObject;
  readonly parents?: Partial<AdapterParents>;
}

export interface AdapterFilter {
  readonly taskId?: string;
  readonly method?: string;
  readonly name?: string;
  /** Only versions that this alias points to (across names unless `name` is set). */
  readonly alias?: string;
  readonly baseModelSha?: string;
}

export interface AdapterAlias {
  readonly name: string;
  readonly alias: string;
  readonly version: number;
  readonly updatedMs: number;
}

export interface LineageNode {
  readonly kind: 'adapter' | 'prior';
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly contentHash: string;
  /** Number of parent hops from the queried adapter (0 = itself). */
  readonly depth: number;
}
export interface LineageEdge {
  readonly childId: string;
  readonly parentId: string;
  readonly parentKind: 'adapter' | 'prior';
}
/** Every ancestor of an adapter (breadth-first), with the parent edges between them. */
export interface Lineage {
  readonly nodes: readonly LineageNode[];
  readonly edges: readonly LineageEdge[];
}

export interface PriorSummary {
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly contentHash: string;
  readonly baseModelSha: string;
  /** Mixture components K and parameter dimension D. */
  readonly k: number;
  readonly d: number;
  /** Task-level variance σ² (θᵢ | φ ~ N(φ, σ²I)) and hyper-prior variance β² (φ ~ N(0, β²I)). */
  readonly sigma2: number;
  readonly beta2: number;
  readonly trainingTaskIds: readonly string[];
  readonly config: JsonObject;
  readonly seed: number;
  readonly createdMs: number;
}

/** A learned mixture prior p(θ*) = Σ_k α_k N(θ*; μ_k, diag(s_k) + σ²I). */
export interface Prior extends PriorSummary {
  /** α: [K]. */
  readonly weights: Float32Array;
  /** μ: [K, D] row-major. */
  readonly means: Float32Array;
  /** s: [K, D] row-major. */
  readonly variances: Float32Array;
}

export interface PriorInput {
  readonly name: string;
  /** Base model name or sha256. */
  readonly baseModel: string;
  readonly weights: Float32Array;
  readonly means: Float32Array;
  readonly variances: Float32Array;
  readonly sigma2: number;
  readonly beta2: number;
  readonly trainingTaskIds?: readonly string[];
  readonly config?: JsonObject;
  readonly seed: number;
}

export interface PriorFilter {
  readonly name?: string;
  readonly baseModelSha?: string;
}

export type RunKind = 'train' | 'tune' | 'eval' | 'compare' | 'fit';
export const RUN_KINDS: readonly RunKind[] = ['train', 'tune', 'eval', 'compare', 'fit'];
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';
export const RUN_STATUSES: readonly RunStatus[] = ['running', 'succeeded', 'failed', 'cancelled'];

/** The registry versions a run read or wrote (any subset); stored and served as this JSON. */
export interface RunRefs {
  readonly zoo?: { readonly name: string; readonly version: number };
  readonly prior_ids?: readonly string[];
  readonly adapter_ids?: readonly string[];
  readonly task_ids?: readonly string[];
  readonly suite?: string;
}

/** One train, tune, eval, compare or fit: what it was given, what it measured, what it touched. */
export interface Run {
  readonly id: string;
  readonly kind: RunKind;
  /** Human-readable label, e.g. 'train-prior zoo support-tickets@3'. */
  readonly name: string;
  /** Parameters. */
  readonly config: JsonObject;
  readonly status: RunStatus;
  readonly startedMs: number;
  readonly finishedMs: number | null;
  readonly metrics: JsonObject;
  readonly refs: RunRefs;
  /** `git rev-parse HEAD` of the code that ran, when known. */
  readonly codeVersion: string | null;
  readonly error: string | null;
}

export interface RunInput {
  readonly kind: RunKind;
  readonly name?: string;
  readonly config?: JsonObject;
  readonly refs?: RunRefs;
  readonly codeVersion?: string | null;
  readonly id?: string;
}

export interface RunResult {
  readonly status: Exclude<RunStatus, 'running'>;
  readonly metrics?: JsonObject;
  /** Merged into the refs given at creation (e.g. the prior or adapters the run stored). */
  readonly refs?: RunRefs;
  readonly error?: string;
}

export interface RunFilter {
  readonly kind?: RunKind;
  readonly status?: RunStatus;
  /** Runs that touched this zoo / prior / adapter / task. */
  readonly zoo?: string;
  readonly priorId?: string;
  readonly adapterId?: string;
  readonly taskId?: string;
}

/**
 * A zoo: a named set of adapters of one base model, each with its task and task embedding.
 * Membership is versioned: every change makes version + 1; older versions stay readable.
 */
export interface ZooRecord {
  readonly name: string;
  readonly baseModelSha: string;
  readonly description: string;
  readonly metadata: JsonObject;
  /** Latest version (0 for a zoo without members yet). */
  readonly version: number;
  readonly memberCount: number;
  readonly createdMs: number;
  readonly updatedMs: number;
}

export interface ZooVersion {
  readonly zoo: string;
  readonly version: number;
  readonly memberCount: number;
  /** What changed, e.g. 'added 3, replaced 1'. */
  readonly note: string;
  readonly createdMs: number;
}

export interface ZooMember {
  readonly zoo: string;
  readonly adapterId: string;
  readonly taskId: string | null;
  /** Normalised task embedding [outDim] (mean frozen embedding of the task's inputs). */
  readonly embedding: Float32Array;
  readonly addedVersion: number;
  readonly removedVersion: number | null;
}

export interface ZooInput {
  readonly name: string;
  /** Base model name or sha256. */
  readonly baseModel: string;
  readonly description?: string;
  readonly metadata?: JsonObject;
}

export interface ZooMemberInput {
  readonly adapterId: string;
  readonly taskId: string | null;
  readonly embedding: Float32Array;
}

/** Result of adding members: the new version (or the old one when nothing changed). */
export interface ZooChange {
  readonly zoo: ZooRecord;
  readonly version: number;
  readonly added: readonly string[];
  /** Members replaced because a newer adapter of the same task joined. */
  readonly replaced: readonly string[];
  readonly removed: readonly string[];
  /** false when every adapter was already a member (no new version). */
  readonly changed: boolean;
}

export type JobKind = 'train-prior' | 'compare' | 'fit' | 'tune' | 'eval';
export const JOB_KINDS: readonly JobKind[] = ['train-prior', 'compare', 'fit', 'tune', 'eval'];
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
export const FINISHED_JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

export interface JobTracePoint {
  readonly step: number;
  readonly log_lik: number;
}

/** Long work run asynchronously; the stored record is what GET /v1/jobs/:id returns. */
export interface Job {
  readonly id: string;
  readonly kind: JobKind;
  readonly status: JobStatus;
  readonly phase: string;
  readonly phaseIndex: number;
  readonly phaseCount: number;
  /** 0..1 over the whole job. */
  readonly progress: number;
  readonly etaMs: number | null;
  readonly trace: readonly JobTracePoint[];
  readonly params: JsonObject;
  readonly result: JsonObject | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly runId: string | null;
  readonly cancelRequested: boolean;
  /** The runner holding the job (null: a queue's); it stamps `heartbeatMs` while alive. */
  readonly owner: string | null;
  readonly heartbeatMs: number | null;
  readonly createdMs: number;
  readonly startedMs: number | null;
  readonly finishedMs: number | null;
}

export interface NewJob {
  readonly kind: JobKind;
  readonly params: JsonObject;
  readonly owner?: string | null;
}

/** Fields a running job may change. */
export interface JobUpdate {
  readonly status?: JobStatus;
  readonly phase?: string;
  readonly phaseIndex?: number;
  readonly phaseCount?: number;
  readonly progress?: number;
  readonly etaMs?: number | null;
  /** Appended to the stored trace. */
  readonly trace?: readonly JobTracePoint[];
  readonly result?: JsonObject | null;
  readonly error?: { readonly code: string; readonly message: string } | null;
  readonly runId?: string | null;
}

export interface JobFilter {
  readonly kind?: JobKind;
  readonly status?: JobStatus;
}

/** One page of a listing; pass `nextPageToken` back to get the next page (absent on the last). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextPageToken?: string;
}

/** Feature-cache counters since the store was opened. */
export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
}

export interface FeatureEntry {
  readonly hash: string;
  readonly features: Float32Array;
}
