/**
 * The user task-file format: JSONL, one labelled example per line, shared by the CLI and the HTTP
 * API (see docs/task-file.md).
 *
 *   {"task": "sentiment", "split": "support", "label": "positive", "text": "Loved it."}
 *   {"task": "logos", "split": "query", "label": "cat", "image": "img/cat.png"}
 *   {"task": "logos", "split": "support", "label": "dog", "image_base64": "iVBORw0KGgo…"}
 *
 * A file may hold several tasks. Every problem is collected with its line number and reported in
 * one error, so a user fixes the whole file in one pass instead of one line per run.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { checkImageHeader, decodeImage, readImageHeader, type ImageLimits } from '../backbone/image.ts';
import { imageExample, textExample } from './content-hash.ts';
import type { Example, Modality } from './types.ts';

const CONTENT_KEYS = ['text', 'image', 'image_base64'] as const;

export const TaskLineSchema = z
  .strictObject({
    task: z.string().trim().min(1),
    split: z.enum(['support', 'query']),
    label: z.string().trim().min(1),
    text: z.string().trim().min(1).optional(),
    image: z.string().min(1).optional(),
    image_base64: z.string().min(1).optional(),
  })
  .refine((line) => CONTENT_KEYS.filter((k) => line[k] !== undefined).length === 1, {
    message: `exactly one of ${CONTENT_KEYS.join(', ')} is required`,
  });

export type TaskLine = z.infer<typeof TaskLineSchema>;

export interface UserTask {
  readonly name: string;
  readonly modality: Modality;
  /** Class names in order of first appearance in the support set; label c means classes[c]. */
  readonly classes: readonly string[];
  readonly support: readonly Example[];
  /** Labelled queries for evaluation (may be empty). */
  readonly query: readonly Example[];
  /** 1-based file line of each support and query example, for error messages. */
  readonly lines?: { readonly support: readonly number[]; readonly query: readonly number[] };
}

export interface TaskFileIssue {
  /** 1-based line number in the file. */
  readonly line: number;
  readonly message: string;
}

/** How many issues the error message lists; all of them are on `issues`. */
export const MAX_LISTED_ISSUES = 20;

export class TaskFileError extends Error {
  constructor(
    readonly source: string,
    readonly issues: readonly TaskFileIssue[],
  ) {
    const listed = issues.slice(0, MAX_LISTED_ISSUES).map((i) => `  line ${i.line}: ${i.message}`);
    const more = issues.length > MAX_LISTED_ISSUES ? [`  … and ${issues.length - MAX_LISTED_ISSUES} more`] : [];
    super([`${source}: ${issues.length} problem(s) in task file`, ...listed, ...more].join('\n'));
    this.name = 'TaskFileError';
  }
}

export interface ParseOptions {
  /** Name used in error messages (a path, or e.g. "request body"). */
  readonly source?: string;
  /**
   * Directory that relative `image` paths resolve against. Without it, `image` paths are refused
   * (a request body must not make the server read its own files); use `image_base64` instead.
   */
  readonly baseDir?: string;
  /** Limits for each image (default DEFAULT_IMAGE_LIMITS). */
  readonly imageLimits?: ImageLimits;
  /** Decoded image bytes (w x h x 3) the whole file may produce; checked from headers before decoding. */
  readonly maxDecodedBytes?: number;
}

/** Read and parse a task file; relative image paths resolve against the file's directory. */
export function loadTaskFile(path: string): UserTask[] {
  return parseTaskFile(readFileSync(path, 'utf8'), { source: path, baseDir: dirname(resolve(path)) });
}

interface ParsedLine {
  readonly line: number;
  readonly fields: TaskLine;
  readonly example: Example;
}

export function parseTaskFile(content: string, options: ParseOptions = {}): UserTask[] {
  const issues: TaskFileIssue[] = [];
  const parsed: ParsedLine[] = [];
  // Tasks with a broken line skip the per-task checks: their missing examples would only repeat it.
  const broken = new Set<string>();
  const budget = { left: options.maxDecodedBytes ?? Number.POSITIVE_INFINITY };
  content.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    const result = parseLine(raw, options, budget);
    if ('error' in result) {
      issues.push({ line: i + 1, message: result.error });
      if (result.task !== undefined) broken.add(result.task);
    } else parsed.push({ line: i + 1, ...result });
  });
  if (parsed.length === 0 && issues.length === 0) issues.push({ line: 1, message: 'file has no examples' });
  const tasks = groupTasks(parsed.filter((l) => !broken.has(l.fields.task)), issues);
  if (issues.length > 0) {
    issues.sort((a, b) => a.line - b.line);
    throw new TaskFileError(options.source ?? 'task file', issues);
  }
  return tasks;
}

