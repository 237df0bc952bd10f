/**
 * The one place a storage engine is chosen: `openRegistry(url)` turns a registry URL into an
 * open, migrated `RegistryStore`.
 *
 *   sqlite:<path>       SQLite file (created if missing); `sqlite::memory:` for a throwaway store
 *   <path>              the same as sqlite:<path> (the embedded default needs no scheme)
 *   postgres://…        PostgreSQL (also postgresql://)
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ValidationError } from './errors.ts';
import { SqliteRegistryStore } from './sqlite-store.ts';
import type { RegistryStore } from './store.ts';

export interface OpenOptions {
  /** Clock in integer ms; defaults to Date.now. Tests pin it. */
  readonly now?: () => number;
}

export type RegistryEngine = 'sqlite' | 'postgres';

/** Which engine a registry URL names; ValidationError listing the accepted forms otherwise. */
export function registryEngine(url: string): RegistryEngine {
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgres';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new ValidationError(`registry: expected sqlite:<path>, a file path or postgres://…, got '${url.replace(/\/\/[^@/]*@/, '//…@')}'`);
  }
  return 'sqlite';
}

/** The SQLite path of a `sqlite:` URL or bare path. */
export function sqlitePath(url: string): string {
  return url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
}

export async function openRegistry(url: string, options: OpenOptions = {}): Promise<RegistryStore> {
  if (registryEngine(url) === 'postgres') {
    throw new ValidationError('registry: PostgreSQL is not available in this build; use sqlite:<path>');
  }
  const file = sqlitePath(url);
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  return SqliteRegistryStore.open(file, { now: options.now });
}
