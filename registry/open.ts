/**
 * The one place a storage engine is chosen: `openRegistry(url)` turns a registry URL into an
 * open, migrated `RegistryStore`.
 *
 *   sqlite:<path>        SQLite file (created if missing); `sqlite::memory:` for a throwaway store
 *   <path>               the same as sqlite:<path> (the embedded default needs no scheme)
 *   postgres://…         PostgreSQL server (also postgresql://); `?schema=name` for a schema of its own
 *   pglite:[<dir>]       PostgreSQL in this process (PGlite); no directory keeps it in memory, where
 *                        `pglite:?schema=name` gives each store of the process a schema of its own
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ValidationError } from './errors.ts';
import { PostgresDatabase, splitSchema } from './postgres-database.ts';
import { applyPostgresMigrations } from './postgres-migrations.ts';
import { SqliteDatabase } from './sqlite-database.ts';
import { SqlRegistryStore } from './sql-store.ts';
import type { RegistryStore } from './store.ts';

export interface OpenOptions {
  /** Clock in integer ms; defaults to Date.now. Tests pin it. */
  readonly now?: () => number;
  /** SQLite only: open without writing (the schema must be current). */
  readonly readonly?: boolean;
}

export type RegistryEngine = 'sqlite' | 'postgres' | 'pglite';

/** Which engine a registry URL names; ValidationError listing the accepted forms otherwise. */
export function registryEngine(url: string): RegistryEngine {
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgres';
  if (/^pglite:/i.test(url)) return 'pglite';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new ValidationError(`registry: expected sqlite:<path>, a file path, postgres://… or pglite:[<dir>], got '${redactUrl(url)}'`);
  }
  return 'sqlite';
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//…@');
}

/** The SQLite path of a `sqlite:` URL or bare path. */
export function sqlitePath(url: string): string {
  return url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
}

export async function openRegistry(url: string, options: OpenOptions = {}): Promise<RegistryStore> {
  const engine = registryEngine(url);
  if (engine === 'sqlite') {
    const file = sqlitePath(url);
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return new SqlRegistryStore(SqliteDatabase.open(file, { readonly: options.readonly }), options.now);
  }
  const db = engine === 'postgres' ? await PostgresDatabase.connect(url) : await openPglite(url);
  try {
    await applyPostgresMigrations(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return new SqlRegistryStore(db, options.now);
}

function openPglite(url: string): Promise<PostgresDatabase> {
  const { schema } = splitSchema(url);
  const dir = url.slice('pglite:'.length).replace(/\?.*$/, '');
  if (dir !== '' && schema !== undefined) throw new ValidationError('registry: pglite:<dir> is one database; ?schema= is for the in-memory pglite: only');
  return PostgresDatabase.embedded(dir === '' ? undefined : dir, schema);
}
