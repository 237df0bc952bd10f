/**
 * Zoos: named sets of adapters of one base model, each member with its task and task embedding.
 * Membership is versioned like a model version: a change (members added, replaced or removed)
 * writes version + 1; a member row records the version that added it and the one that removed
 * it, so the members of any past version stay readable (priors record the version they used).
 * A zoo holds at most one live member per task: promoting a newer adapter of a task replaces it.
 */
import { packTensor, unpackTensor } from '../blobs.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { Page, ZooChange, ZooInput, ZooMember, ZooMemberInput, ZooRecord, ZooVersion } from '../types.ts';
import {
  SLUG_PATTERN, decodePageToken, parseJsonObject, requireFloat32, requireInt, requireMaxResults, requireString, toJsonText,
} from '../validate.ts';
import { getBaseModel } from './base-models.ts';
import { inTransaction, isStringCursor, toPage, type StoreContext } from './connection.ts';

interface ZooRow {
  name: string; base_model_sha: string; description: string; metadata: string; version: number;
  created_ms: number; updated_ms: number; member_count: number;
}
interface MemberRow {
  zoo: string; adapter_id: string; task_id: string | null; embedding: Uint8Array; added_version: number; removed_version: number | null;
}

const ZOO_SELECT = `SELECT z.*, (SELECT COUNT(*) FROM zoo_members m WHERE m.zoo = z.name AND m.removed_version IS NULL) AS member_count FROM zoos z`;

function toZoo(row: ZooRow): ZooRecord {
  return {
    name: row.name, baseModelSha: row.base_model_sha, description: row.description, metadata: parseJsonObject(row.metadata),
    version: row.version, memberCount: Number(row.member_count), createdMs: row.created_ms, updatedMs: row.updated_ms,
  };
}

const toMember = (row: MemberRow): ZooMember => ({
  zoo: row.zoo, adapterId: row.adapter_id, taskId: row.task_id, embedding: unpackTensor(row.embedding),
  addedVersion: row.added_version, removedVersion: row.removed_version,
});

export async function getZoo(ctx: StoreContext, name: string): Promise<ZooRecord> {
  const row = await ctx.sql.get<ZooRow>(`${ZOO_SELECT} WHERE z.name = ?`, [name]);
  if (!row) throw new NotFoundError('zoo', String(name));
  return toZoo(row);
}

/** Creates the zoo, or returns the existing one when base model matches (idempotent). */
export async function createZoo(ctx: StoreContext, input: ZooInput): Promise<{ value: ZooRecord; created: boolean }> {
  const name = requireString(input.name, 'name', SLUG_PATTERN);
  const metadata = toJsonText(input.metadata, 'metadata');
  const description = input.description ?? '';
  if (typeof description !== 'string' || description.length > 2000) throw new ValidationError('description: expected a string of at most 2000 characters');
  return inTransaction(ctx, 'zoo', async (tx) => {
    const base = await getBaseModel(tx, requireString(input.baseModel, 'baseModel'));
    await tx.sql.lock(`zoo:${name}`);
    const existing = await tx.sql.get<ZooRow>(`${ZOO_SELECT} WHERE z.name = ?`, [name]);
    if (existing) {
      if (existing.base_model_sha !== base.sha256) {
        throw new ConflictError(`zoo '${name}' holds adapters of another base model (${existing.base_model_sha.slice(0, 12)}…), not '${base.name}'`);
      }
      return { value: toZoo(existing), created: false };
    }
    const now = tx.now();
    await tx.sql.run('INSERT INTO zoos (name, base_model_sha, description, metadata, version, created_ms, updated_ms) VALUES (?, ?, ?, ?, 0, ?, ?)',
      [name, base.sha256, description, metadata, now, now]);
    return { value: await getZoo(tx, name), created: true };
  });
}

export async function listZoos(ctx: StoreContext, filter: { baseModelSha?: string } = {}, pageToken?: string, maxResults?: number): Promise<Page<ZooRecord>> {
  const max = requireMaxResults(maxResults);
  const after = decodePageToken(pageToken, isStringCursor);
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.baseModelSha !== undefined) { where.push('z.base_model_sha = ?'); params.push(filter.baseModelSha); }
  if (after !== undefined) { where.push('z.name > ?'); params.push(after); }
  const rows = await ctx.sql.all<ZooRow>(`${ZOO_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY z.name LIMIT ?`,
    [...params, max + 1]);
  return toPage(rows, max, toZoo, (r) => r.name);
}

