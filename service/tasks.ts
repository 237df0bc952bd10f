/**
 * Few-shot tasks: create from labelled examples (JSON, or the JSONL task-file format), and list a
 * task's examples (plain reads and deletes go to the store directly). Creation checks the few-shot set (≥ 2 labels, every label with ≥ 1 support example,
 * query labels known, texts within limits, images decodable) before anything is written, stores
 * task and examples in one transaction, then warms the feature cache so the first fit is fast.
 */
import { encodePng } from '../backbone/image.ts';
import { parseTaskFile, TaskFileError, type UserTask } from '../benchmarks/task-file.ts';
import { AlreadyExistsError, NotFoundError, ValidationError, orNull } from '../registry/errors.ts';
import type { Example, ExampleInputFields, Modality, Split, Task, TaskInput } from '../registry/types.ts';
import type { ImageField } from './image-decoder.ts';
import { checkText, decodeBase64, imageItems, textItem, type FeatureItem, type InputDecoding } from './inputs.ts';
import type { Runtime } from './runtime.ts';

export interface ExampleBody {
  readonly label: string;
  readonly split?: 'support' | 'query';
  readonly text?: string;
  readonly image_base64?: string;
}

export interface TaskBody {
  readonly id: string;
  readonly name?: string;
  readonly modality?: Modality;
  /** Ordered label set; default: support labels in order of first appearance. */
  readonly labels?: readonly string[];
  readonly metadata?: Record<string, unknown>;
  readonly examples: readonly ExampleBody[];
}

interface DecodedExample {
  readonly fields: ExampleInputFields;
  readonly item: FeatureItem;
}

/** Checks each example against the modality and decodes images off the event loop (one budget). */
async function decodeExamples(runtime: Runtime, examples: readonly ExampleBody[], modality: Modality): Promise<DecodedExample[]> {
  const images: ImageField[] = [];
  const checked = examples.map((ex, i): { fields: ExampleInputFields; item: FeatureItem | number } => {
    const field = `examples[${i}]`;
    const split: Split = ex.split ?? 'support';
    if ((ex.text === undefined) === (ex.image_base64 === undefined)) {
      throw new ValidationError(`${field}: expected exactly one of text or image_base64, got ${ex.text === undefined ? 'neither' : 'both'}`);
    }
    if (modality === 'text') {
      if (ex.text === undefined) throw new ValidationError(`${field}: expected text in a text task, got image_base64`);
      const text = checkText(ex.text, `${field}.text`, runtime.limits.maxTextLength);
      return { fields: { label: ex.label, split, text }, item: textItem(text) };
    }
    if (ex.image_base64 === undefined) throw new ValidationError(`${field}: expected image_base64 in an image task, got text`);
    const bytes = decodeBase64(ex.image_base64, `${field}.image_base64`);
    images.push({ bytes, field: `${field}.image_base64` });
    runtime.images.check(images[images.length - 1]);
    return { fields: { label: ex.label, split, image: bytes }, item: images.length - 1 };
  });
  const decoded = await imageItems(runtime, images);
  return checked.map(({ fields, item }) => ({ fields, item: typeof item === 'number' ? decoded[item] : item }));
}

/** Label set and balance checks; messages name the offending field. */
function checkLabels(body: TaskBody): string[] {
  const support = body.examples.filter((e) => (e.split ?? 'support') === 'support');
  const labels = body.labels ? [...body.labels] : [...new Set(support.map((e) => e.label))];
  if (new Set(labels).size !== labels.length) throw new ValidationError(`labels: expected distinct labels, got duplicates in [${labels.join(', ')}]`);
  if (labels.length < 2) throw new ValidationError(`labels: a few-shot task needs at least 2 labels with support examples, got ${labels.length}${labels.length ? ` (${labels.join(', ')})` : ''}`);
  body.examples.forEach((e, i) => {
    if (!labels.includes(e.label)) throw new ValidationError(`examples[${i}].label: expected one of ${labels.join(', ')}, got '${e.label}'`);
  });
  const missing = labels.filter((l) => !support.some((e) => e.label === l));
  if (missing.length > 0) throw new ValidationError(`examples: every label needs at least 1 support example; none for ${missing.map((l) => `'${l}'`).join(', ')}`);
  return labels;
}

/** A checked, decoded task body, ready to be written. */
interface PreparedTask {
  readonly body: TaskBody;
  readonly modality: Modality;
  readonly labels: string[];
  readonly decoded: DecodedExample[];
}

/** Every check of `createTask`, with nothing written. */
async function prepareTask(runtime: Runtime, body: TaskBody): Promise<PreparedTask> {
  if (body.examples.length === 0) throw new ValidationError('examples: expected at least 2 labelled support examples, got none');
  if (body.examples.length > runtime.limits.maxInputs) {
    throw new ValidationError(`examples: expected at most ${runtime.limits.maxInputs} examples per request, got ${body.examples.length}`);
  }
  const modality: Modality = body.modality ?? (body.examples[0].image_base64 !== undefined ? 'image' : 'text');
  const labels = checkLabels(body);
  const decoded = await decodeExamples(runtime, body.examples, modality);
  return { body, modality, labels, decoded };
}

function taskInput({ body, modality, labels, decoded }: PreparedTask, baseModel: string): TaskInput {
  return { id: body.id, name: body.name, modality, baseModel, labels, metadata: body.metadata, examples: decoded.map((d) => d.fields) };
}

