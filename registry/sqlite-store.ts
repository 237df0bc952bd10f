/**
 * `RegistryStore` on SQLite (better-sqlite3). Opening applies pending migrations in a
 * transaction and sets WAL, foreign keys and a busy timeout (see migrations.ts). Each entity's
 * SQL lives in `sqlite/<entity>.ts`; this class only wires them to one connection and clock.
 * Use ':memory:' as the path for a throwaway in-memory store.
 */
import Database from 'better-sqlite3';
import { applyMigrations, configureConnection, requireCurrentSchema } from './migrations.ts';
import type { Created, RegistryStore } from './store.ts';
import type {
  Adapter, AdapterAlias, AdapterFilter, AdapterInput, AdapterSummary, BaseModel, BaseModelInput, CacheStats,
  Example, ExampleInputFields, FeatureEntry, JsonObject, Lineage, Page, Prior, PriorFilter, PriorInput,
  PriorSummary, Run, RunFilter, RunInput, RunResult, Split, Task, TaskFilter, TaskInput,
  Job, JobFilter, JobKind, JobUpdate, ZooChange, ZooInput, ZooMember, ZooMemberInput, ZooRecord, ZooVersion,
} from './types.ts';
import type { StoreContext } from './sqlite/context.ts';
import * as baseModels from './sqlite/base-models.ts';
import * as tasks from './sqlite/tasks.ts';
import * as features from './sqlite/features.ts';
import * as adapters from './sqlite/adapters.ts';
import { getLineage } from './sqlite/lineage.ts';
import * as priors from './sqlite/priors.ts';
import * as runs from './sqlite/runs.ts';
import * as zoos from './sqlite/zoos.ts';
import * as jobs from './sqlite/jobs.ts';

export interface SqliteStoreOptions {
  /** Clock in integer ms; defaults to Date.now. Tests pin it. */
  readonly now?: () => number;
  /** How long a writer waits for another process's lock before failing (ms). Default 5000. */
  readonly busyTimeoutMs?: number;
  /** Open without writing (no migration; the schema must be current). */
  readonly readonly?: boolean;
}

export class SqliteRegistryStore implements RegistryStore {
  private readonly ctx: StoreContext;
  private readonly counters: features.FeatureCounters = { hits: 0, misses: 0 };

  private constructor(readonly db: Database.Database, now: () => number) {
    this.ctx = { db, now: () => Math.floor(now()) };
  }

