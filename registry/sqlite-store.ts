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
  PriorSummary, Run, RunFilter, RunKind, RunStatus, Split, Task, TaskFilter, TaskInput,
} from './types.ts';
import type { StoreContext } from './sqlite/context.ts';
import * as baseModels from './sqlite/base-models.ts';
import * as tasks from './sqlite/tasks.ts';
import * as features from './sqlite/features.ts';
import * as adapters from './sqlite/adapters.ts';
import { getLineage } from './sqlite/lineage.ts';
import * as priors from './sqlite/priors.ts';
import * as runs from './sqlite/runs.ts';

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

  async registerBaseModel(input: BaseModelInput): Promise<Created<BaseModel>> { return baseModels.registerBaseModel(this.ctx, input); }
  async getBaseModel(nameOrSha: string): Promise<BaseModel> { return baseModels.getBaseModel(this.ctx, nameOrSha); }
  async listBaseModels(): Promise<readonly BaseModel[]> { return baseModels.listBaseModels(this.ctx); }

  async createTask(input: TaskInput): Promise<Task> { return tasks.createTask(this.ctx, input); }
  async addExamples(taskId: string, examples: readonly ExampleInputFields[]): Promise<{ added: number; skipped: number }> {
    return tasks.addExamples(this.ctx, taskId, examples);
  }
  async getTask(taskId: string): Promise<Task> { return tasks.getTask(this.ctx, taskId); }
  async listTasks(filter?: TaskFilter, pageToken?: string, maxResults?: number): Promise<Page<Task>> {
    return tasks.listTasks(this.ctx, filter, pageToken, maxResults);
  }
  async listExamples(taskId: string, split?: Split): Promise<readonly Example[]> { return tasks.listExamples(this.ctx, taskId, split); }
  async deleteTask(taskId: string): Promise<void> { tasks.deleteTask(this.ctx, taskId); }

  async getFeatures(baseSha: string, hashes: readonly string[]): Promise<(Float32Array | undefined)[]> {
    return features.getFeatures(this.ctx, this.counters, baseSha, hashes);
  }
  async putFeatures(baseSha: string, entries: readonly FeatureEntry[]): Promise<void> { features.putFeatures(this.ctx, baseSha, entries); }
  async getCacheStats(): Promise<CacheStats> { return features.snapshotCounters(this.counters); }

  async createAdapterVersion(input: AdapterInput): Promise<Created<Adapter>> { return adapters.createAdapterVersion(this.ctx, input); }
  async getAdapter(id: string): Promise<Adapter> { return adapters.getAdapter(this.ctx, id); }
  async getAdapterVersion(name: string, version: number): Promise<Adapter> { return adapters.getAdapterVersion(this.ctx, name, version); }
  async getLatestAdapterVersion(name: string): Promise<Adapter> { return adapters.getLatestAdapterVersion(this.ctx, name); }
  async searchAdapters(filter?: AdapterFilter, pageToken?: string, maxResults?: number): Promise<Page<AdapterSummary>> {
    return adapters.searchAdapters(this.ctx, filter, pageToken, maxResults);
  }
  async setAlias(name: string, alias: string, version: number): Promise<AdapterAlias> { return adapters.setAlias(this.ctx, name, alias, version); }
  async getByAlias(name: string, alias: string): Promise<Adapter> { return adapters.getByAlias(this.ctx, name, alias); }
  async deleteAlias(name: string, alias: string): Promise<void> { adapters.deleteAlias(this.ctx, name, alias); }
  async listAliases(name: string): Promise<readonly AdapterAlias[]> { return adapters.listAliases(this.ctx, name); }
  async getLineage(adapterId: string): Promise<Lineage> { return getLineage(this.ctx, adapterId); }

  async createPrior(input: PriorInput): Promise<Created<Prior>> { return priors.createPrior(this.ctx, input); }
  async getPrior(id: string): Promise<Prior> { return priors.getPrior(this.ctx, id); }
  async getPriorVersion(name: string, version: number): Promise<Prior> { return priors.getPriorVersion(this.ctx, name, version); }
  async listPriors(filter?: PriorFilter, pageToken?: string, maxResults?: number): Promise<Page<PriorSummary>> {
    return priors.listPriors(this.ctx, filter, pageToken, maxResults);
  }
  async getLatestPrior(baseModel: string, name?: string): Promise<Prior> { return priors.getLatestPrior(this.ctx, baseModel, name); }

  async createRun(input: { kind: RunKind; config?: JsonObject; id?: string }): Promise<Run> { return runs.createRun(this.ctx, input); }
  async finishRun(id: string, result: { status: Exclude<RunStatus, 'running'>; metrics?: JsonObject }): Promise<Run> {
    return runs.finishRun(this.ctx, id, result);
  }
  async getRun(id: string): Promise<Run> { return runs.getRun(this.ctx, id); }
  async listRuns(filter?: RunFilter, pageToken?: string, maxResults?: number): Promise<Page<Run>> {
    return runs.listRuns(this.ctx, filter, pageToken, maxResults);
  }

  async close(): Promise<void> { if (this.db.open) this.db.close(); }
}
