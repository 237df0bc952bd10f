/**
 * The registry's storage contract, asynchronous so that any engine can implement it: SQLite
 * (`sqlite:<path>`; `sqlite::memory:` gives a throwaway store) and PostgreSQL (`postgres://…`, or
 * PGlite in process), both by `SqlRegistryStore` (sql-store.ts). `openRegistry(url)` in open.ts is
 * the only place an engine is chosen; test/store-engines.ts runs every store test on both.
 * A call either resolves or rejects with a domain error from `errors.ts`, on every engine alike.
 *
 * Decisions that callers rely on:
 * - Base models are keyed by ONNX sha256; a name maps to exactly one sha. Re-registering the same
 *   content is a no-op; the same name with a different sha (or other fields) is a ConflictError —
 *   a rebuilt or different backbone must be registered under a new name (e.g. 'use-lite@2'),
 *   because cached features and adapters are only valid for the exact ONNX bytes.
 * - Examples are keyed by (task, content hash). Re-sending an identical example (same label and
 *   split) is silently deduplicated; the same content with a different label or split is a
 *   ValidationError (contradictory labels, or support/query leakage).
 * - Deleting a task deletes its examples (cascade). Adapters and priors fitted on it are kept and
 *   keep working: their parameters are self-contained, versions are immutable, and `taskId`
 *   remains as provenance (a later `getTask` on it is NotFound). Cached features are keyed by
 *   content, not task, and are kept.
 * - Adapter and prior versions are immutable. Identity is (name, version) plus a content hash.
 *   Creating content that already exists under that name returns the existing version
 *   (`created: false`); new content gets version max+1.
 * - Page tokens are opaque strings; an unknown or malformed token is a ValidationError.
 */
import type {
  Adapter, AdapterAlias, AdapterFilter, AdapterInput, AdapterSummary, BaseModel, BaseModelInput,
  CacheStats, Example, ExampleInputFields, FeatureEntry, Lineage, Page, Prior, PriorFilter,
  PriorInput, PriorSummary, Run, RunFilter, RunInput, RunResult, Split, Task, TaskFilter, TaskInput,
  Job, JobFilter, JobKind, JobUpdate, JsonObject, NewJob, ZooChange, ZooInput, ZooMember, ZooMemberInput, ZooRecord, ZooVersion,
} from './types.ts';

export interface Created<T> {
  readonly value: T;
  /** false when identical content already existed and was returned instead. */
  readonly created: boolean;
}

export interface RegistryStore {
  // Base models
  /** Registers a backbone; idempotent on identical content, ConflictError otherwise. */
  registerBaseModel(input: BaseModelInput): Promise<Created<BaseModel>>;
  /** By name or sha256; NotFoundError if absent. */
  getBaseModel(nameOrSha: string): Promise<BaseModel>;
  listBaseModels(): Promise<readonly BaseModel[]>;

  // Tasks and examples
  /** Creates the task and its examples in one transaction; AlreadyExistsError if the id is taken. */
  createTask(input: TaskInput): Promise<Task>;
  /**
   * Creates several tasks in one transaction: all or none. With `replace`, a task whose id exists
   * is deleted first (in the same transaction); otherwise AlreadyExistsError naming it.
   */
  createTasks(inputs: readonly TaskInput[], options?: { replace?: boolean }): Promise<Task[]>;
  /** Adds examples in one transaction; returns how many were new (duplicates are skipped). */
  addExamples(taskId: string, examples: readonly ExampleInputFields[]): Promise<{ added: number; skipped: number }>;
  getTask(taskId: string): Promise<Task>;
  /** Ordered by id; `maxResults` 1..1000 (default 100). */
  listTasks(filter?: TaskFilter, pageToken?: string, maxResults?: number): Promise<Page<Task>>;
  /** All examples of a task (optionally one split), in insertion order. */
  listExamples(taskId: string, split?: Split): Promise<readonly Example[]>;
  /** Deletes the task and its examples; adapters/priors are kept (see above). */
  deleteTask(taskId: string): Promise<void>;