  /** Opens (creating if needed) and migrates the database at `path`. */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteRegistryStore {
    const db = new Database(path, { readonly: options.readonly ?? false });
    try {
      configureConnection(db, options.busyTimeoutMs);
      if (options.readonly) requireCurrentSchema(db);
      else applyMigrations(db);
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteRegistryStore(db, options.now ?? Date.now);
  }

  registerBaseModel(input: BaseModelInput): Created<BaseModel> { return baseModels.registerBaseModel(this.ctx, input); }
  getBaseModel(nameOrSha: string): BaseModel { return baseModels.getBaseModel(this.ctx, nameOrSha); }
  listBaseModels(): readonly BaseModel[] { return baseModels.listBaseModels(this.ctx); }

  createTask(input: TaskInput): Task { return tasks.createTask(this.ctx, input); }
  addExamples(taskId: string, examples: readonly ExampleInputFields[]): { added: number; skipped: number } {
    return tasks.addExamples(this.ctx, taskId, examples);
  }
  getTask(taskId: string): Task { return tasks.getTask(this.ctx, taskId); }
  listTasks(filter?: TaskFilter, pageToken?: string, maxResults?: number): Page<Task> {
    return tasks.listTasks(this.ctx, filter, pageToken, maxResults);
  }
  listExamples(taskId: string, split?: Split): readonly Example[] { return tasks.listExamples(this.ctx, taskId, split); }
  deleteTask(taskId: string): void { tasks.deleteTask(this.ctx, taskId); }

  getFeatures(baseSha: string, hashes: readonly string[]): (Float32Array | undefined)[] {
    return features.getFeatures(this.ctx, this.counters, baseSha, hashes);
  }
  putFeatures(baseSha: string, entries: readonly FeatureEntry[]): void { features.putFeatures(this.ctx, baseSha, entries); }
  getCacheStats(): CacheStats { return features.snapshotCounters(this.counters); }

  createAdapterVersion(input: AdapterInput): Created<Adapter> { return adapters.createAdapterVersion(this.ctx, input); }
  getAdapter(id: string): Adapter { return adapters.getAdapter(this.ctx, id); }
  getAdapterVersion(name: string, version: number): Adapter { return adapters.getAdapterVersion(this.ctx, name, version); }
  getLatestAdapterVersion(name: string): Adapter { return adapters.getLatestAdapterVersion(this.ctx, name); }
  searchAdapters(filter?: AdapterFilter, pageToken?: string, maxResults?: number): Page<AdapterSummary> {
    return adapters.searchAdapters(this.ctx, filter, pageToken, maxResults);
  }
  setAlias(name: string, alias: string, version: number): AdapterAlias { return adapters.setAlias(this.ctx, name, alias, version); }
  getByAlias(name: string, alias: string): Adapter { return adapters.getByAlias(this.ctx, name, alias); }
  deleteAlias(name: string, alias: string): void { adapters.deleteAlias(this.ctx, name, alias); }
  listAliases(name: string): readonly AdapterAlias[] { return adapters.listAliases(this.ctx, name); }
  getLineage(adapterId: string): Lineage { return getLineage(this.ctx, adapterId); }

  createPrior(input: PriorInput): Created<Prior> { return priors.createPrior(this.ctx, input); }
  getPrior(id: string): Prior { return priors.getPrior(this.ctx, id); }
  getPriorVersion(name: string, version: number): Prior { return priors.getPriorVersion(this.ctx, name, version); }
  listPriors(filter?: PriorFilter, pageToken?: string, maxResults?: number): Page<PriorSummary> {
    return priors.listPriors(this.ctx, filter, pageToken, maxResults);
  }
  getLatestPrior(baseModel: string, name?: string): Prior { return priors.getLatestPrior(this.ctx, baseModel, name); }

  createRun(input: RunInput): Run { return runs.createRun(this.ctx, input); }
  finishRun(id: string, result: RunResult): Run { return runs.finishRun(this.ctx, id, result); }
  getRun(id: string): Run { return runs.getRun(this.ctx, id); }
  listRuns(filter?: RunFilter, pageToken?: string, maxResults?: number): Page<Run> {
    return runs.listRuns(this.ctx, filter, pageToken, maxResults);
  }

  createZoo(input: ZooInput): Created<ZooRecord> { return zoos.createZoo(this.ctx, input); }
  getZoo(name: string): ZooRecord { return zoos.getZoo(this.ctx, name); }
  listZoos(filter?: { baseModelSha?: string }, pageToken?: string, maxResults?: number): Page<ZooRecord> {
    return zoos.listZoos(this.ctx, filter, pageToken, maxResults);
  }
  listZooMembers(name: string, version?: number): readonly ZooMember[] { return zoos.listZooMembers(this.ctx, name, version); }
  listZooVersions(name: string): readonly ZooVersion[] { return zoos.listZooVersions(this.ctx, name); }
  changeZooMembers(name: string, add: readonly ZooMemberInput[], removeAdapterIds?: readonly string[]): ZooChange {
    return zoos.changeZooMembers(this.ctx, name, add, removeAdapterIds);
  }
  deleteZoo(name: string): void { zoos.deleteZoo(this.ctx, name); }

  createJob(input: { kind: JobKind; params: JsonObject }): Job { return jobs.createJob(this.ctx, input); }
  getJob(id: string): Job { return jobs.getJob(this.ctx, id); }
  updateJob(id: string, update: JobUpdate): Job { return jobs.updateJob(this.ctx, id, update); }
  requestJobCancel(id: string): Job { return jobs.requestJobCancel(this.ctx, id); }
  listJobs(filter?: JobFilter, pageToken?: string, maxResults?: number): Page<Job> {
    return jobs.listJobs(this.ctx, filter, pageToken, maxResults);
  }

  close(): void { if (this.db.open) this.db.close(); }
}
