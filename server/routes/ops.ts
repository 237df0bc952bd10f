/**
 * Operations: liveness, readiness, Prometheus metrics and the OpenAPI document.
 */
import { Router } from 'express';
import type { ServerContext } from '../context.ts';
import { OPENAPI_DOCUMENT } from '../openapi.ts';

export function opsRoutes(ctx: ServerContext): Router {
  const r = Router();

  /** Liveness: the process answers. */
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  /** Readiness: backbones loaded, registry open, not shutting down. */
  r.get('/readyz', async (_req, res) => {
    const { ready, shuttingDown } = ctx.state;
    let registry = true;
    try { await ctx.runtime.store.listBaseModels(); } catch { registry = false; }
    const ok = ready && registry && !shuttingDown;
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not ready', backbones_loaded: ready, registry_open: registry, shutting_down: shuttingDown });
  });

  r.get('/metrics', async (_req, res) => {
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });

  r.get('/openapi.json', (_req, res) => {
    res.json(OPENAPI_DOCUMENT);
  });

  return r;
}
