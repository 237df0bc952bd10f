/**
 * PostgreSQL schema migrations, the counterpart of migrations.ts (SQLite). The version lives in
 * `registry_schema`; each migration runs in one transaction with the version bump, under an
 * advisory lock, so servers and workers starting at once migrate exactly once. Append-only, and
 * a change to the SQLite schema needs the same change here.
 *
 * Differences from the SQLite schema, each for a reason: text keys are `COLLATE "C"` so ordering
 * and page tokens compare bytes as SQLite does; tensors and images are `bytea`; times are
 * `bigint` ms; tables paged in insertion order get the `rowid` identity column SQLite has built in.
 */
import type { SqlConnection, SqlDatabase } from './sql/connection.ts';

const T = 'TEXT COLLATE "C"';

/** Index i moves the schema from version i to i + 1 (1: everything of SQLite schema 2). */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE base_models (
    sha256 ${T} PRIMARY KEY,
    name ${T} NOT NULL UNIQUE,
    modality ${T} NOT NULL CHECK (modality IN ('text', 'image')),
    feature_dim INTEGER NOT NULL CHECK (feature_dim > 0),
    placement ${T} NOT NULL,
    created_ms BIGINT NOT NULL
  );

  CREATE TABLE tasks (
    id ${T} PRIMARY KEY,
    name ${T} NOT NULL,
    modality ${T} NOT NULL CHECK (modality IN ('text', 'image')),
    base_model_sha ${T} NOT NULL REFERENCES base_models (sha256),
    labels ${T} NOT NULL,
    metadata ${T} NOT NULL,
    created_ms BIGINT NOT NULL
  );
  CREATE INDEX tasks_base_model ON tasks (base_model_sha);

  CREATE TABLE examples (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    task_id ${T} NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    hash ${T} NOT NULL,
    label ${T} NOT NULL,
    split ${T} NOT NULL,
    text ${T},
    image BYTEA,
    PRIMARY KEY (task_id, hash),
    CHECK ((text IS NULL) <> (image IS NULL))
  );
  CREATE INDEX examples_task_split ON examples (task_id, split);

  CREATE TABLE features (
    base_model_sha ${T} NOT NULL REFERENCES base_models (sha256),
    hash ${T} NOT NULL,
    dim INTEGER NOT NULL,
    data BYTEA NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (base_model_sha, hash)
  );

  CREATE TABLE priors (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id ${T} PRIMARY KEY,
    name ${T} NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    content_hash ${T} NOT NULL,
    base_model_sha ${T} NOT NULL REFERENCES base_models (sha256),
    k INTEGER NOT NULL,
    d INTEGER NOT NULL,
    sigma2 DOUBLE PRECISION NOT NULL,
    beta2 DOUBLE PRECISION NOT NULL,
    training_task_ids ${T} NOT NULL,
    config ${T} NOT NULL,
    seed BIGINT NOT NULL,
    weights BYTEA NOT NULL,
    means BYTEA NOT NULL,
    variances BYTEA NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE (name, version),
    UNIQUE (name, content_hash)
  );
  CREATE INDEX priors_base_model ON priors (base_model_sha);

  CREATE TABLE adapters (
    id ${T} PRIMARY KEY,
    name ${T} NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    content_hash ${T} NOT NULL,
    method ${T} NOT NULL,
    base_model_sha ${T} NOT NULL REFERENCES base_models (sha256),
    task_id ${T},
    labels ${T} NOT NULL,
    rank INTEGER NOT NULL,
    alpha DOUBLE PRECISION NOT NULL,
    parameters BYTEA NOT NULL,
    extra ${T} NOT NULL,
    metrics ${T} NOT NULL,
    training_config ${T} NOT NULL,
    prior_id ${T} REFERENCES priors (id),
    created_ms BIGINT NOT NULL,
    UNIQUE (name, version),
    UNIQUE (name, content_hash)
  );
  CREATE INDEX adapters_task ON adapters (task_id);
  CREATE INDEX adapters_method ON adapters (method);
  CREATE INDEX adapters_hash ON adapters (content_hash);

  CREATE TABLE adapter_parents (
    child_id ${T} NOT NULL REFERENCES adapters (id),
    parent_id ${T} NOT NULL REFERENCES adapters (id),
    ord INTEGER NOT NULL,
    PRIMARY KEY (child_id, parent_id)
  );

  CREATE TABLE adapter_aliases (
    name ${T} NOT NULL,
    alias ${T} NOT NULL,
    version INTEGER NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (name, alias),
    FOREIGN KEY (name, version) REFERENCES adapters (name, version)
  );

  CREATE TABLE runs (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id ${T} PRIMARY KEY,
    kind ${T} NOT NULL CHECK (kind IN ('train', 'tune', 'eval', 'compare', 'fit')),
    name ${T} NOT NULL,
    config ${T} NOT NULL,
    status ${T} NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
    started_ms BIGINT NOT NULL,
    finished_ms BIGINT,
    metrics ${T} NOT NULL,
    refs ${T} NOT NULL,
    code_version ${T},
    error ${T}
  );
  CREATE INDEX runs_kind ON runs (kind, status);

  CREATE TABLE zoos (
    name ${T} PRIMARY KEY,
    base_model_sha ${T} NOT NULL REFERENCES base_models (sha256),
    description ${T} NOT NULL,
    metadata ${T} NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 0),
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
  );

  CREATE TABLE zoo_versions (
    zoo ${T} NOT NULL REFERENCES zoos (name) ON DELETE CASCADE,
    version INTEGER NOT NULL CHECK (version >= 1),
    member_count INTEGER NOT NULL,
    note ${T} NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (zoo, version)
  );

  CREATE TABLE zoo_members (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    zoo ${T} NOT NULL REFERENCES zoos (name) ON DELETE CASCADE,
    adapter_id ${T} NOT NULL REFERENCES adapters (id),
    task_id ${T},
    embedding BYTEA NOT NULL,
    added_version INTEGER NOT NULL,
    removed_version INTEGER,
    PRIMARY KEY (zoo, adapter_id, added_version)
  );
  CREATE INDEX zoo_members_live ON zoo_members (zoo, removed_version);

  CREATE TABLE jobs (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id ${T} PRIMARY KEY,
    kind ${T} NOT NULL,
    status ${T} NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    phase ${T} NOT NULL,
    phase_index INTEGER NOT NULL,
    phase_count INTEGER NOT NULL,
    progress DOUBLE PRECISION NOT NULL,
    eta_ms BIGINT,
    trace ${T} NOT NULL,
    params ${T} NOT NULL,
    result ${T},
    error ${T},
    run_id ${T},
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_ms BIGINT NOT NULL,
    started_ms BIGINT,
    finished_ms BIGINT
  );
  CREATE INDEX jobs_kind_status ON jobs (kind, status);
  `,
  // 2: SQLite schema 3 (job owner and heartbeat).
  `
  ALTER TABLE jobs ADD COLUMN owner ${T};
  ALTER TABLE jobs ADD COLUMN heartbeat_ms BIGINT;
  UPDATE jobs SET owner = 'unknown', heartbeat_ms = 0 WHERE status IN ('queued', 'running');
  `,
  // 3: SQLite schema 4 (index of unfinished jobs by heartbeat).
  `
  CREATE INDEX jobs_status_heartbeat ON jobs (status, heartbeat_ms);
  `,
];

export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS.length;

async function currentVersion(sql: SqlConnection): Promise<number> {
  const row = await sql.get<{ version: number }>('SELECT version FROM registry_schema');
  return row?.version ?? 0;
}

/** Applies pending migrations; returns the versions applied. */
export async function applyPostgresMigrations(db: SqlDatabase, migrations: readonly string[] = POSTGRES_MIGRATIONS): Promise<number[]> {
  const applied: number[] = [];
  await db.transaction(async (tx) => {
    await tx.lock('registry-schema');
    await tx.exec('CREATE TABLE IF NOT EXISTS registry_schema (version INTEGER NOT NULL)');
    if (!(await tx.get('SELECT 1 FROM registry_schema'))) await tx.run('INSERT INTO registry_schema (version) VALUES (0)');
  });
  for (;;) {
    const done = await db.transaction(async (tx) => {
      await tx.lock('registry-schema');
      const v = await currentVersion(tx);
      if (v > migrations.length) {
        throw new Error(`registry schema version ${v} is newer than this build supports (expected <= ${migrations.length}); upgrade the software`);
      }
      if (v === migrations.length) return true;
      await tx.exec(migrations[v]);
      await tx.run('UPDATE registry_schema SET version = ?', [v + 1]);
      applied.push(v + 1);
      return false;
    });
    if (done) return applied;
  }
}