  // Feature cache, keyed by (example hash, base model sha256)
  /** One entry per hash, in order; undefined where not cached. Counts hits and misses. */
  getFeatures(baseSha: string, hashes: readonly string[]): Promise<(Float32Array | undefined)[]>;
  /** Stores entries in one transaction (replacing existing ones); length must be featureDim. */
  putFeatures(baseSha: string, entries: readonly FeatureEntry[]): Promise<void>;
  getCacheStats(): Promise<CacheStats>;

  // Adapters
  createAdapterVersion(input: AdapterInput): Promise<Created<Adapter>>;
  getAdapter(id: string): Promise<Adapter>;
  getAdapterVersion(name: string, version: number): Promise<Adapter>;
  /** Highest version of a name. */
  getLatestAdapterVersion(name: string): Promise<Adapter>;
  /** Ordered by (name, version). */
  searchAdapters(filter?: AdapterFilter, pageToken?: string, maxResults?: number): Promise<Page<AdapterSummary>>;
  /** Points (or moves) an alias to an existing version. */
  setAlias(name: string, alias: string, version: number): Promise<AdapterAlias>;
  getByAlias(name: string, alias: string): Promise<Adapter>;
  deleteAlias(name: string, alias: string): Promise<void>;
  listAliases(name: string): Promise<readonly AdapterAlias[]>;
  getLineage(adapterId: string): Promise<Lineage>;

  // Priors
  createPrior(input: PriorInput): Promise<Created<Prior>>;
  /** By id. */
  getPrior(id: string): Promise<Prior>;
  getPriorVersion(name: string, version: number): Promise<Prior>;
  /** Newest first. */
  listPriors(filter?: PriorFilter, pageToken?: string, maxResults?: number): Promise<Page<PriorSummary>>;
  /** Most recently created prior for a base model (name or sha), optionally of one name. */
  getLatestPrior(baseModel: string, name?: string): Promise<Prior>;

  // Runs
  createRun(input: RunInput): Promise<Run>;
  /** ConflictError if already finished; refs are merged into those given at creation. */
  finishRun(id: string, result: RunResult): Promise<Run>;
  getRun(id: string): Promise<Run>;
  /** Newest first. */
  listRuns(filter?: RunFilter, pageToken?: string, maxResults?: number): Promise<Page<Run>>;

  // Zoos (named, versioned sets of adapters with task embeddings)
  /** Idempotent for the same name and base model; ConflictError for another base model. */
  createZoo(input: ZooInput): Promise<Created<ZooRecord>>;
  getZoo(name: string): Promise<ZooRecord>;
  /** Ordered by name. */
  listZoos(filter?: { baseModelSha?: string }, pageToken?: string, maxResults?: number): Promise<Page<ZooRecord>>;
  /** Members of a version (default latest), in joining order. */
  listZooMembers(name: string, version?: number): Promise<readonly ZooMember[]>;
  /** Newest first. */
  listZooVersions(name: string): Promise<readonly ZooVersion[]>;
  /** One new version adding and/or removing members (a newer adapter of a member's task replaces it). */
  changeZooMembers(name: string, add: readonly ZooMemberInput[], removeAdapterIds?: readonly string[]): Promise<ZooChange>;
  deleteZoo(name: string): Promise<void>;

  // Jobs
  /** A queued job; `owner` names the runner that will run it (none: whichever queue worker takes it). */
  createJob(input: NewJob): Promise<Job>;
  getJob(id: string): Promise<Job>;
  /** ConflictError once the job finished: a final state is never changed. */
  updateJob(id: string, update: JobUpdate): Promise<Job>;
  /** The owner's runner is alive: stamps the heartbeat of its unfinished jobs; returns how many. */
  touchJobs(owner: string): Promise<number>;
  /**
   * Fails every unfinished job with an owner whose heartbeat is older than `staleMs` (its runner
   * stopped without finishing it) with `error`; returns the jobs it failed.
   */
  failStaleJobs(staleMs: number, error: { code: string; message: string }): Promise<readonly Job[]>;
  /** Sets the cancel flag the runner polls. */
  requestJobCancel(id: string): Promise<Job>;
  /** Newest first. */
  listJobs(filter?: JobFilter, pageToken?: string, maxResults?: number): Promise<Page<Job>>;

  close(): Promise<void>;
}