type LineResult = { fields: TaskLine; example: Example } | { error: string; task?: string };

/** One line -> its fields and example, or what is wrong with it (and its task, when readable). */
function parseLine(raw: string, options: ParseOptions, budget: { left: number }): LineResult {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    return { error: `invalid JSON (${(err as Error).message})` };
  }
  const task = typeof json === 'object' && json !== null ? (json as { task?: unknown }).task : undefined;
  const taskName = typeof task === 'string' ? task.trim() : undefined;
  const result = TaskLineSchema.safeParse(json);
  if (!result.success) {
    const error = result.error.issues
      .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
      .join('; ');
    return { error, task: taskName };
  }
  const fields = result.data;
  if (fields.text !== undefined) return { fields, example: textExample(fields.label, fields.text) };
  try {
    const bytes =
      fields.image !== undefined ? readImageFile(fields.image, options) : decodeBase64(fields.image_base64 ?? '');
    const header = readImageHeader(bytes);
    checkImageHeader(header, options.imageLimits);
    budget.left -= header.width * header.height * 3;
    if (budget.left < 0) throw new Error(`images: the file's images decode to more than ${options.maxDecodedBytes} bytes (width x height x 3); split the file or use smaller images`);
    return { fields, example: imageExample(fields.label, decodeImage(bytes, options.imageLimits)) };
  } catch (err) {
    return { error: (err as Error).message, task: taskName };
  }
}

function readImageFile(path: string, options: ParseOptions): Uint8Array {
  if (options.baseDir === undefined) {
    throw new Error(`image: "${path}" is a file path, which is only allowed in task files on disk; use image_base64`);
  }
  const full = isAbsolute(path) ? path : resolve(options.baseDir, path);
  try {
    return readFileSync(full);
  } catch (err) {
    throw new Error(`image: cannot read "${path}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** Standard base64, optionally as a data URL (`data:image/png;base64,…`). */
function decodeBase64(value: string): Uint8Array {
  const body = value.replace(/^data:image\/[a-z.+-]+;base64,/i, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 === 1) {
    throw new Error('image_base64: not valid base64');
  }
  return Buffer.from(body, 'base64');
}

/** Group lines by task and check each task: one modality, ≥ 2 support classes, known query labels. */
function groupTasks(lines: readonly ParsedLine[], issues: TaskFileIssue[]): UserTask[] {
  const byTask = new Map<string, ParsedLine[]>();
  for (const l of lines) {
    const list = byTask.get(l.fields.task) ?? [];
    list.push(l);
    byTask.set(l.fields.task, list);
  }
  const tasks: UserTask[] = [];
  for (const [name, taskLines] of byTask) {
    const task = buildTask(name, taskLines, issues);
    if (task !== null) tasks.push(task);
  }
  return tasks;
}

function buildTask(name: string, lines: readonly ParsedLine[], issues: TaskFileIssue[]): UserTask | null {
  const before = issues.length;
  const modality: Modality = lines[0].example.text !== undefined ? 'text' : 'image';
  for (const l of lines) {
    const m: Modality = l.example.text !== undefined ? 'text' : 'image';
    if (m !== modality) {
      issues.push({ line: l.line, message: `task "${name}": ${m} example in a ${modality} task (line ${lines[0].line})` });
    }
  }
  const support = lines.filter((l) => l.fields.split === 'support');
  const classes = [...new Set(support.map((l) => l.fields.label))];
  if (classes.length < 2) {
    issues.push({
      line: lines[0].line,
      message: `task "${name}": support set needs at least 2 labels, got ${classes.length}${classes.length ? ` (${classes[0]})` : ''}`,
    });
  }
  const query = lines.filter((l) => l.fields.split === 'query');
  for (const l of query) {
    if (!classes.includes(l.fields.label)) {
      issues.push({ line: l.line, message: `task "${name}": query label "${l.fields.label}" has no support example` });
    }
  }
  if (issues.length > before) return null;
  return {
    name, modality, classes, support: support.map((l) => l.example), query: query.map((l) => l.example),
    lines: { support: support.map((l) => l.line), query: query.map((l) => l.line) },
  };
}
