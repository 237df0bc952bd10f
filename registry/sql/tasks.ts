/**
 * Tasks and their examples. An example is keyed by (task, content hash): the hash is computed
 * here from the input, never trusted from the caller, because the feature cache relies on it.
 */
import { exampleHash } from '../blobs.ts';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../errors.ts';
import type { Example, ExampleInputFields, Modality, Page, Split, Task, TaskFilter, TaskInput } from '../types.ts';
import { MODALITIES, SPLITS } from '../types.ts';
import {
  SLUG_PATTERN, decodePageToken, parseJsonObject, requireLabels, requireMaxResults, requireOneOf,
  requireString, toJsonText,
} from '../validate.ts';
import { getBaseModel } from './base-models.ts';
import { inTransaction, isStringCursor, toPage, type StoreContext } from './connection.ts';

interface TaskRow {
  id: string; name: string; modality: string; base_model_sha: string; labels: string; metadata: string; created_ms: number;
}
interface ExampleRow {
  task_id: string; hash: string; label: string; split: string; text: string | null; image: Buffer | null;
}

async function countExamples(ctx: StoreContext, taskId: string): Promise<Task['exampleCounts']> {
  const rows = await ctx.sql.all<{ split: Split; n: number | string }>('SELECT split, COUNT(*) AS n FROM examples WHERE task_id = ? GROUP BY split', [taskId]);
  return Object.fromEntries(rows.map((r) => [r.split, Number(r.n)]));
}

async function toTask(ctx: StoreContext, row: TaskRow): Promise<Task> {
  return {
    id: row.id,
    name: row.name,
    modality: row.modality as Modality,
    baseModelSha: row.base_model_sha,
    labels: JSON.parse(row.labels) as string[],
    metadata: parseJsonObject(row.metadata),
    createdMs: row.created_ms,
    exampleCounts: await countExamples(ctx, row.id),
  };
}

function toExample(row: ExampleRow): Example {
  const base = { taskId: row.task_id, hash: row.hash, label: row.label, split: row.split as Split };
  return row.text !== null ? { ...base, text: row.text } : { ...base, image: new Uint8Array(row.image!) };
}

async function getTaskRow(ctx: StoreContext, taskId: string): Promise<TaskRow> {
  const row = await ctx.sql.get<TaskRow>('SELECT * FROM tasks WHERE id = ?', [taskId]);
  if (!row) throw new NotFoundError('task', String(taskId));
  return row;
}

/** Validates one example against the task and returns its hash. */
function checkExample(ex: ExampleInputFields, i: number, modality: Modality, labels: ReadonlySet<string>): string {
  const field = `examples[${i}]`;
  const label = requireString(ex?.label, `${field}.label`);
  if (!labels.has(label)) {
    throw new ValidationError(`${field}.label: expected one of the task's labels (${[...labels].join(', ')}), got '${label}'`);
  }
  requireOneOf(ex.split, SPLITS, `${field}.split`);
  const hasText = ex.text !== undefined, hasImage = ex.image !== undefined;
  if (hasText === hasImage) throw new ValidationError(`${field}: expected exactly one of text or image, got ${hasText ? 'both' : 'neither'}`);
  if (modality === 'text') {
    if (!hasText) throw new ValidationError(`${field}: expected text for a text task, got image`);
    return exampleHash({ text: requireString(ex.text, `${field}.text`) });
  }
  if (!(ex.image instanceof Uint8Array) || ex.image.length === 0) {
    throw new ValidationError(`${field}: expected non-empty image bytes for an image task, got ${hasText ? 'text' : typeof ex.image}`);
  }
  return exampleHash({ image: ex.image });
}

/** Inserts examples into an existing task (inside the caller's transaction). */
async function insertExamples(ctx: StoreContext, task: TaskRow, examples: readonly ExampleInputFields[]): Promise<{ added: number; skipped: number }> {
  if (!Array.isArray(examples)) throw new ValidationError(`examples: expected an array, got ${typeof examples}`);
  const labels = new Set(JSON.parse(task.labels) as string[]);
  await ctx.sql.lock(`task:${task.id}`);
  let added = 0, skipped = 0;
  for (const [i, ex] of examples.entries()) {
    const hash = checkExample(ex, i, task.modality as Modality, labels);
    const prior = await ctx.sql.get<{ label: string; split: string }>('SELECT label, split FROM examples WHERE task_id = ? AND hash = ?', [task.id, hash]);
    if (prior) {
      if (prior.label !== ex.label || prior.split !== ex.split) {
        throw new ValidationError(`examples[${i}]: same content already in task '${task.id}' as label '${prior.label}' split '${prior.split}', got label '${ex.label}' split '${ex.split}'`);
      }
      skipped++;
      continue;
    }
    await ctx.sql.run('INSERT INTO examples (task_id, hash, label, split, text, image) VALUES (?, ?, ?, ?, ?, ?)',
      [task.id, hash, ex.label, ex.split, ex.text ?? null, ex.image ? Buffer.from(ex.image) : null]);
    added++;
  }
  return { added, skipped };
}

