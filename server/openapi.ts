/**
 * The OpenAPI 3.1 description served at /openapi.json. Request bodies and query parameters are
 * generated from the same zod schemas that validate requests (server/schemas.ts); this file adds
 * paths, summaries and responses. docs/api.md is the prose companion.
 */
import { z } from 'zod';
import * as S from './schemas.ts';

type JsonSchema = Record<string, unknown>;

interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query';
  readonly required: boolean;
  readonly schema: JsonSchema;
  readonly description?: string;
}

interface Operation {
  readonly summary: string;
  readonly tags: readonly string[];
  readonly description?: string;
  readonly parameters?: readonly Parameter[];
  readonly requestBody?: { readonly required: boolean; readonly content: Record<string, { readonly schema: JsonSchema }> };
  readonly responses: Record<string, { readonly description: string }>;
  readonly security?: readonly Record<string, readonly string[]>[];
}

export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly paths: Record<string, Partial<Record<'get' | 'post' | 'put' | 'delete', Operation>>>;
  readonly components: { readonly securitySchemes: Record<string, JsonSchema>; readonly schemas: Record<string, JsonSchema> };
}

const schemaOf = (s: z.ZodType): JsonSchema => {
  const { $schema: _, ...rest } = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return rest;
};
const json = (s: z.ZodType) => ({ required: true, content: { 'application/json': { schema: schemaOf(s) } } });
const path = (name: string, description?: string): Parameter => ({ name, in: 'path', required: true, schema: { type: 'string' }, description });
const query = (s: z.ZodObject): Parameter[] =>
  Object.entries((schemaOf(s).properties ?? {}) as Record<string, JsonSchema>).map(([name, schema]) => ({ name, in: 'query', required: false, schema }));

const ERR = { '400': { description: 'invalid input; message names the field' } };
const AUTH = { security: [{ bearer: [] }], responses: { '401': { description: 'missing or wrong API key (when one is configured)' } } };
/** A mutating operation: bearer auth + 401, plus the given responses. */
const mutating = (op: Operation): Operation => ({ ...op, security: AUTH.security, responses: { ...op.responses, ...AUTH.responses, ...ERR } });

