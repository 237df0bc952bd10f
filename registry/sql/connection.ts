/**
 * What every repository function in this folder receives: an asynchronous SQL connection and
 * the clock. The entity modules (tasks, adapters, priors, …) are written once against this
 * interface and run unchanged on SQLite (registry/sqlite-database.ts) and PostgreSQL
 * (registry/postgres-database.ts). SQL here uses `?` placeholders (the PostgreSQL driver numbers
 * them), `rowid` as the insertion-order key (a real column on PostgreSQL), and nothing else
 * engine-specific except where `sql.dialect` is checked.
 */
import { AlreadyExistsError, ConflictError, NotFoundError, RegistryError } from '../errors.ts';
import { encodePageToken } from '../validate.ts';
import type { Page } from '../types.ts';

export type SqlDialect = 'sqlite' | 'postgres';

export interface SqlConnection {
  readonly dialect: SqlDialect;
  all<R>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  get<R>(sql: string, params?: readonly unknown[]): Promise<R | undefined>;
  /** Number of rows changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /** Several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
  /**
   * Inside a transaction: waits until no other writer holds `key`, until the transaction ends.
   * This is what makes "read max(version), insert max+1" race-free across processes. SQLite's
   * write transactions are exclusive already, so there it does nothing.
   */
  lock(key: string): Promise<void>;
}

export interface SqlDatabase extends SqlConnection {
  /** Runs `fn` in one write transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlConnection) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface StoreContext {
  readonly sql: SqlConnection;
  /** Integer ms since the epoch. */
  readonly now: () => number;
}

/** The transaction-capable context a store is built on. */
export interface DatabaseContext extends StoreContext {
  readonly sql: SqlDatabase;
}

/**
 * Runs `fn` in a transaction and turns any constraint failure that slipped past the explicit
 * checks (e.g. a concurrent writer) into a domain error, so raw engine errors never escape.
 * Nested calls (a context already inside a transaction) join the outer one.
 */
export async function inTransaction<T>(ctx: StoreContext, what: string, fn: (tx: StoreContext) => Promise<T>): Promise<T> {
  const db = ctx.sql as Partial<SqlDatabase>;
  try {
    if (typeof db.transaction !== 'function') return await fn(ctx);
    return await db.transaction((sql) => fn({ sql, now: ctx.now }));
  } catch (err) {
    throw translateSqlError(err, what);
  }
}

/** SQLite (SQLITE_CONSTRAINT_*) and PostgreSQL (SQLSTATE class 23) constraint errors -> domain errors. */
export function translateSqlError(err: unknown, what: string): unknown {
  if (err instanceof RegistryError) return err;
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string') return err;
  const detail = (err as Error).message;
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505') {
    return new AlreadyExistsError(what, detail);
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503') return new NotFoundError(`referenced entity of ${what}`, detail);
  if (code.startsWith('SQLITE_CONSTRAINT') || /^23\d{3}$/.test(code)) return new ConflictError(`${what}: constraint failed (${detail})`);
  return err;
}

/** Rows fetched with LIMIT max+1 -> a page; the extra row only signals that more exist. */
export async function toPage<R, T>(rows: readonly R[], max: number, map: (row: R) => T | Promise<T>, cursorOf: (row: R) => unknown): Promise<Page<T>> {
  const items = await Promise.all(rows.slice(0, max).map(map));
  if (rows.length <= max) return { items };
  return { items, nextPageToken: encodePageToken(cursorOf(rows[max - 1])) };
}

export function isNumberCursor(c: unknown): c is number {
  return typeof c === 'number' && Number.isSafeInteger(c);
}
export function isStringCursor(c: unknown): c is string {
  return typeof c === 'string';
}
