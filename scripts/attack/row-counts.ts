/**
 * Rows per table of a SQLite registry, read through a separate read-only connection (WAL lets it
 * read beside the server). The attack tools compare the counts around every refused request: a
 * request answered with an error must leave every table as it found it. The feature cache is left
 * out: it is a cache, filled by any request that runs the backbone, whatever the answer.
 */
import Database from 'better-sqlite3';

const NOT_RECORDS = new Set(['features', 'registry_schema', 'schema_migrations']);

export class RowCounter {
  private readonly db: Database.Database;
  private readonly tables: string[];

  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    this.tables = (this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[])
      .map((r) => r.name).filter((t) => !NOT_RECORDS.has(t));
  }

  counts(): Record<string, number> {
    return Object.fromEntries(this.tables.map((t) => [t, (this.db.prepare(`SELECT count(*) AS n FROM "${t}"`).get() as { n: number }).n]));
  }

  close(): void {
    this.db.close();
  }
}

/** The tables whose counts differ, as `table a→b`. */
export function countChanges(before: Record<string, number>, after: Record<string, number>): string[] {
  return Object.keys({ ...before, ...after }).filter((t) => before[t] !== after[t]).map((t) => `${t} ${before[t] ?? 0}→${after[t] ?? 0}`);
}
