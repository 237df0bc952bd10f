/**
 * A least-recently-used map bounded by total weight, usually bytes. The server keeps restored
 * adapters and recent feature rows in memory with it, so memory stays bounded however many or
 * however large the adapters and inputs a client sends: a bound on entries alone would let a few
 * thousand rank-1000 adapters take gigabytes. Keys are content hashes, so an entry can never go
 * stale: changed content is a different key.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, { value: V; weight: number }>();
  private total = 0;

  /**
   * @param capacity the most total weight kept (0 keeps nothing)
   * @param weigh an entry's weight, e.g. its bytes; 1 per entry by default. An entry heavier than
   *   the whole capacity is not kept.
   */
  constructor(readonly capacity: number, private readonly weigh: (value: V) => number = () => 1) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) throw new Error(`LRU capacity: expected an integer >= 0, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Total weight of the entries kept. */
  get weight(): number {
    return this.total;
  }

  /** The value, marked as most recently used; undefined when absent. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: K, value: V): void {
    this.delete(key);
    const weight = this.weigh(value);
    if (!(weight >= 0) || weight > this.capacity) return;
    this.entries.set(key, { value, weight });
    this.total += weight;
    for (const [oldest, entry] of this.entries) {
      if (this.total <= this.capacity) break;
      this.entries.delete(oldest);
      this.total -= entry.weight;
    }
  }

  delete(key: K): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.total -= entry.weight;
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }
}
