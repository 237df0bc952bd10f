/**
 * Read-only registry browsing: base models, priors, and the table of fit methods.
 */
import { Router } from 'express';
import { METHOD_NAMES, methodNeedsPrior, POSTERIOR_METHODS } from '../../service/methods.ts';
import type { ServerContext } from '../context.ts';
import { formatBaseModel, formatPage, formatPrior } from '../format.ts';
import { IdParams, PriorList } from '../schemas.ts';
import { parsed, validate } from '../validate.ts';

export function registryRoutes(ctx: ServerContext): Router {
  const r = Router();
  const { store } = ctx.runtime;

  r.get('/v1/base-models', async (_req, res) => {
    res.json({ items: (await store.listBaseModels()).map(formatBaseModel) });
  });

  r.get('/v1/priors', validate({ query: PriorList }), async (_req, res) => {
    const q = parsed(res, 'query', PriorList);
    const filter = { name: q.name, baseModelSha: q.base_model ? (await store.getBaseModel(q.base_model)).sha256 : undefined };
    res.json(formatPage(await store.listPriors(filter, q.page_token, q.max_results), formatPrior));
  });

  r.get('/v1/priors/:id', validate({ params: IdParams }), async (_req, res) => {
    const { weights: _w, means: _m, variances: _v, ...summary } = await store.getPrior(parsed(res, 'params', IdParams).id);
    res.json(formatPrior(summary));
  });

  r.get('/v1/methods', (_req, res) => {
    res.json({
      items: METHOD_NAMES.map((name) => ({ name, needs_prior: methodNeedsPrior(name), uncertainty: POSTERIOR_METHODS.has(name) })),
    });
  });

  return r;
}
