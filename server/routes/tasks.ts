/**
 * Task routes: create (JSON, or the JSONL task-file format), list, get, examples, delete; and
 * the task-scoped use cases fit and compare.
 */
import { Router } from 'express';
import { z } from 'zod';
import { compareMethods } from '../../service/compare.ts';
import { fitAdapter } from '../../service/fit.ts';
import { createTask, createTasksFromFile, deleteTask, getTask, listExamples, listTasks } from '../../service/tasks.ts';
import type { ServerContext } from '../context.ts';
import { formatCompare, formatExample, formatFit, formatPage, formatTask } from '../format.ts';
import { CompareBody, ExampleList, FitBody, IdParams, TaskCreate, TaskFileQuery, TaskList } from '../schemas.ts';
import { parsed, parseWith, validate } from '../validate.ts';

export const JSONL_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/x-jsonlines'];
const TaskFileBody = z.strictObject({ jsonl: z.string().min(1), id: TaskFileQuery.shape.id });

const isJsonlField = (body: unknown): boolean => typeof body === 'object' && body !== null && 'jsonl' in body;

export function taskRoutes(ctx: ServerContext): Router {
  const r = Router();
  const { runtime } = ctx;

  /** JSON task, JSONL text body (application/x-ndjson), or JSON `{ jsonl, id? }`. */
  r.post('/v1/tasks', async (req, res) => {
    if (typeof req.body === 'string' || isJsonlField(req.body)) {
      const file = typeof req.body === 'string'
        ? { jsonl: req.body, id: parseWith(TaskFileQuery, req.query, 'query').id }
        : parseWith(TaskFileBody, req.body, 'body');
      const tasks = await createTasksFromFile(runtime, file.jsonl, file.id);
      res.status(201).json({ tasks: tasks.map(formatTask) });
      return;
    }
    const task = await createTask(runtime, parseWith(TaskCreate, req.body ?? {}, 'body'));
    res.status(201).json(formatTask(task));
  });

  r.get('/v1/tasks', validate({ query: TaskList }), async (_req, res) => {
    const q = parsed(res, 'query', TaskList);
    res.json(formatPage(await listTasks(runtime, { modality: q.modality }, q.page_token, q.max_results), formatTask));
  });

  r.get('/v1/tasks/:id', validate({ params: IdParams }), async (_req, res) => {
    res.json(formatTask(await getTask(runtime, parsed(res, 'params', IdParams).id)));
  });

  r.get('/v1/tasks/:id/examples', validate({ params: IdParams, query: ExampleList }), async (_req, res) => {
    const examples = await listExamples(runtime, parsed(res, 'params', IdParams).id, parsed(res, 'query', ExampleList).split);
    res.json({ items: examples.map(formatExample) });
  });

  r.delete('/v1/tasks/:id', validate({ params: IdParams }), async (_req, res) => {
    await deleteTask(runtime, parsed(res, 'params', IdParams).id);
    res.status(204).end();
  });

  r.post('/v1/tasks/:id/fit', validate({ params: IdParams, body: FitBody }), async (_req, res) => {
    const { method, seed, name, alias, posterior_samples, prior, zoo, ...options } = parsed(res, 'body', FitBody);
    const result = await fitAdapter(runtime, parsed(res, 'params', IdParams).id, { method, options, seed, name, alias, posteriorSamples: posterior_samples, prior, zoo });
    res.status(result.created ? 201 : 200).json(formatFit(result));
  });

  r.post('/v1/tasks/:id/compare', validate({ params: IdParams, body: CompareBody }), async (_req, res) => {
    const { methods, query, seed, prior, ...options } = parsed(res, 'body', CompareBody);
    res.json(formatCompare(await compareMethods(runtime, parsed(res, 'params', IdParams).id, { methods, query, seed, prior, options })));
  });

  return r;
}