export const OPENAPI_DOCUMENT: OpenApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'LiFT zoo',
    version: '0.1.0',
    description: 'LoRA-zoo registry and inference server: few-shot tasks, adapter fitting under a learned LiFT prior, batched prediction, retrieval, PEFT import/export. Errors are { error: { code, message } }.',
  },
  paths: {
    '/healthz': { get: { summary: 'Liveness', tags: ['ops'], responses: { '200': { description: 'process is up' } } } },
    '/readyz': { get: { summary: 'Readiness: backbones loaded and registry open', tags: ['ops'], responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } } } },
    '/metrics': { get: { summary: 'Prometheus metrics', tags: ['ops'], responses: { '200': { description: 'text exposition format' } } } },
    '/openapi.json': { get: { summary: 'This document', tags: ['ops'], responses: { '200': { description: 'OpenAPI 3.1' } } } },
    '/v1/tasks': {
      post: mutating({
        summary: 'Create a few-shot task', tags: ['tasks'],
        description: 'JSON body, or the JSONL task-file format (docs/task-file.md) as an application/x-ndjson body (task id from ?id= or the task name) or as { jsonl, id? }. Every label needs ≥ 1 support example; ≥ 2 labels.',
        requestBody: { required: true, content: { 'application/json': { schema: schemaOf(S.TaskCreate) }, 'application/x-ndjson': { schema: { type: 'string' } } } },
        parameters: query(S.TaskFileQuery),
        responses: { '201': { description: 'the task (or { tasks } for JSONL)' }, '409': { description: 'task id exists' }, '413': { description: 'body too large' } },
      }),
      get: { summary: 'List tasks (paged)', tags: ['tasks'], parameters: query(S.TaskList), responses: { '200': { description: '{ items, next_page_token }' }, ...ERR } },
    },
    '/v1/tasks/{id}': {
      get: { summary: 'Get a task', tags: ['tasks'], parameters: [path('id')], responses: { '200': { description: 'task' }, '404': { description: 'no such task' } } },
      delete: mutating({ summary: 'Delete a task and its examples (adapters are kept)', tags: ['tasks'], parameters: [path('id')], responses: { '204': { description: 'deleted' }, '404': { description: 'no such task' } } }),
    },
    '/v1/tasks/{id}/examples': {
      get: { summary: "A task's examples", tags: ['tasks'], parameters: [path('id'), ...query(S.ExampleList)], responses: { '200': { description: '{ items }' }, '404': { description: 'no such task' } } },
    },
    '/v1/tasks/{id}/fit': {
      post: mutating({
        summary: 'Fit an adapter on the task support set and store it as a new version', tags: ['adapters'], parameters: [path('id')],
        requestBody: json(S.FitBody),
        responses: { '201': { description: '{ adapter, created, fit_ms, support_accuracy, alias }' }, '200': { description: 'identical adapter already stored' }, '404': { description: 'no such task' }, '409': { description: 'LiFT method without a trained prior' } },
      }),
    },
    '/v1/tasks/{id}/compare': {
      post: mutating({
        summary: 'Compare methods on the task: accuracy, NLL, fit ms on a labelled query set', tags: ['adapters'], parameters: [path('id')],
        requestBody: json(S.CompareBody), responses: { '200': { description: '{ rows: [{ method, accuracy, nll, fit_ms, error? }] }' }, '404': { description: 'no such task' } },
      }),
    },
    '/v1/predict': {
      post: mutating({
        summary: 'Predict with an adapter (requests for different adapters are batched)', tags: ['predict'],
        requestBody: json(S.PredictBody), responses: { '200': { description: '{ adapter, predictions: [{ label, probabilities, uncertainty? }] }' }, '404': { description: 'unknown adapter' } },
      }),
    },
    '/v1/retrieve': {
      post: mutating({
        summary: 'Choose zoo adapters for the inputs by task-embedding cosine, and predict with the best', tags: ['predict'],
        requestBody: json(S.RetrieveBody), responses: { '200': { description: '{ candidates, result }' }, '409': { description: 'no zoo adapters' } },
      }),
    },
    '/v1/adapters': {
      get: { summary: 'Search adapters (by task, method, name, alias, base model; paged)', tags: ['registry'], parameters: query(S.AdapterList), responses: { '200': { description: '{ items, next_page_token }' }, ...ERR } },
    },
    '/v1/adapters/import': {
      post: mutating({ summary: 'Import a PEFT adapter', tags: ['registry'], requestBody: json(S.PeftImport), responses: { '201': { description: '{ adapter, created, alias }' }, '200': { description: 'identical adapter already stored' } } }),
    },
    '/v1/adapters/{id}': { get: { summary: 'Adapter metadata, parameter sizes and aliases', tags: ['registry'], parameters: [path('id')], responses: { '200': { description: 'adapter' }, '404': { description: 'no such adapter' } } } },
    '/v1/adapters/{id}/lineage': { get: { summary: 'Ancestors (adapters and prior)', tags: ['registry'], parameters: [path('id')], responses: { '200': { description: '{ nodes, edges }' }, '404': { description: 'no such adapter' } } } },
    '/v1/adapters/{id}/peft': { get: { summary: 'Export in PEFT layout as JSON (safetensors base64)', tags: ['registry'], parameters: [path('id')], responses: { '200': { description: '{ "adapter_config.json": {...}, "adapter_model.safetensors": "<base64>" }' }, '404': { description: 'no such adapter' } } } },
    '/v1/adapters/{id}/peft/{file}': { get: { summary: 'One PEFT file, raw', tags: ['registry'], parameters: [path('id'), path('file', 'adapter_config.json or adapter_model.safetensors')], responses: { '200': { description: 'file bytes' }, '404': { description: 'no such adapter or file' } } } },
    '/v1/adapters/{name}/aliases': { get: { summary: "An adapter name's aliases", tags: ['registry'], parameters: [path('name')], responses: { '200': { description: '{ items }' } } } },
    '/v1/adapters/{name}/aliases/{alias}': {
      put: mutating({ summary: 'Point an alias at a version', tags: ['registry'], parameters: [path('name'), path('alias')], requestBody: json(S.AliasBody), responses: { '200': { description: 'alias' }, '404': { description: 'no such version' } } }),
      delete: mutating({ summary: 'Remove an alias', tags: ['registry'], parameters: [path('name'), path('alias')], responses: { '204': { description: 'deleted' }, '404': { description: 'no such alias' } } }),
    },
    '/v1/base-models': { get: { summary: 'Registered backbones', tags: ['registry'], responses: { '200': { description: '{ items }' } } } },
    '/v1/priors': { get: { summary: 'Learned priors (newest first, paged)', tags: ['registry'], parameters: query(S.PriorList), responses: { '200': { description: '{ items, next_page_token }' } } } },
    '/v1/priors/{id}': { get: { summary: 'Prior metadata', tags: ['registry'], parameters: [path('id')], responses: { '200': { description: 'prior' }, '404': { description: 'no such prior' } } } },
    '/v1/methods': { get: { summary: 'Fit methods this server offers', tags: ['adapters'], responses: { '200': { description: '{ items: [{ name, needs_prior, uncertainty }] }' } } } },
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'LIFT_API_KEY; required on every non-GET route when configured' } },
    schemas: {
      Error: { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } } },
    },
  },
};
