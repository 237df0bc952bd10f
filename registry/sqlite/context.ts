/**
 * What every SQLite repository function receives: the connection and the clock.
 * The clock is injected so tests can pin `createdMs` and ordering.
 */
import type Database from 'better-sqlite3';
import { AlreadyExistsError, ConflictError, NotFoundError, RegistryError } from '../errors.ts';
import { encodePageToken } from '../validate.ts';
import type { Page } from '../types.ts';

export interface StoreContext {
  readonly db: Database.Database;
  /** Integer ms since the epoch. */
  readonly now: () => number;
}

/**
 * Runs `fn` in a transaction and turns any constraint failure that slipped past the explicit
 * checks (e.g. a concurrent writer) into a domain error, so raw SQLite errors never escape.
 */
export function inTransaction<T>(ctx: StoreContext, what: string, fn: () => T): T {
  try {
    return ctx.db.transaction(fn).immediate();
  } catch (err) {
    throw translateSqliteError(err, what);
  }
}

export function translateSqliteError(err: unknown, what: string): unknown {
  if (err instanceof RegistryError) return err;
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_CONSTRAINT')) return err;
  const detail = (err as Error).message;
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
    return new AlreadyExistsError(what, detail);
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return new NotFoundError(`referenced entity of ${what}`, detail);
  return new ConflictError(`${what}: constraint failed (${detail})`);
}

/** Rows fetched with LIMIT max+1 -> a page; the extra row only signals that more exist. */
export function toPage<R, T>(rows: readonly R[], max: number, map: (row: R) => T, cursorOf: (row: R) => unknown): Page<T> {
  const items = rows.slice(0, max).map(map);
  if (rows.length <= max) return { items };
  return { items, nextPageToken: encodePageToken(cursorOf(rows[max - 1])) };
}

export function isNumberCursor(c: unknown): c is number {
  return typeof c === 'number' && Number.isSafeInteger(c);
}
export function isStringCursor(c: unknown): c is string {
  return typeof c === 'string';
}