/** Writes prepared tasks in one transaction (all or none), then warms the feature cache. */
async function writeTasks(runtime: Runtime, prepared: readonly PreparedTask[], replace = false): Promise<Task[]> {
  const backbones = await Promise.all(prepared.map((p) => runtime.forModality(p.modality)));
  const inputs = prepared.map((p, i) => taskInput(p, backbones[i].baseModel.sha256));
  const tasks = prepared.length === 1 && !replace ? [await runtime.store.createTask(inputs[0])] : await runtime.store.createTasks(inputs, { replace });
  for (const [i, p] of prepared.entries()) await runtime.featurizer.features(backbones[i], p.decoded.map((d) => d.item));
  return tasks;
}

export async function createTask(runtime: Runtime, body: TaskBody): Promise<Task> {
  return (await writeTasks(runtime, [await prepareTask(runtime, body)]))[0];
}

/** Task-file names become ids: lower case, runs of other characters -> '-'. */
export function slugOf(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 128);
  if (slug === '') throw new ValidationError(`task: cannot derive an id from name '${name}'; use letters or digits`);
  return slug;
}

/**
 * Creates every task of a JSONL task file. Image paths resolve against `file.baseDir` (task files
 * on disk, from the CLI); without it (request bodies) they are refused: use image_base64.
 */
export async function createTasksFromFile(
  runtime: Runtime, content: string, idOverride?: string, file: { source?: string; baseDir?: string; replace?: boolean } = {},
): Promise<Task[]> {
  let parsed;
  try {
    const { maxImageSide: maxSide, maxImagePixels: maxPixels, maxDecodedBytes } = runtime.limits;
    parsed = parseTaskFile(content, { source: file.source ?? 'request body', baseDir: file.baseDir, imageLimits: { maxSide, maxPixels }, maxDecodedBytes });
  } catch (err) {
    if (err instanceof TaskFileError) throw new ValidationError(err.message);
    throw err;
  }
  if (idOverride !== undefined && parsed.length !== 1) throw new ValidationError(`id: a task id can only be given for a file with one task, got ${parsed.length} tasks`);
  const bodies: TaskBody[] = parsed.map((t) => ({
    id: idOverride ?? slugOf(t.name), name: t.name, modality: t.modality, labels: t.classes,
    examples: [...t.support.map((e) => ({ e, split: 'support' as const })), ...t.query.map((e) => ({ e, split: 'query' as const }))]
      .map(({ e, split }) => ({
        label: e.label, split,
        ...(e.text !== undefined ? { text: e.text } : { image_base64: Buffer.from(encodePng(e.image!)).toString('base64') }),
      })),
  }));
  // Every task is checked before any is written, and all are written in one transaction: a bad
  // line never leaves some tasks stored (or a replaced task deleted). Errors name the file line.
  const prepared: PreparedTask[] = [];
  for (const [t, b] of bodies.entries()) prepared.push(await byLine(parsed[t], b.id, () => prepareTask(runtime, b)));
  if (!file.replace) for (const [t, b] of bodies.entries()) await byLine(parsed[t], b.id, () => assertTaskAbsent(runtime, b.id));
  return writeTasks(runtime, prepared, file.replace);
}

/**
 * Runs a check of one task of a file; a ValidationError about `examples[i]` is re-raised naming
 * the file line of that example (support examples come first in the body, then queries).
 */
async function byLine<T>(task: UserTask, id: string, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (err) {
    if (!(err instanceof ValidationError || err instanceof AlreadyExistsError) || task.lines === undefined) throw err;
    const lines = [...task.lines.support, ...task.lines.query];
    const first = Math.min(...lines);
    const m = /^examples\[(\d+)\](\.[\w.]+)?: ([\s\S]*)$/.exec(err.message);
    const where = m ? `line ${lines[Number(m[1])]}${m[2] ? ` (${m[2].slice(1)})` : ''}` : `line ${first}`;
    const message = `task file: ${where}, task "${task.name}" (id '${id}'): ${m ? m[3] : err.message}`;
    throw err instanceof AlreadyExistsError ? new AlreadyExistsError('task', id, `${where} of the task file (use another task name)`) : new ValidationError(message);
  }
}

async function assertTaskAbsent(runtime: Runtime, id: string): Promise<void> {
  if (await orNull(runtime.store.getTask(id))) throw new AlreadyExistsError('task', id);
}

/** `replace`: the old task and its examples go; adapters fitted on it are kept (as on DELETE). */
async function deleteTaskIfPresent(runtime: Runtime, id: string): Promise<void> {
  try {
    await runtime.store.deleteTask(id);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
}

/** A task's examples; 404 for an unknown task (the store lists none). */
export async function listExamples(runtime: Runtime, id: string, split?: Split): Promise<readonly Example[]> {
  await runtime.store.getTask(id);
  return runtime.store.listExamples(id, split);
}

/** Feature items of stored examples (images are decoded from their stored bytes, off the event loop). */
export async function exampleItems(runtime: InputDecoding, examples: readonly Example[]): Promise<FeatureItem[]> {
  const images = examples.flatMap((e, i) => (e.text === undefined ? [{ bytes: e.image!, field: `stored example ${i}` }] : []));
  const decoded = await imageItems(runtime, images);
  let next = 0;
  return examples.map((e) => (e.text !== undefined ? textItem(e.text) : decoded[next++]));
}