export async function createTask(ctx: StoreContext, input: TaskInput): Promise<Task> {
  const id = requireString(input.id, 'id', SLUG_PATTERN);
  const modality = requireOneOf(input.modality, MODALITIES, 'modality');
  const labels = requireLabels(input.labels);
  const metadata = toJsonText(input.metadata, 'metadata');
  const name = input.name === undefined ? id : requireString(input.name, 'name');
  return inTransaction(ctx, 'task', async (tx) => {
    const base = await getBaseModel(tx, requireString(input.baseModel, 'baseModel'));
    if (base.modality !== modality) {
      throw new ValidationError(`baseModel: expected a ${modality} model, got '${base.name}' (${base.modality})`);
    }
    if (await tx.sql.get('SELECT 1 FROM tasks WHERE id = ?', [id])) throw new AlreadyExistsError('task', id);
    const row: TaskRow = { id, name, modality, base_model_sha: base.sha256, labels: JSON.stringify(labels), metadata, created_ms: tx.now() };
    await tx.sql.run('INSERT INTO tasks (id, name, modality, base_model_sha, labels, metadata, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [row.id, row.name, row.modality, row.base_model_sha, row.labels, row.metadata, row.created_ms]);
    await insertExamples(tx, row, input.examples ?? []);
    return toTask(tx, row);
  });
}

/** All tasks or none: one transaction (the per-task transactions join it). */
export async function createTasks(ctx: StoreContext, inputs: readonly TaskInput[], options: { replace?: boolean } = {}): Promise<Task[]> {
  return inTransaction(ctx, 'task', async (tx) => {
    const created: Task[] = [];
    for (const input of inputs) {
      if (options.replace) await tx.sql.run('DELETE FROM tasks WHERE id = ?', [input.id]);
      created.push(await createTask(tx, input));
    }
    return created;
  });
}

export async function addExamples(ctx: StoreContext, taskId: string, examples: readonly ExampleInputFields[]): Promise<{ added: number; skipped: number }> {
  return inTransaction(ctx, 'example', async (tx) => insertExamples(tx, await getTaskRow(tx, taskId), examples));
}

export async function getTask(ctx: StoreContext, taskId: string): Promise<Task> {
  return toTask(ctx, await getTaskRow(ctx, taskId));
}

export async function listTasks(ctx: StoreContext, filter: TaskFilter = {}, pageToken?: string, maxResults?: number): Promise<Page<Task>> {
  const max = requireMaxResults(maxResults);
  const after = decodePageToken(pageToken, isStringCursor);
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.modality !== undefined) { where.push('modality = ?'); params.push(requireOneOf(filter.modality, MODALITIES, 'filter.modality')); }
  if (filter.baseModelSha !== undefined) { where.push('base_model_sha = ?'); params.push(filter.baseModelSha); }
  if (after !== undefined) { where.push('id > ?'); params.push(after); }
  const sql = `SELECT * FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`;
  const rows = await ctx.sql.all<TaskRow>(sql, [...params, max + 1]);
  return toPage(rows, max, (r) => toTask(ctx, r), (r) => r.id);
}

export async function listExamples(ctx: StoreContext, taskId: string, split?: Split): Promise<Example[]> {
  await getTaskRow(ctx, taskId);
  const rows = split === undefined
    ? await ctx.sql.all<ExampleRow>('SELECT * FROM examples WHERE task_id = ? ORDER BY rowid', [taskId])
    : await ctx.sql.all<ExampleRow>('SELECT * FROM examples WHERE task_id = ? AND split = ? ORDER BY rowid', [taskId, requireOneOf(split, SPLITS, 'split')]);
  return rows.map(toExample);
}

/** Examples go with the task (ON DELETE CASCADE); adapters keep their taskId as provenance. */
export async function deleteTask(ctx: StoreContext, taskId: string): Promise<void> {
  await inTransaction(ctx, 'task', async (tx) => {
    const changes = await tx.sql.run('DELETE FROM tasks WHERE id = ?', [taskId]);
    if (changes === 0) throw new NotFoundError('task', String(taskId));
  });
}
