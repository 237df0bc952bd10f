/** The API's JSON shapes the console reads (snake_case, times in integer ms), see /openapi.json. */

export interface Page<T> { items: T[]; next_page_token: string | null }
export interface Items<T> { items: T[] }

export interface BaseModel {
  name: string; modality: 'text' | 'image'; sha256: string; feature_dim: number; created_ms: number;
  placement: { layer: string; in_dim: number; out_dim: number; activation: string }[];
}

export interface Task {
  id: string; name: string; modality: 'text' | 'image'; base_model_sha256: string; labels: string[];
  metadata: Record<string, unknown>; example_counts: Record<string, number>; created_ms: number;
}

export interface Example { hash: string; label: string; split: 'support' | 'query'; text?: string; image_base64?: string }

export interface AdapterRef { id: string; name: string; version: number; content_hash: string; method: string }

export interface Adapter extends AdapterRef {
  base_model_sha256: string; task_id: string | null; labels: string[]; rank: number; alpha: number;
  extra: Record<string, unknown>; metrics: Record<string, unknown>; training_config: Record<string, unknown>;
  parents: { adapter_ids: string[]; prior_id: string | null }; created_ms: number;
}

export interface AdapterDetail extends Adapter { parameters: Record<string, { length: number }>; aliases: string[] }
export interface Alias { name: string; alias: string; version: number; updated_ms: number }

export interface Lineage {
  nodes: { kind: 'adapter' | 'prior'; id: string; name: string; version: number; content_hash: string; depth: number }[];
  edges: { child_id: string; parent_id: string; parent_kind: 'adapter' | 'prior' }[];
}

export interface Prior {
  id: string; name: string; version: number; content_hash: string; base_model_sha256: string; k: number; d: number;
  sigma2: number; beta2: number; training_task_ids: string[]; config: Record<string, unknown>; seed: number; created_ms: number;
  diagnostics: PriorDiagnostics | null;
}

/** What training measured about a prior's chain and mixture; `weights` are the live components'. */
export interface PriorDiagnostics {
  theta_spread: number; expected_spread: number; ess_phi_min: number; ess_phi_median: number; ess_spread: number;
  components_asked: number; components_live: number; weights: number[]; separation: number | null;
  variance_over_sigma2: number; temperature: number;
}

export interface Zoo {
  name: string; base_model_sha256: string; description: string | null; metadata: Record<string, unknown>;
  version: number; member_count: number; created_ms: number; updated_ms: number;
}
export interface ZooVersion { zoo: string; version: number; member_count: number; note: string | null; created_ms: number }
export interface ZooMember {
  adapter: AdapterRef; task_id: string | null; labels: string[]; base_model_sha256: string;
  added_version: number; removed_version: number | null;
}

export interface MethodInfo {
  name: string; title: string; needs_prior: boolean; needs_meta_training: boolean; uncertainty: boolean; stores: string[];
  /** How it adapts (frozen, fine-tuning, meta-learned, lift), and that family's display name. */
  family: string; family_title: string;
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export interface Job {
  id: string; kind: string; status: JobStatus; phase: string | null; phase_index: number; phase_count: number;
  progress: number; eta_ms: number | null; trace: { step: number; log_lik: number }[];
  params: Record<string, unknown>; result: Record<string, unknown> | null; error: string | null;
  created_at: number; started_at: number | null; finished_at: number | null; run_id: string | null;
}

export interface Run {
  id: string; kind: string; name: string; status: string; params: Record<string, unknown>; metrics: Record<string, unknown>;
  refs: Record<string, unknown>; code_version: string | null; error: string | null;
  started_ms: number; finished_ms: number | null; duration_ms: number | null;
}

export interface Calibration { ece: number; bins: { lo: number; hi: number; count: number; confidence: number; accuracy: number }[] }
export interface CompareRow { method: string; accuracy: number | null; nll: number | null; fit_ms: number | null; calibration?: Calibration; error?: string }
export interface CompareResult {
  task_id: string; support_size: number; query_size: number; query_source: string; prior_id: string | null; run_id: string;
  rows: CompareRow[];
}

export interface Prediction {
  label: string; probabilities: Record<string, number>;
  uncertainty?: { entropy: number; mutual_information: number };
}
export interface Predictions { adapter: AdapterRef; predictions: Prediction[] }

export interface Retrieval {
  routing: string;
  candidates: { adapter: AdapterRef; zoo: string; zoo_version: number; task_id: string | null; labels: string[]; score: number }[];
  result: null | { mode: string; labels: string[]; used: { adapter: AdapterRef; weight: number }[]; predictions: Prediction[] };
}

export interface FitResult {
  adapter: Adapter; created: boolean; fit_ms: number; support_accuracy: number | null; alias: Alias | null; run_id: string;
}