/** Members of a version (default: the latest), in the order they joined. */
export async function listZooMembers(ctx: StoreContext, name: string, version?: number): Promise<ZooMember[]> {
  const zoo = await getZoo(ctx, name);
  const v = version ?? zoo.version;
  if (version !== undefined) {
    requireInt(version, 'version', 1);
    if (version > zoo.version) throw new NotFoundError('zoo version', `${name}@${version}`);
  }
  const rows = await ctx.sql.all<MemberRow>(`SELECT * FROM zoo_members WHERE zoo = ? AND added_version <= ? AND (removed_version IS NULL OR removed_version > ?)
    ORDER BY added_version, rowid`, [name, v, v]);
  return rows.map(toMember);
}

export async function listZooVersions(ctx: StoreContext, name: string): Promise<ZooVersion[]> {
  await getZoo(ctx, name);
  const rows = await ctx.sql.all<{ zoo: string; version: number; member_count: number; note: string; created_ms: number }>(
    'SELECT * FROM zoo_versions WHERE zoo = ? ORDER BY version DESC', [name]);
  return rows.map((r) => ({ zoo: r.zoo, version: r.version, memberCount: r.member_count, note: r.note, createdMs: r.created_ms }));
}

/**
 * Adds members (and/or removes adapters) as one new version. An adapter already live in the
 * zoo is left as is; a live member of the same task is replaced. Nothing changed -> no version.
 */
export async function changeZooMembers(
  ctx: StoreContext, name: string, add: readonly ZooMemberInput[], removeAdapterIds: readonly string[] = [],
): Promise<ZooChange> {
  return inTransaction(ctx, 'zoo member', async (tx) => {
    await tx.sql.lock(`zoo:${name}`);
    const zoo = await getZoo(tx, name);
    const v = zoo.version + 1;
    const live = () => tx.sql.all<MemberRow>('SELECT * FROM zoo_members WHERE zoo = ? AND removed_version IS NULL', [name]);
    const retire = (adapterId: string) =>
      tx.sql.run('UPDATE zoo_members SET removed_version = ? WHERE zoo = ? AND adapter_id = ? AND removed_version IS NULL', [v, name, adapterId]);
    const removed: string[] = [];
    for (const id of removeAdapterIds) {
      if (!(await live()).some((m) => m.adapter_id === id)) throw new NotFoundError(`member of zoo '${name}'`, id);
      await retire(id);
      removed.push(id);
    }
    const added: string[] = [], replaced: string[] = [];
    for (const [i, m] of add.entries()) {
      const adapterId = requireString(m.adapterId, `members[${i}].adapterId`);
      const embedding = requireFloat32(m.embedding, `members[${i}].embedding`);
      const adapter = await tx.sql.get<{ base_model_sha: string }>('SELECT base_model_sha FROM adapters WHERE id = ?', [adapterId]);
      if (!adapter) throw new NotFoundError('adapter', adapterId);
      if (adapter.base_model_sha !== zoo.baseModelSha) {
        throw new ConflictError(`adapter '${adapterId}' was made with another base model than zoo '${name}' (${zoo.baseModelSha.slice(0, 12)}…)`);
      }
      const current = await live();
      if (current.some((r) => r.adapter_id === adapterId)) continue;
      for (const r of current) {
        if (m.taskId !== null && r.task_id === m.taskId) { await retire(r.adapter_id); replaced.push(r.adapter_id); }
      }
      await tx.sql.run('INSERT INTO zoo_members (zoo, adapter_id, task_id, embedding, added_version, removed_version) VALUES (?, ?, ?, ?, ?, NULL)',
        [name, adapterId, m.taskId, packTensor(embedding), v]);
      added.push(adapterId);
    }
    if (added.length + removed.length === 0) return { zoo, version: zoo.version, added, replaced, removed, changed: false };
    const now = tx.now();
    const count = (await live()).length;
    const note = [added.length && `added ${added.length}`, replaced.length && `replaced ${replaced.length}`, removed.length && `removed ${removed.length}`]
      .filter(Boolean).join(', ');
    await tx.sql.run('INSERT INTO zoo_versions (zoo, version, member_count, note, created_ms) VALUES (?, ?, ?, ?, ?)', [name, v, count, note, now]);
    await tx.sql.run('UPDATE zoos SET version = ?, updated_ms = ? WHERE name = ?', [v, now, name]);
    return { zoo: await getZoo(tx, name), version: v, added, replaced, removed, changed: true };
  });
}

/** Deletes a zoo and its membership history (adapters are kept). */
export async function deleteZoo(ctx: StoreContext, name: string): Promise<void> {
  const changes = await ctx.sql.run('DELETE FROM zoos WHERE name = ?', [name]);
  if (changes === 0) throw new NotFoundError('zoo', String(name));
}
