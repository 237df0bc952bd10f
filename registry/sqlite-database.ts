/**
 * SQLite (better-sqlite3) behind the asynchronous `SqlDatabase` interface. better-sqlite3 is
 * synchronous; a transaction spans several awaited statements, so this wrapper keeps other
 * statements of this process out of an open transaction (they wait for it to end), and
 * `BEGIN IMMEDIATE` takes SQLite's write lock up front, which serialises writers across processes.
 */
import Database from 'better-sqlite3';
import { applyMigrations, configureConnection, requireCurrentSchema } from './migrations.ts';
import type { SqlConnection, SqlDatabase } from './sql/connection.ts';

export interface SqliteOpenOptions {
  /** How long a writer waits for another process's lock before failing (ms). Default 5000. */
  readonly busyTimeoutMs?: number;
  /** Open without writing (no migration; the schema must be current). */
  readonly readonly?: boolean;
}

export class SqliteDatabase implements SqlDatabase {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, Database.Statement>();
  /** Settles when the open transaction ends; null when none is open. */
  private busy: Promise<void> | null = null;
  private readonly direct: SqlConnection;

  constructor(readonly db: Database.Database) {
    this.direct = {
      dialect: 'sqlite',
      all: async <R>(sql: string, params: readonly unknown[] = []) => this.prepare(sql).all(...params) as R[],
      get: async <R>(sql: string, params: readonly unknown[] = []) => this.prepare(sql).get(...params) as R | undefined,
      run: async (sql: string, params: readonly unknown[] = []) => this.prepare(sql).run(...params).changes,
      exec: async (script: string) => { this.db.exec(script); },
      lock: async () => {},
    };
  }

  /** Opens (creating if needed) and migrates the database file at `path` (':memory:' for a throwaway one). */
  static open(path: string, options: SqliteOpenOptions = {}): SqliteDatabase {
    const db = new Database(path, { readonly: options.readonly ?? false });
    try {
      configureConnection(db, options.busyTimeoutMs);
      if (options.readonly) requireCurrentSchema(db);
      else applyMigrations(db);
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteDatabase(db);
  }

  private prepare(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  private async idle(): Promise<void> {
    while (this.busy) await this.busy;
  }

  async all<R>(sql: string, params?: readonly unknown[]): Promise<R[]> { await this.idle(); return this.direct.all<R>(sql, params); }
  async get<R>(sql: string, params?: readonly unknown[]): Promise<R | undefined> { await this.idle(); return this.direct.get<R>(sql, params); }
  async run(sql: string, params?: readonly unknown[]): Promise<number> { await this.idle(); return this.direct.run(sql, params); }
  async exec(script: string): Promise<void> { await this.idle(); return this.direct.exec(script); }
  async lock(): Promise<void> {}

  async transaction<T>(fn: (tx: SqlConnection) => Promise<T>): Promise<T> {
    // Checked and claimed in one synchronous step: after `await this.idle()` another waiter
    // woken by the same commit could claim it first, and both would BEGIN.
    while (this.busy) await this.busy;
    let done!: () => void;
    this.busy = new Promise((resolve) => { done = resolve; });
    try {
      this.db.prepare('BEGIN IMMEDIATE').run();
      try {
        const result = await fn(this.direct);
        this.db.prepare('COMMIT').run();
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.prepare('ROLLBACK').run();
        throw err;
      }
    } finally {
      this.busy = null;
      done();
    }
  }

  async close(): Promise<void> {
    await this.idle();
    if (this.db.open) this.db.close();
  }
}
