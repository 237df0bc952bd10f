/**
 * /openapi.json, generated from the route table by zod-openapi: paths, operation ids, request
 * parameters and bodies, and responses per status all come from the routes' own schemas. The
 * errors every route can meet by its nature (406 for an Accept header that rules out the response
 * type, 401 without the key where server/access.ts requires it, 413/415 for bodies) are added
 * here, so no route has to repeat them. Which operations need the key follows the serving
 * configuration (server/access.ts). docs/api.md is the prose companion.
 */
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import pkg from '../package.json' with { type: 'json' };
import { ErrorBody } from './responses.ts';
import { accessOf, isOpen, type AccessPolicy } from './access.ts';
import { DEFAULT_CONFIG } from './config.ts';
import type { ResponseSpec, Route } from './route.ts';
import { ROUTES } from './route-table.ts';
import { mediaTypes, successTypes } from './router.ts';

const TAGS = [
  { name: 'tasks', description: 'Few-shot tasks and their examples' },
  { name: 'adapters', description: 'Fitting and comparing adapters' },
  { name: 'predict', description: 'Prediction and retrieval' },
  { name: 'registry', description: 'Adapters, aliases, lineage, base models, priors, PEFT' },
  { name: 'ops', description: 'Health, metrics and this document' },
];

const errorResponse = (description: string): ResponseSpec => ({ description, schema: ErrorBody });

/** The 4xx a route meets by its nature, beside those it documents itself. */
function implicitErrors(route: Route, open: boolean): Record<number, ResponseSpec> {
  const { request = {} } = route;
  const out: Record<number, ResponseSpec> = {
    406: errorResponse(`the Accept header rules out ${successTypes(route).join(' and ')}`),
  };
  if (request.params || request.query || request.body) out[400] = errorResponse('invalid input; the message names the field');
  if (!open) out[401] = errorResponse('missing or wrong API key (when the server has one)');
  if (request.body) {
    out[413] = errorResponse('request body too large');
    out[415] = errorResponse(`Content-Type is not ${Object.keys(request.body).join(' or ')}`);
  }
  return out;
}

function operation(route: Route, policy: AccessPolicy): ZodOpenApiOperationObject {
  const { request = {} } = route;
  const open = isOpen(accessOf(route), policy);
  const responses = { ...implicitErrors(route, open), ...route.responses };
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [...route.tags],
    ...(open ? { security: [] } : {}),
    ...(request.params || request.query ? {
      requestParams: { ...(request.params ? { path: request.params } : {}), ...(request.query ? { query: request.query } : {}) },
    } : {}),
    ...(request.body ? {
      requestBody: { required: true, content: Object.fromEntries(Object.entries(request.body).map(([type, schema]) => [type, { schema }])) },
    } : {}),
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)).map(([status, r]) => [status, {
      description: r.description,
      ...(r.schema || r.type ? { content: Object.fromEntries(mediaTypes(r).map((t) => [t, { schema: r.schema ?? { type: 'string' } }])) } : {}),
    }])),
  } as ZodOpenApiOperationObject;
}

/** `{name*}` (several segments) is ours; OpenAPI writes the parameter as `{name}`. */
const openApiPath = (path: string): string => path.replace(/\{(\w+)\*\}/g, '{$1}');

function paths(routes: readonly Route[], policy: AccessPolicy): ZodOpenApiPathsObject {
  const out: Record<string, Record<string, ZodOpenApiOperationObject>> = {};
  for (const route of routes) (out[openApiPath(route.path)] ??= {})[route.method] = operation(route, policy);
  return out;
}

/** One document per access policy (a server has one; tests try several). */
const cached = new Map<string, ReturnType<typeof createDocument>>();

/** The document for a server with this access policy: its open operations say `security: []`. */
export function openApiDocument(policy: AccessPolicy = DEFAULT_CONFIG, routes: readonly Route[] = ROUTES): ReturnType<typeof createDocument> {
  if (routes !== ROUTES) return build(routes, policy);
  const key = `${policy.publicReads}/${policy.publicMetrics}/${policy.publicDocs}`;
  let doc = cached.get(key);
  if (!doc) cached.set(key, doc = build(routes, policy));
  return doc;
}

function build(routes: readonly Route[], policy: AccessPolicy): ReturnType<typeof createDocument> {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'LiFT zoo',
      version: pkg.version,
      description: 'LoRA-zoo registry and inference server: few-shot tasks, adapter fitting under a learned LiFT prior, batched prediction, retrieval, PEFT import/export. Errors are { error: { code, message, request_id } }. When the server has an API key, every operation needs `Authorization: Bearer <key>` except those marked `security: []`.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/' }],
    tags: TAGS,
    security: [{ bearer: [] }],
    paths: paths(routes, policy),
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'LIFT_API_KEY' } },
    },
  });
}
