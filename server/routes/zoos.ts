/**
 * Zoos (named, versioned sets of adapters), training priors from them as jobs, and runs.
 */
import { z } from 'zod';
import { RUN_KINDS, RUN_STATUSES } from '../../registry/types.ts';
import { TrainPriorParams } from '../../service/job-handlers.ts';
import { priorConfig } from '../../service/train-zoo-prior.ts';
import { promoteAdapters, zooEntries } from '../../service/zoos.ts';
import { formatPage, formatRun, formatZoo, formatZooChange, formatZooMember, formatZooVersion } from '../format.ts';
import * as R from '../responses.ts';
import { json, noContent, ok, route } from '../route.ts';
import { AdapterRef, IdParams, Page, zooName } from '../schemas.ts';
import { accepted } from './jobs.ts';
import { E400, E404, E409 } from './errors.ts';

export const ZooParams = z.object({ zoo: zooName });
export const ZooMemberParams = ZooParams.extend({ adapter_id: z.string().min(1) });
export const ZooCreate = z.strictObject({ name: zooName, base_model: z.string().min(1), description: z.string().max(2000).optional() });
export const ZooList = Page.extend({ base_model: z.string().min(1).optional() });
export const ZooMembersQuery = z.object({ version: z.coerce.number().int().min(1).optional().describe('default: the latest version') });
export const ZooPromote = z.strictObject({
  adapters: z.array(AdapterRef).min(1).max(1000).describe('adapters to add: each by id, name (+ alias/version) or task (its default adapter)'),
  description: z.string().max(2000).optional().describe('used when this call creates the zoo'),
});
export const RunList = Page.extend({
  kind: z.enum(RUN_KINDS).optional(),
  status: z.enum(RUN_STATUSES).optional(),
  zoo: z.string().min(1).optional().describe('runs that read or wrote this zoo'),
  prior_id: z.string().min(1).optional(),
  adapter_id: z.string().min(1).optional(),
  task_id: z.string().min(1).optional(),
});

const NO_ZOO = E404('no such zoo');

