/**
 * `RegistryStore` over a SQL database: the entity modules in `sql/` hold the queries, written once
 * for both engines; this class only wires them to one database and clock. The engine behind it
 * (SQLite via better-sqlite3, PostgreSQL via node-postgres or in-process PGlite) is chosen by
 * `openRegistry(url)` in open.ts, which also applies that engine's migrations.
 */
import type { Created, RegistryStore } from './store.ts';
import type {
  Adapter, AdapterAlias, AdapterFilter, AdapterInput, AdapterSummary, BaseModel, BaseModelInput, CacheStats,
  Example, ExampleInputFields, FeatureEntry, Lineage, Page, Prior, PriorFilter, PriorInput,
  PriorSummary, Run, RunFilter, RunInput, RunResult, Split, Task, TaskFilter, TaskInput,
  Job, JobFilter, JobUpdate, NewJob, ZooChange, ZooInput, ZooMember, ZooMemberInput, ZooRecord, ZooVersion,
} from './types.ts';
import type { DatabaseContext, SqlDatabase } from './sql/connection.ts';
import * as baseModels from './sql/base-models.ts';
import * as tasks from './sql/tasks.ts';
import * as features from './sql/features.ts';
import * as adapters from './sql/adapters.ts';
import { getLineage } from './sql/lineage.ts';
import * as priors from './sql/priors.ts';
import * as runs from './sql/runs.ts';
import * as zoos from './sql/zoos.ts';
import * as jobs from './sql/jobs.ts';

export class SqlRegistryStore implements RegistryStore {
  private readonly ctx: DatabaseContext;
  private readonly counters: features.FeatureCounters = { hits: 0, misses: 0 };

  /** `db` must already be migrated (see open.ts). */
  constructor(readonly db: SqlDatabase, now: () => number = Date.now) {
    this.ctx = { sql: db, now: () => Math.floor(now()) };
  }

  async registerBaseModel(input: BaseModelInput): Promise<Created<BaseModel>> { return baseModels.registerBaseModel(this.ctx, input); }
  async getBaseModel(nameOrSha: string): Promise<BaseModel> { return baseModels.getBaseModel(this.ctx, nameOrSha); }
  async listBaseModels(): Promise<readonly BaseModel[]> { return baseModels.listBaseModels(this.ctx); }

  async createTask(input: TaskInput): Promise<Task> { return tasks.createTask(this.ctx, input); }
  async createTasks(inputs: readonly TaskInput[], options?: { replace?: boolean }): Promise<Task[]> { return tasks.createTasks(this.ctx, inputs, options); }
  async addExamples(taskId: string, examples: readonly ExampleInputFields[]): Promise<{ added: number; skipped: number }> {
    return tasks.addExamples(this.ctx, taskId, examples);
  }
  async getTask(taskId: string): Promise<Task> { return tasks.getTask(this.ctx, taskId); }
  async listTasks(filter?: TaskFilter, pageToken?: string, maxResults?: number): Promise<Page<Task>> {
    return tasks.listTasks(this.ctx, filter, pageToken, maxResults);
  }
  async listExamples(taskId: string, split?: Split): Promise<readonly Example[]> { return tasks.listExamples(this.ctx, taskId, split); }
  async deleteTask(taskId: string): Promise<void> { return tasks.deleteTask(this.ctx, taskId); }

  async getFeatures(baseSha: string, hashes: readonly string[]): Promise<(Float32Array | undefined)[]> {
    return features.getFeatures(this.ctx, this.counters, baseSha, hashes);
  }
  async putFeatures(baseSha: string, entries: readonly FeatureEntry[]): Promise<void> { return features.putFeatures(this.ctx, baseSha, entries); }
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
  async deleteAlias(name: string, alias: string): Promise<void> { return adapters.deleteAlias(this.ctx, name, alias); }
  async listAliases(name: string): Promise<readonly AdapterAlias[]> { return adapters.listAliases(this.ctx, name); }
  async getLineage(adapterId: string): Promise<Lineage> { return getLineage(this.ctx, adapterId); }

  async createPrior(input: PriorInput): Promise<Created<Prior>> { return priors.createPrior(this.ctx, input); }
  async getPrior(id: string): Promise<Prior> { return priors.getPrior(this.ctx, id); }
  async getPriorVersion(name: string, version: number): Promise<Prior> { return priors.getPriorVersion(this.ctx, name, version); }
  async listPriors(filter?: PriorFilter, pageToken?: string, maxResults?: number): Promise<Page<PriorSummary>> {
    return priors.listPriors(this.ctx, filter, pageToken, maxResults);
  }
  async getLatestPrior(baseModel: string, name?: string): Promise<Prior> { return priors.getLatestPrior(this.ctx, baseModel, name); }

  async createRun(input: RunInput): Promise<Run> { return runs.createRun(this.ctx, input); }
  async finishRun(id: string, result: RunResult): Promise<Run> { return runs.finishRun(this.ctx, id, result); }
  async getRun(id: string): Promise<Run> { return runs.getRun(this.ctx, id); }
  async listRuns(filter?: RunFilter, pageToken?: string, maxResults?: number): Promise<Page<Run>> {
    return runs.listRuns(this.ctx, filter, pageToken, maxResults);
  }

  async createZoo(input: ZooInput): Promise<Created<ZooRecord>> { return zoos.createZoo(this.ctx, input); }
  async getZoo(name: string): Promise<ZooRecord> { return zoos.getZoo(this.ctx, name); }
  async listZoos(filter?: { baseModelSha?: string }, pageToken?: string, maxResults?: number): Promise<Page<ZooRecord>> {
    return zoos.listZoos(this.ctx, filter, pageToken, maxResults);
  }
  async listZooMembers(name: string, version?: number): Promise<readonly ZooMember[]> { return zoos.listZooMembers(this.ctx, name, version); }
  async listZooVersions(name: string): Promise<readonly ZooVersion[]> { return zoos.listZooVersions(this.ctx, name); }
  async changeZooMembers(name: string, add: readonly ZooMemberInput[], removeAdapterIds?: readonly string[]): Promise<ZooChange> {
    return zoos.changeZooMembers(this.ctx, name, add, removeAdapterIds);
  }
  async deleteZoo(name: string): Promise<void> { return zoos.deleteZoo(this.ctx, name); }

  async createJob(input: NewJob): Promise<Job> { return jobs.createJob(this.ctx, input); }
  async getJob(id: string): Promise<Job> { return jobs.getJob(this.ctx, id); }
  async updateJob(id: string, update: JobUpdate): Promise<Job> { return jobs.updateJob(this.ctx, id, update); }
  async touchJobs(owner: string): Promise<number> { return jobs.touchJobs(this.ctx, owner); }
  async failStaleJobs(staleMs: number, error: { code: string; message: string }): Promise<readonly Job[]> { return jobs.failStaleJobs(this.ctx, staleMs, error); }
  async requestJobCancel(id: string): Promise<Job> { return jobs.requestJobCancel(this.ctx, id); }
  async listJobs(filter?: JobFilter, pageToken?: string, maxResults?: number): Promise<Page<Job>> {
    return jobs.listJobs(this.ctx, filter, pageToken, maxResults);
  }

  async close(): Promise<void> { await this.db.close(); }
}
