/**
 * Task routes: create (JSON, or the JSONL task-file format), list, get, examples, delete; and
 * the task-scoped use cases fit and compare.
 */
import { z } from 'zod';
import type { JsonObject } from '../../registry/types.ts';
import { ValidationError } from '../../registry/errors.ts';
import { checkMethodNames, compareMethods } from '../../service/compare.ts';
import { fitAdapter } from '../../service/fit.ts';
import { AUTO_METHOD } from '../../service/auto.ts';
import { methodName } from '../../service/methods.ts';
import { createTask, createTasksFromFile, listExamples } from '../../service/tasks.ts';
import { checkTaskWork } from '../../service/work-bounds.ts';
import { formatCompare, formatExample, formatFit, formatPage, formatTask } from '../format.ts';
import * as R from '../responses.ts';
import { json, noContent, ok, route } from '../route.ts';
import { CompareBody, ExampleList, FitBody, IdParams, TaskCreate, TaskFileBody, TaskFileQuery, TaskList } from '../schemas.ts';
import { E400, E404, E409 } from './errors.ts';
import { accepted } from './jobs.ts';

const NOT_FOUND = E404('no such task');

/**
 * A task file over HTTP carries at most `max` examples (non-empty lines), like a JSON body; counted
 * before any line is parsed, so a 10 MB file of tiny lines costs a scan, not 250,000 parses.
 */
function requireFileExamples(jsonl: string, max: number): void {
  let lines = 0;
  for (let at = 0; at < jsonl.length;) {
    const end = jsonl.indexOf('\n', at);
    const stop = end < 0 ? jsonl.length : end;
    if (jsonl.slice(at, stop).trim() !== '' && ++lines > max) {
      throw new ValidationError(`task file: expected at most ${max} examples per request, got more (line ${jsonl.slice(0, at).split('\n').length})`);
    }
    at = stop + 1;
  }
}

