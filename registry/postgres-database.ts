/**
 * PostgreSQL behind the asynchronous `SqlDatabase` interface: a node-postgres pool for a server
 * (`postgres://…`), or PGlite, PostgreSQL compiled to WebAssembly and run in this process
 * (`pglite:` URLs), for machines without a server. Both speak the same SQL; this file numbers the
 * `?` placeholders, reads bigint as number (every bigint here is a ms time or a count) and bytea as
 * bytes, and implements `lock(key)` as a transaction-scoped advisory lock.
 *
 * A `schema` query parameter (postgres://host/db?schema=name) keeps the registry in its own
 * schema, created if missing: several registries (tests, tenants) can share one database.
 */
import pg from 'pg';
import { ValidationError } from './errors.ts';
import type { SqlConnection, SqlDatabase } from './sql/connection.ts';

interface Queryable {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[]; affected: number }>;
  exec(script: string): Promise<void>;
}

interface Backend extends Queryable {
  transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** `?` -> `$1, $2, …` (the SQL in sql/ never has a `?` inside a literal). */
function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

const INT8_OID = 20;

function connectionOf(q: Queryable): SqlConnection {
  return {
    dialect: 'postgres',
    all: async <R>(sql: string, params: readonly unknown[] = []) => (await q.query(numberPlaceholders(sql), [...params])).rows as R[],
    get: async <R>(sql: string, params: readonly unknown[] = []) => (await q.query(numberPlaceholders(sql), [...params])).rows[0] as R | undefined,
    run: async (sql: string, params: readonly unknown[] = []) => (await q.query(numberPlaceholders(sql), [...params])).affected,
    exec: (script: string) => q.exec(script),
    lock: async (key: string) => { await q.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]); },
  };
}

export class PostgresDatabase implements SqlDatabase {
  readonly dialect = 'postgres' as const;
  private readonly direct: SqlConnection;

  private constructor(private readonly backend: Backend) {
    this.direct = connectionOf(backend);
  }

  all<R>(sql: string, params?: readonly unknown[]): Promise<R[]> { return this.direct.all<R>(sql, params); }
  get<R>(sql: string, params?: readonly unknown[]): Promise<R | undefined> { return this.direct.get<R>(sql, params); }
  run(sql: string, params?: readonly unknown[]): Promise<number> { return this.direct.run(sql, params); }
  exec(script: string): Promise<void> { return this.direct.exec(script); }
  /** Outside a transaction a lock would be released at once; callers lock inside `transaction`. */
  async lock(): Promise<void> {}

  transaction<T>(fn: (tx: SqlConnection) => Promise<T>): Promise<T> {
    return this.backend.transaction((q) => fn(connectionOf(q)));
  }

  close(): Promise<void> { return this.backend.close(); }

  /** A pool on a PostgreSQL server; `?schema=` selects (and creates) the schema. */
  static async connect(url: string, options: { max?: number } = {}): Promise<PostgresDatabase> {
    const { connectionString, schema } = splitSchema(url);
    const pool = new pg.Pool({
      connectionString,
      max: options.max ?? 10,
      options: schema ? `-c search_path=${schema}` : undefined,
      types: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser },
    });
    // An idle client losing its server must not crash the process; the next query reports it.
    pool.on('error', (err) => console.error(`registry: PostgreSQL connection lost: ${err.message}`));
    const backend: Backend = {
      query: async (text, params) => { const r = await pool.query(text, params); return { rows: r.rows, affected: r.rowCount ?? 0 }; },
      exec: async (script) => { await pool.query(script); },
      transaction: async (fn) => {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const result = await fn({
            query: async (text, params) => { const r = await client.query(text, params); return { rows: r.rows, affected: r.rowCount ?? 0 }; },
            exec: async (script) => { await client.query(script); },
          });
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          throw err;
        } finally {
          client.release();
        }
      },
      close: () => pool.end(),
    };
    try {
      if (schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new PostgresDatabase(backend);
  }

  /**
   * PostgreSQL in this process (PGlite). With a directory it is that directory's own database.
   * Without one, every store of this process shares one in-memory instance (starting one takes
   * seconds), each in its own schema when the URL names one, so they stay apart.
   */
  static async embedded(dataDir: string | undefined, schema?: string): Promise<PostgresDatabase> {
    const db = dataDir === undefined ? await sharedPglite() : await newPglite(dataDir);
    const wrap = (q: Pick<PGliteInstance, 'query' | 'exec'>): Queryable => ({
      query: async (text, params) => { const r = await q.query(text, params); return { rows: r.rows, affected: r.affectedRows ?? 0 }; },
      exec: async (script) => { await q.exec(script); },
    });
    const close = dataDir === undefined ? async () => {} : () => db.close();
    if (schema === undefined) {
      return new PostgresDatabase({ ...wrap(db), transaction: (fn) => db.transaction((tx) => fn(wrap(tx))), close });
    }
    // One connection serves every schema: each statement runs in a transaction that sets its path.
    await db.exec(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const inSchema = <T>(fn: (q: Queryable) => Promise<T>) => db.transaction(async (tx) => {
      await tx.exec(`SET LOCAL search_path TO "${schema}"`);
      return fn(wrap(tx));
    });
    return new PostgresDatabase({
      query: (text, params) => inSchema((q) => q.query(text, params)),
      exec: (script) => inSchema((q) => q.exec(script)),
      transaction: inSchema,
      close,
    });
  }

  /** Drops a schema and everything in it (tests clean up after themselves with this). */
  static async dropSchema(url: string): Promise<void> {
    const { connectionString, schema } = splitSchema(url);
    if (!schema) throw new ValidationError('registry: expected a ?schema= to drop');
    const sql = `DROP SCHEMA IF EXISTS "${schema}" CASCADE`;
    if (/^pglite:/i.test(url)) {
      await (await sharedPglite()).exec(sql);
      return;
    }
    const client = new pg.Client({ connectionString });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}

type PGliteInstance = Awaited<ReturnType<typeof newPglite>>;

async function newPglite(dataDir?: string) {
  const { PGlite, types } = await import('@electric-sql/pglite');
  return PGlite.create(dataDir, { parsers: { [types.INT8]: (v: string) => Number(v) } });
}

let shared: ReturnType<typeof newPglite> | undefined;
function sharedPglite(): ReturnType<typeof newPglite> {
  shared ??= newPglite();
  return shared;
}

/** Schema names are identifiers we quote ourselves, so only a safe alphabet is accepted. */
export function splitSchema(url: string): { connectionString: string; schema?: string } {
  const parsed = new URL(url.replace(/^pglite:(?!\/\/)/i, 'pglite://'));
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new ValidationError(`registry: schema: expected lower-case letters, digits and _ (at most 63), got '${schema}'`);
  }
  return { connectionString: parsed.toString(), schema };
}