export const zooRoutes = [
  route({
    method: 'get', path: '/v1/zoos', operationId: 'listZoos', tags: ['zoos'],
    summary: 'Zoos, by name (filter by base model; paged)',
    request: { query: ZooList },
    responses: { 200: { description: 'one page of zoos', schema: R.ZooPage }, ...E400, ...E404('no such base model') },
    handler: async ({ query: q }, { runtime: { store } }) => {
      const filter = { baseModelSha: q.base_model ? (await store.getBaseModel(q.base_model)).sha256 : undefined };
      return ok(formatPage(await store.listZoos(filter, q.page_token, q.max_results), formatZoo));
    },
  }),
  route({
    method: 'post', path: '/v1/zoos', operationId: 'createZoo', tags: ['zoos'],
    summary: 'Create an empty zoo for a base model (promoting into a new name creates it too)',
    request: { body: { 'application/json': ZooCreate } },
    responses: {
      201: { description: 'the new zoo', schema: R.ZooJson }, 200: { description: 'the zoo already existed', schema: R.ZooJson },
      ...E400, ...E404('no such base model'), ...E409('the name holds a zoo of another base model'),
    },
    handler: async ({ body: b }, { runtime: { store } }) => {
      const { value, created } = await store.createZoo({ name: b.name, baseModel: b.base_model, description: b.description });
      return json(created ? 201 : 200, formatZoo(value));
    },
  }),
  route({
    method: 'get', path: '/v1/zoos/{zoo}', operationId: 'getZoo', tags: ['zoos'],
    summary: 'A zoo and its membership versions',
    request: { params: ZooParams },
    responses: { 200: { description: 'the zoo', schema: R.ZooDetailJson }, ...NO_ZOO },
    handler: async ({ params }, { runtime: { store } }) =>
      ok({ ...formatZoo(await store.getZoo(params.zoo)), versions: (await store.listZooVersions(params.zoo)).map(formatZooVersion) }),
  }),
  route({
    method: 'delete', path: '/v1/zoos/{zoo}', operationId: 'deleteZoo', tags: ['zoos'],
    summary: 'Delete a zoo and its membership history (adapters and priors are kept)',
    request: { params: ZooParams },
    responses: { 204: { description: 'deleted' }, ...NO_ZOO },
    handler: async ({ params }, { runtime: { store } }) => {
      await store.deleteZoo(params.zoo);
      return noContent();
    },
  }),
  route({
    method: 'get', path: '/v1/zoos/{zoo}/members', operationId: 'listZooMembers', tags: ['zoos'],
    summary: 'Members of a zoo version: adapter, task, labels, method, base model',
    request: { params: ZooParams, query: ZooMembersQuery },
    responses: { 200: { description: 'the members', schema: R.ZooMembersJson }, ...E400, ...E404('no such zoo or version') },
    handler: async ({ params, query }, { runtime }) => {
      const { zoo, version, entries } = await zooEntries(runtime, params.zoo, query.version);
      return ok({ zoo: zoo.name, version, items: entries.map((e) => formatZooMember(e.member, e.adapter)) });
    },
  }),
  route({
    method: 'post', path: '/v1/zoos/{zoo}/members', operationId: 'promoteToZoo', tags: ['zoos'],
    summary: 'Promote fitted adapters into a zoo (one new version; created on first use)',
    description: 'Each adapter needs its task (for the task embedding) and a head; a newer adapter of a member\'s task replaces it.',
    request: { params: ZooParams, body: { 'application/json': ZooPromote } },
    responses: {
      201: { description: 'a new zoo version', schema: R.ZooChangeJson }, 200: { description: 'every adapter was already a member', schema: R.ZooChangeJson },
      ...E400, ...E404('no such adapter'), ...E409('an adapter without task or head, or of another base model'),
    },
    handler: async ({ params, body }, { runtime, resolver }) => {
      const change = await promoteAdapters(runtime, resolver, params.zoo, body.adapters, { description: body.description });
      return json(change.changed ? 201 : 200, formatZooChange(change));
    },
  }),
  route({
    method: 'delete', path: '/v1/zoos/{zoo}/members/{adapter_id}', operationId: 'removeFromZoo', tags: ['zoos'],
    summary: 'Remove a member (a new version)',
    request: { params: ZooMemberParams },
    responses: { 200: { description: 'the new version', schema: R.ZooChangeJson }, ...E404('no such zoo or member') },
    handler: async ({ params }, { runtime: { store } }) => ok(formatZooChange(await store.changeZooMembers(params.zoo, [], [params.adapter_id]))),
  }),
  route({
    method: 'post', path: '/v1/priors', operationId: 'trainPrior', tags: ['zoos', 'jobs'],
    summary: "Train a LiFT prior from a zoo version's tasks, as a job",
    description: 'Answers 202 with the job and Location: /v1/jobs/{id}. The prior is stored as lift/<zoo> with config.zoo, config.zoo_version, config.run_id and every task in training_task_ids.',
    request: { body: { 'application/json': TrainPriorParams } },
    responses: { 202: { description: 'the queued job', schema: R.JobAccepted }, ...E400, ...NO_ZOO },
    handler: async ({ body }, { runtime: { store }, jobs }) => {
      // Answer 404 / 400 now rather than with a failed job later.
      await store.getZoo(body.zoo);
      priorConfig(body.config);
      return accepted(await jobs.submit('train-prior', body));
    },
  }),
  route({
    method: 'get', path: '/v1/runs', operationId: 'listRuns', tags: ['runs'],
    summary: 'Runs (train, tune, eval, compare, fit), newest first; filter by kind, status, zoo, prior, adapter, task',
    request: { query: RunList },
    responses: { 200: { description: 'one page of runs', schema: R.RunPage }, ...E400 },
    handler: async ({ query: q }, { runtime: { store } }) => ok(formatPage(await store.listRuns({
      kind: q.kind, status: q.status, zoo: q.zoo, priorId: q.prior_id, adapterId: q.adapter_id, taskId: q.task_id,
    }, q.page_token, q.max_results), formatRun)),
  }),
  route({
    method: 'get', path: '/v1/runs/{id}', operationId: 'getRun', tags: ['runs'],
    summary: 'A run: parameters, metrics, duration, registry versions involved, code version',
    request: { params: IdParams },
    responses: { 200: { description: 'the run', schema: R.RunJson }, ...E404('no such run') },
    handler: async ({ params }, { runtime: { store } }) => ok(formatRun(await store.getRun(params.id))),
  }),
];
