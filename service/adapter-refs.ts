/**
 * How a request names an adapter: by id, by name with an alias or version (latest version when
 * neither), or by task (its default adapter). Ids are immutable (name, version, content hash),
 * so their summaries are cached; aliases move, so they are looked up on every request.
 */
import { NotFoundError, ValidationError } from '../registry/errors.ts';
import type { RegistryStore } from '../registry/store.ts';
import type { AdapterFilter, AdapterSummary } from '../registry/types.ts';
import { LruCache } from './lru.ts';
import { adapterSummary } from '../registry/types.ts';
import { allPages } from '../registry/pages.ts';

export interface AdapterRef {
  readonly id?: string;
  readonly name?: string;
  readonly alias?: string;
  readonly version?: number;
  /** A task id: its adapter with alias `default`, else its most recently fitted one. */
  readonly task?: string;
}

/** Every adapter summary matching a filter (all pages). */
export async function listAllAdapters(store: RegistryStore, filter: AdapterFilter): Promise<AdapterSummary[]> {
  return allPages((token, size) => store.searchAdapters(filter, token, size));
}

const newest = (items: readonly AdapterSummary[]): AdapterSummary | undefined =>
  items.reduce<AdapterSummary | undefined>((best, a) => (!best || a.createdMs > best.createdMs || (a.createdMs === best.createdMs && a.version > best.version) ? a : best), undefined);

/** The default adapter of a task: alias `default` if set on any of its adapters, else the newest. */
export async function defaultAdapterOf(store: RegistryStore, taskId: string): Promise<AdapterSummary> {
  const aliased = newest(await listAllAdapters(store, { taskId, alias: 'default' }));
  if (aliased) return aliased;
  const latest = newest(await listAllAdapters(store, { taskId }));
  if (!latest) throw new NotFoundError('adapter for task', taskId);
  return latest;
}

export class AdapterResolver {
  private readonly byId = new LruCache<string, AdapterSummary>(10000);

  constructor(private readonly store: RegistryStore) {}

  async resolve(ref: AdapterRef, field = 'adapter'): Promise<AdapterSummary> {
    const ways = [ref.id !== undefined, ref.name !== undefined, ref.task !== undefined].filter(Boolean).length;
    if (ways !== 1) throw new ValidationError(`${field}: expected exactly one of id, name or task, got ${ways === 0 ? 'none' : 'several'}`);
    if (ref.alias !== undefined && ref.version !== undefined) throw new ValidationError(`${field}: expected alias or version, got both`);
    if (ref.name === undefined && (ref.alias !== undefined || ref.version !== undefined)) {
      throw new ValidationError(`${field}: alias and version need a name`);
    }
    if (ref.id !== undefined) return this.byIdCached(ref.id);
    if (ref.task !== undefined) return defaultAdapterOf(this.store, ref.task);
    const name = ref.name!;
    const adapter = ref.alias !== undefined ? await this.store.getByAlias(name, ref.alias)
      : ref.version !== undefined ? await this.store.getAdapterVersion(name, ref.version)
        : await this.store.getLatestAdapterVersion(name);
    return this.remember(adapter);
  }

  private async byIdCached(id: string): Promise<AdapterSummary> {
    return this.byId.get(id) ?? this.remember(await this.store.getAdapter(id));
  }

  private remember(adapter: AdapterSummary): AdapterSummary {
    const summary = adapterSummary(adapter);
    this.byId.set(summary.id, summary);
    return summary;
  }
}
