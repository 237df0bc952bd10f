/**
 * Operations: liveness, readiness, Prometheus metrics and the OpenAPI document.
 */
import { openApiDocument } from '../openapi.ts';
import * as R from '../responses.ts';
import { json, ok, route } from '../route.ts';

export const opsRoutes = [
  route({
    method: 'get', path: '/healthz', operationId: 'healthz', tags: ['ops'], access: 'probe',
    summary: 'Liveness: the process answers',
    responses: { 200: { description: 'process is up', schema: R.Health } },
    handler: () => ok({ status: 'ok' }),
  }),
  route({
    method: 'get', path: '/readyz', operationId: 'readyz', tags: ['ops'], access: 'probe',
    summary: 'Readiness: backbones loaded, registry open, not shutting down',
    responses: { 200: { description: 'ready', schema: R.Readiness }, 503: { description: 'not ready', schema: R.Readiness } },
    handler: async (_in, ctx) => {
      const { ready, shuttingDown } = ctx.state;
      let registry = true;
      try { await ctx.runtime.store.listBaseModels(); } catch { registry = false; }
      const up = ready && registry && !shuttingDown;
      return json(up ? 200 : 503, { status: up ? 'ready' : 'not ready', backbones_loaded: ready, registry_open: registry, shutting_down: shuttingDown });
    },
  }),
  route({
    method: 'get', path: '/metrics', operationId: 'metrics', tags: ['ops'], access: 'metrics',
    summary: 'Prometheus metrics',
    responses: { 200: { description: 'Prometheus text exposition format', type: 'text/plain' } },
    handler: async (_in, { metrics: { registry } }) => ok(await registry.metrics(), { 'Content-Type': registry.contentType }),
  }),
  route({
    method: 'get', path: '/openapi.json', operationId: 'openapi', tags: ['ops'], access: 'docs',
    summary: 'This API described in OpenAPI 3.1',
    responses: { 200: { description: 'the OpenAPI document', schema: R.OpenApiJson } },
    handler: (_in, { config }) => ok(openApiDocument(config)),
  }),
];
