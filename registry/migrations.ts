/**
 * Schema migrations, versioned by SQLite's `user_version` pragma.
 *
 * Each migration is applied in its own transaction together with the version bump, so a crash
 * mid-upgrade leaves the database at the previous version, never half-migrated. Migrations are
 * append-only: never edit a released one, add the next. Opening a database written by a newer
 * build (user_version above what we know) fails instead of guessing.
 */
import type Database from 'better-sqlite3';

/** Index i holds the SQL that moves the schema from version i to i + 1. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE base_models (
    sha256 TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    modality TEXT NOT NULL CHECK (modality IN ('text', 'image')),
    feature_dim INTEGER NOT NULL CHECK (feature_dim > 0),
    placement TEXT NOT NULL,
    created_ms INTEGER NOT NULL
  );

  CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    modality TEXT NOT NULL CHECK (modality IN ('text', 'image')),
    base_model_sha TEXT NOT NULL REFERENCES base_models (sha256),
    labels TEXT NOT NULL,
    metadata TEXT NOT NULL,
    created_ms INTEGER NOT NULL
  );
  CREATE INDEX tasks_base_model ON tasks (base_model_sha);

  CREATE TABLE examples (
    task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    hash TEXT NOT NULL,
    label TEXT NOT NULL,
    split TEXT NOT NULL,
    text TEXT,
    image BLOB,
    PRIMARY KEY (task_id, hash),
    CHECK ((text IS NULL) <> (image IS NULL))
  );
  CREATE INDEX examples_task_split ON examples (task_id, split);

  CREATE TABLE features (
    base_model_sha TEXT NOT NULL REFERENCES base_models (sha256),
    hash TEXT NOT NULL,
    dim INTEGER NOT NULL,
    data BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (base_model_sha, hash)
  ) WITHOUT ROWID;

  CREATE TABLE priors (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    content_hash TEXT NOT NULL,
    base_model_sha TEXT NOT NULL REFERENCES base_models (sha256),
    k INTEGER NOT NULL,
    d INTEGER NOT NULL,
    sigma2 REAL NOT NULL,
    beta2 REAL NOT NULL,
    training_task_ids TEXT NOT NULL,
    config TEXT NOT NULL,
    seed INTEGER NOT NULL,
    weights BLOB NOT NULL,
    means BLOB NOT NULL,
    variances BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    UNIQUE (name, version),
    UNIQUE (name, content_hash)
  );
  CREATE INDEX priors_base_model ON priors (base_model_sha);

  CREATE TABLE adapters (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    content_hash TEXT NOT NULL,
    method TEXT NOT NULL,
    base_model_sha TEXT NOT NULL REFERENCES base_models (sha256),
    task_id TEXT,
    labels TEXT NOT NULL,
    rank INTEGER NOT NULL,
    alpha REAL NOT NULL,
    parameters BLOB NOT NULL,
    extra TEXT NOT NULL,
    metrics TEXT NOT NULL,
    training_config TEXT NOT NULL,
    prior_id TEXT REFERENCES priors (id),
    created_ms INTEGER NOT NULL,
    UNIQUE (name, version),
    UNIQUE (name, content_hash)
  );
  CREATE INDEX adapters_task ON adapters (task_id);
  CREATE INDEX adapters_method ON adapters (method);
  CREATE INDEX adapters_hash ON adapters (content_hash);

  CREATE TABLE adapter_parents (
    child_id TEXT NOT NULL REFERENCES adapters (id),
    parent_id TEXT NOT NULL REFERENCES adapters (id),
    ord INTEGER NOT NULL,
    PRIMARY KEY (child_id, parent_id)
  );

  CREATE TABLE adapter_aliases (
    name TEXT NOT NULL,
    alias TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (name, alias),
    FOREIGN KEY (name, version) REFERENCES adapters (name, version)
  );

  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('train', 'eval', 'fit')),
    config TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    started_ms INTEGER NOT NULL,
    finished_ms INTEGER,
    metrics TEXT NOT NULL
  );
  `,
  // 2: zoos (named, versioned membership sets of adapters), jobs, and runs that name what they used.
  `
  CREATE TABLE zoos (
    name TEXT PRIMARY KEY,
    base_model_sha TEXT NOT NULL REFERENCES base_models (sha256),
    description TEXT NOT NULL,
    metadata TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 0),
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
  );

  CREATE TABLE zoo_versions (
    zoo TEXT NOT NULL REFERENCES zoos (name) ON DELETE CASCADE,
    version INTEGER NOT NULL CHECK (version >= 1),
    member_count INTEGER NOT NULL,
    note TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (zoo, version)
  );

  CREATE TABLE zoo_members (
    zoo TEXT NOT NULL REFERENCES zoos (name) ON DELETE CASCADE,
    adapter_id TEXT NOT NULL REFERENCES adapters (id),
    task_id TEXT,
    embedding BLOB NOT NULL,
    added_version INTEGER NOT NULL,
    removed_version INTEGER,
    PRIMARY KEY (zoo, adapter_id, added_version)
  );
  CREATE INDEX zoo_members_live ON zoo_members (zoo, removed_version);

  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    phase TEXT NOT NULL,
    phase_index INTEGER NOT NULL,
    phase_count INTEGER NOT NULL,
    progress REAL NOT NULL,
    eta_ms INTEGER,
    trace TEXT NOT NULL,
    params TEXT NOT NULL,
    result TEXT,
    error TEXT,
    run_id TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    started_ms INTEGER,
    finished_ms INTEGER
  );
  CREATE INDEX jobs_kind_status ON jobs (kind, status);

  CREATE TABLE runs_v2 (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('train', 'tune', 'eval', 'compare', 'fit')),
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
    started_ms INTEGER NOT NULL,
    finished_ms INTEGER,
    metrics TEXT NOT NULL,
    refs TEXT NOT NULL,
    code_version TEXT,
    error TEXT
  );
  INSERT INTO runs_v2 (id, kind, name, config, status, started_ms, finished_ms, metrics, refs, code_version, error)
    SELECT id, kind, kind, config, status, started_ms, finished_ms, metrics, '{}', NULL, NULL FROM runs ORDER BY rowid;
  DROP TABLE runs;
  ALTER TABLE runs_v2 RENAME TO runs;
  CREATE INDEX runs_kind ON runs (kind, status);
  `,
  // 3: which job runner holds a job and when it last said so, so a server starting (or sweeping)
  // fails only jobs whose runner stopped, never another live server's. Unfinished jobs of
  // before this migration have no runner left to finish them.
  `
  ALTER TABLE jobs ADD COLUMN owner TEXT;
  ALTER TABLE jobs ADD COLUMN heartbeat_ms INTEGER;
  UPDATE jobs SET owner = 'unknown', heartbeat_ms = 0 WHERE status IN ('queued', 'running');
  `,
  // 4: every server reads the unfinished jobs every few seconds (heartbeat, stale sweep); an index
  // keeps that a lookup rather than a scan of every job ever run.
  `
  CREATE INDEX jobs_status_heartbeat ON jobs (status, heartbeat_ms);
  `,
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Connection settings: WAL for concurrent readers, enforced foreign keys, wait on locks. */
export function configureConnection(db: Database.Database, busyTimeoutMs = 5000): void {
  if (!db.memory && !db.readonly) db.pragma('journal_mode = WAL');
  if (!db.readonly) db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
}

/** For read-only connections, which cannot migrate: the schema must already be current. */
export function requireCurrentSchema(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current !== SCHEMA_VERSION) {
    throw new Error(`registry schema version: expected ${SCHEMA_VERSION}, got ${current}; open it read-write once to migrate`);
  }
}

/** Applies pending migrations; returns the versions applied. */
export function applyMigrations(db: Database.Database, migrations: readonly string[] = MIGRATIONS): number[] {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(`registry schema version ${current} is newer than this build supports (expected <= ${migrations.length}); upgrade the software`);
  }
  const applied: number[] = [];
  for (let v = current; v < migrations.length; v++) {
    // IMMEDIATE takes the write lock up front, so two processes opening at once do not both migrate.
    db.transaction(() => {
      const now = db.pragma('user_version', { simple: true }) as number;
      if (now !== v) return;
      db.exec(migrations[v]);
      db.pragma(`user_version = ${v + 1}`);
      applied.push(v + 1);
    }).immediate();
  }
  return applied;
}