export const taskRoutes = [
  route({
    method: 'post', path: '/v1/tasks', operationId: 'createTask', tags: ['tasks'],
    summary: 'Create a few-shot task',
    description: 'JSON body, or the JSONL task-file format (docs/task-file.md) as an application/x-ndjson body (task id from ?id= or the task name) or as JSON { jsonl, id? }. Every label needs ≥ 1 support example; ≥ 2 labels.',
    request: {
      query: TaskFileQuery,
      body: { 'application/json': z.union([TaskCreate, TaskFileBody]), 'application/x-ndjson': z.string().min(1).describe('JSONL task file') },
    },
    responses: { 201: { description: 'the task, or { tasks } for a task file', schema: z.union([R.TaskJson, R.TaskFileCreated]) }, ...E400, ...E409('task id exists') },
    handler: async ({ query, body }, { runtime }) => {
      if (typeof body === 'string' || 'jsonl' in body) {
        const file = typeof body === 'string' ? { jsonl: body, id: query.id } : body;
        requireFileExamples(file.jsonl, runtime.limits.maxInputs);
        const tasks = await createTasksFromFile(runtime, file.jsonl, file.id);
        return json(201, { tasks: tasks.map(formatTask) });
      }
      return json(201, formatTask(await createTask(runtime, body)));
    },
  }),
  route({
    method: 'get', path: '/v1/tasks', operationId: 'listTasks', tags: ['tasks'],
    summary: 'List tasks (paged)',
    request: { query: TaskList },
    responses: { 200: { description: 'one page of tasks', schema: R.TaskPage }, ...E400 },
    handler: async ({ query: q }, { runtime: { store } }) => ok(formatPage(await store.listTasks({ modality: q.modality }, q.page_token, q.max_results), formatTask)),
  }),
  route({
    method: 'get', path: '/v1/tasks/{id}', operationId: 'getTask', tags: ['tasks'],
    summary: 'Get a task',
    request: { params: IdParams },
    responses: { 200: { description: 'the task', schema: R.TaskJson }, ...NOT_FOUND },
    handler: async ({ params }, { runtime: { store } }) => ok(formatTask(await store.getTask(params.id))),
  }),
  route({
    method: 'get', path: '/v1/tasks/{id}/examples', operationId: 'listTaskExamples', tags: ['tasks'],
    summary: "A task's examples",
    request: { params: IdParams, query: ExampleList },
    responses: { 200: { description: 'the examples', schema: R.ExampleItems }, ...E400, ...NOT_FOUND },
    handler: async ({ params, query }, { runtime }) => ok({ items: (await listExamples(runtime, params.id, query.split)).map(formatExample) }),
  }),
  route({
    method: 'delete', path: '/v1/tasks/{id}', operationId: 'deleteTask', tags: ['tasks'],
    summary: 'Delete a task and its examples (adapters are kept)',
    request: { params: IdParams },
    responses: { 204: { description: 'deleted' }, ...NOT_FOUND },
    handler: async ({ params }, { runtime }) => {
      await runtime.store.deleteTask(params.id);
      return noContent();
    },
  }),
  route({
    method: 'post', path: '/v1/tasks/{id}/fit', operationId: 'fitAdapter', tags: ['adapters'],
    summary: 'Fit an adapter on the task support set and store it as a new version',
    description: 'Work (steps x rank x support examples) above the server\'s inline bound answers 400 unless `"job": true`, which runs the fit as a cancellable job (202 + Location: /v1/jobs/{id}); above the job bound, 400.',
    request: { params: IdParams, body: { 'application/json': FitBody } },
    responses: {
      201: { description: 'a new adapter version', schema: R.FitJson },
      200: { description: 'an identical adapter was already stored', schema: R.FitJson },
      202: { description: 'the queued fit job (with "job": true)', schema: R.JobAccepted },
      ...E400, ...E404('no such task, prior or zoo'), ...E409('LiFT method without a trained prior; adapter cannot join the zoo'),
    },
    handler: async ({ params, body }, { runtime, jobs }) => {
      const { method, seed, name, alias, posterior_samples, prior, zoo, job, ...options } = body;
      if (job) {
        // Answer 404 / 400 now rather than with a failed job later.
        await runtime.store.getTask(params.id);
        if (method !== undefined && method !== AUTO_METHOD) methodName(method);
        await checkTaskWork(runtime, params.id, { options, methods: 1, scoresQueries: false }, 'job');
        return accepted(await jobs.submit('fit', { task_id: params.id, method, options, seed, name, alias, posterior_samples, prior, zoo } as JsonObject));
      }
      const result = await fitAdapter(runtime, params.id, { method, options, seed, name, alias, posteriorSamples: posterior_samples, prior, zoo });
      return json(result.created ? 201 : 200, formatFit(result));
    },
  }),
  route({
    method: 'post', path: '/v1/tasks/{id}/compare', operationId: 'compareMethods', tags: ['adapters'],
    summary: 'Compare methods on the task: accuracy, NLL, fit ms and calibration on a labelled query set',
    description: 'With `"job": true` the comparison runs as a job (202 + Location: /v1/jobs/{id}); the job\'s result is the 200 body.',
    request: { params: IdParams, body: { 'application/json': CompareBody } },
    responses: {
      200: { description: 'one row per method', schema: R.CompareJson }, 202: { description: 'the queued compare job', schema: R.JobAccepted },
      ...E400, ...E404('no such task or prior'), ...E409('the named prior belongs to another base model'),
    },
    handler: async ({ params, body }, { runtime, jobs }) => {
      const { methods, query, seed, prior, job, ...options } = body;
      if (job) {
        // Answer 404 / 400 now rather than with a failed job later.
        await runtime.store.getTask(params.id);
        checkMethodNames(methods ?? [AUTO_METHOD]);
        await checkTaskWork(runtime, params.id, { options, methods: methods?.length ?? 1, scoresQueries: true, queries: query?.length }, 'job');
        return accepted(await jobs.submit('compare', { task_id: params.id, methods, query, seed, prior, options } as JsonObject));
      }
      return ok(formatCompare(await compareMethods(runtime, params.id, { methods, query, seed, prior, options })));
    },
  }),
];
