/**
 * The registry contract suite runs every store test against every engine: SQLite (a temporary
 * file) and PostgreSQL. PostgreSQL is the server at $LIFT_TEST_POSTGRES (default the machine's
 * postgres://postgres@127.0.0.1:5432/test) when it answers, each test in a schema of its own that
 * is dropped afterwards; without a server, PGlite (PostgreSQL in this process) stands in. With
 * CI=true a missing server fails the test instead: CI must exercise the real engine.
 */
import { test, type TestContext } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import { openRegistry, type OpenOptions } from '../registry/open.ts';
import { PostgresDatabase } from '../registry/postgres-database.ts';
import type { RegistryStore } from '../registry/store.ts';

export const POSTGRES_TEST_URL = process.env.LIFT_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
export const IN_CI = process.env.CI === 'true';

let reachable: Promise<boolean> | undefined;
/** Whether the PostgreSQL server answers (asked once per process). */
export function postgresAnswers(): Promise<boolean> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_TEST_URL, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return reachable;
}

/** A fresh, unique schema name (lower-case, as postgres-database.ts requires). */
export function uniqueSchema(prefix = 'lift_test'): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export type EngineName = 'sqlite' | 'postgres';
export const ENGINES: readonly EngineName[] = ['sqlite', 'postgres'];

/**
 * A registry URL of `engine` that is this test's alone, removed when the test ends. For
 * PostgreSQL: the server when it answers, else PGlite, unless CI=true (then it throws).
 */
export async function registryUrlFor(engine: EngineName, t: TestContext, options: { serverOnly?: boolean } = {}): Promise<string> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'lift-registry-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    return `sqlite:${join(dir, 'registry.db')}`;
  }
  const schema = uniqueSchema();
  let url: string;
  if (await postgresAnswers()) {
    const u = new URL(POSTGRES_TEST_URL);
    u.searchParams.set('schema', schema);
    url = u.toString();
  } else if (IN_CI) {
    throw new Error(`PostgreSQL at ${POSTGRES_TEST_URL} did not answer; with CI=true the PostgreSQL engine must be tested against a server (.ci/run starts one)`);
  } else if (options.serverOnly) {
    t.skip(`needs a PostgreSQL server at ${POSTGRES_TEST_URL} (several processes cannot share PGlite)`);
    return '';
  } else {
    url = `pglite:?schema=${schema}`;
  }
  t.after(() => PostgresDatabase.dropSchema(url));
  return url;
}

export interface EngineCase {
  readonly engine: EngineName;
  readonly url: string;
  /** Opens a store on this test's registry; a ticking clock keeps time ordering deterministic. Closed after the test. */
  open(options?: OpenOptions): Promise<RegistryStore>;
}

/** Registers `fn` once per engine, as "<title> [sqlite]" and "<title> [postgres]". */
export function storeTest(title: string, fn: (c: EngineCase, t: TestContext) => Promise<void>): void {
  for (const engine of ENGINES) {
    test(`${title} [${engine}]`, async (t) => {
      const url = await registryUrlFor(engine, t);
      const opened: RegistryStore[] = [];
      let clock = 1_700_000_000_000;
      const c: EngineCase = {
        engine, url,
        open: async (options = {}) => {
          const store = await openRegistry(url, { now: () => clock++, ...options });
          opened.push(store);
          return store;
        },
      };
      try {
        await fn(c, t);
      } finally {
        // Closing twice is harmless; a test that closed its store itself is fine.
        for (const s of opened) await s.close().catch(() => {});
      }
    });
  }
}

export const REDIS_TEST_URL = process.env.LIFT_TEST_REDIS ?? 'redis://127.0.0.1:6379';

let redisReachable: Promise<boolean> | undefined;
/** Whether Redis answers PING (asked once per process). */
export function redisAnswers(): Promise<boolean> {
  redisReachable ??= new Promise<boolean>((resolve) => {
    const u = new URL(REDIS_TEST_URL);
    const socket = net.connect({ host: u.hostname, port: Number(u.port || 6379) });
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(2000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
  return redisReachable;
}

/**
 * Skips the test (saying why) when PostgreSQL or Redis does not answer, except with CI=true,
 * where a missing service fails it. Returns false when skipped.
 */
export async function requireServices(t: TestContext, services: readonly ('postgres' | 'redis')[]): Promise<boolean> {
  const missing: string[] = [];
  if (services.includes('postgres') && !(await postgresAnswers())) missing.push(`PostgreSQL at ${POSTGRES_TEST_URL}`);
  if (services.includes('redis') && !(await redisAnswers())) missing.push(`Redis at ${REDIS_TEST_URL}`);
  if (missing.length === 0) return true;
  if (IN_CI) throw new Error(`${missing.join(' and ')} did not answer; with CI=true this test must run (.ci/run starts both)`);
  t.skip(`needs ${missing.join(' and ')}, which did not answer`);
  return false;
}
