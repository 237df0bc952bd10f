/**
 * Read-only registry browsing: base models, priors, and the table of fit methods.
 */
import { AUTO_METHOD, AUTO_TITLE } from '../../service/auto.ts';
import { METHOD_FAMILIES, METHOD_NAMES, METHOD_TABLE } from '../../service/methods.ts';
import { formatBaseModel, formatPage, formatPrior } from '../format.ts';
import * as R from '../responses.ts';
import { ok, route } from '../route.ts';
import { IdParams, PriorList } from '../schemas.ts';
import { E400, E404 } from './errors.ts';

export const registryRoutes = [
  route({
    method: 'get', path: '/v1/base-models', operationId: 'listBaseModels', tags: ['registry'],
    summary: 'Registered backbones',
    responses: { 200: { description: 'the base models', schema: R.BaseModelItems } },
    handler: async (_in, { runtime: { store } }) => ok({ items: (await store.listBaseModels()).map(formatBaseModel) }),
  }),
  route({
    method: 'get', path: '/v1/priors', operationId: 'listPriors', tags: ['registry'],
    summary: 'Learned priors (newest first, paged)',
    request: { query: PriorList },
    responses: { 200: { description: 'one page of priors', schema: R.PriorPage }, ...E400, ...E404('no such base model') },
    handler: async ({ query: q }, { runtime: { store } }) => {
      const filter = { name: q.name, baseModelSha: q.base_model ? (await store.getBaseModel(q.base_model)).sha256 : undefined };
      return ok(formatPage(await store.listPriors(filter, q.page_token, q.max_results), formatPrior));
    },
  }),
  route({
    method: 'get', path: '/v1/priors/{id}', operationId: 'getPrior', tags: ['registry'],
    summary: 'Prior metadata',
    request: { params: IdParams },
    responses: { 200: { description: 'the prior', schema: R.PriorJson }, ...E404('no such prior') },
    handler: async ({ params }, { runtime: { store } }) => {
      const { weights: _w, means: _m, variances: _v, ...summary } = await store.getPrior(params.id);
      return ok(formatPrior(summary));
    },
  }),
  route({
    method: 'get', path: '/v1/methods', operationId: 'listMethods', tags: ['adapters'],
    summary: 'Fit methods this server offers',
    responses: { 200: { description: 'the methods', schema: R.MethodItems } },
    handler: () => ok({
      items: [
        // auto is the default: not a method of its own, it picks one of those below per task.
        { name: AUTO_METHOD, title: AUTO_TITLE, family: AUTO_METHOD, family_title: 'Automatic', needs_prior: false, needs_meta_training: false, uncertainty: false, stores: [] },
        ...METHOD_NAMES.map((name) => {
          const m = METHOD_TABLE[name];
          return { name, title: m.title, family: m.family, family_title: METHOD_FAMILIES[m.family], needs_prior: m.needsPrior, needs_meta_training: m.needsMetaTraining, uncertainty: m.uncertainty, stores: [...m.stores] };
        }),
      ],
    }),
  }),
];
