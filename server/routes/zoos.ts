/**
 * Zoos (named, versioned sets of adapters), training priors from them as jobs, and runs.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { RunKind, RunStatus } from '../../registry/types.ts';
import { RUN_KINDS, RUN_STATUSES } from '../../registry/types.ts';
import { TrainPriorParams } from '../../service/job-handlers.ts';
import { priorConfig } from '../../service/train-zoo-prior.ts';
import { promoteAdapters, zooEntries } from '../../service/zoos.ts';
import type { ServerContext } from '../context.ts';
import { formatPage, formatRun, formatZoo, formatZooChange, formatZooMember, formatZooVersion } from '../format.ts';
import { AdapterRef, IdParams, Page, zooName } from '../schemas.ts';
import { parsed, validate } from '../validate.ts';
import { accepted } from './jobs.ts';

export const ZooParams = z.object({ zoo: zooName });
export const ZooMemberParams = ZooParams.extend({ adapter_id: z.string().min(1) });
export const ZooCreate = z.strictObject({ name: zooName, base_model: z.string().min(1), description: z.string().max(2000).optional() });
export const ZooList = Page.extend({ base_model: z.string().min(1).optional() });
export const ZooMembersQuery = z.object({ version: z.coerce.number().int().min(1).optional() });
export const ZooPromote = z.strictObject({
  adapters: z.array(AdapterRef).min(1).max(1000).describe('adapters to add: each by id, name (+ alias/version) or task (its default adapter)'),
  description: z.string().max(2000).optional().describe('used when this call creates the zoo'),
});
export const RunList = Page.extend({
  kind: z.enum(RUN_KINDS as [string, ...string[]]).optional(),
  status: z.enum(RUN_STATUSES as [string, ...string[]]).optional(),
  zoo: z.string().min(1).optional(),
  prior_id: z.string().min(1).optional(),
  adapter_id: z.string().min(1).optional(),
  task_id: z.string().min(1).optional(),
});

export function zooRoutes(ctx: ServerContext): Router {
  const r = Router();
  const { runtime: rt, resolver } = ctx;
  const { store } = rt;

  r.get('/v1/zoos', validate({ query: ZooList }), async (_req, res) => {
    const q = parsed(res, 'query', ZooList);
    const filter = { baseModelSha: q.base_model ? (await store.getBaseModel(q.base_model)).sha256 : undefined };
    res.json(formatPage(await store.listZoos(filter, q.page_token, q.max_results), formatZoo));
  });

  r.post('/v1/zoos', validate({ body: ZooCreate }), async (_req, res) => {
    const b = parsed(res, 'body', ZooCreate);
    const { value, created } = await store.createZoo({ name: b.name, baseModel: b.base_model, description: b.description });
    res.status(created ? 201 : 200).json(formatZoo(value));
  });

  r.get('/v1/zoos/:zoo', validate({ params: ZooParams }), async (_req, res) => {
    const name = parsed(res, 'params', ZooParams).zoo;
    res.json({ ...formatZoo(await store.getZoo(name)), versions: (await store.listZooVersions(name)).map(formatZooVersion) });
  });

  r.delete('/v1/zoos/:zoo', validate({ params: ZooParams }), async (_req, res) => {
    await store.deleteZoo(parsed(res, 'params', ZooParams).zoo);
    res.status(204).end();
  });

  r.get('/v1/zoos/:zoo/members', validate({ params: ZooParams, query: ZooMembersQuery }), async (_req, res) => {
    const { zoo, version, entries } = await zooEntries(rt, parsed(res, 'params', ZooParams).zoo, parsed(res, 'query', ZooMembersQuery).version);
    res.json({ zoo: zoo.name, version, items: entries.map((e) => formatZooMember(e.member, e.adapter)) });
  });

  r.post('/v1/zoos/:zoo/members', validate({ params: ZooParams, body: ZooPromote }), async (_req, res) => {
    const b = parsed(res, 'body', ZooPromote);
    const change = await promoteAdapters(rt, resolver, parsed(res, 'params', ZooParams).zoo, b.adapters, { description: b.description });
    res.status(change.changed ? 201 : 200).json(formatZooChange(change));
  });

  r.delete('/v1/zoos/:zoo/members/:adapter_id', validate({ params: ZooMemberParams }), async (_req, res) => {
    const p = parsed(res, 'params', ZooMemberParams);
    res.json(formatZooChange(await store.changeZooMembers(p.zoo, [], [p.adapter_id])));
  });

  /** Train a LiFT prior from a zoo version, as a job. */
  r.post('/v1/priors', validate({ body: TrainPriorParams }), async (_req, res) => {
    const b = parsed(res, 'body', TrainPriorParams);
    // Answer 404 / 400 now rather than with a failed job later.
    await store.getZoo(b.zoo);
    priorConfig(b.config);
    accepted(res, await ctx.jobs.submit('train-prior', b));
  });

  r.get('/v1/runs', validate({ query: RunList }), async (_req, res) => {
    const q = parsed(res, 'query', RunList);
    const filter = {
      kind: q.kind as RunKind | undefined, status: q.status as RunStatus | undefined, zoo: q.zoo,
      priorId: q.prior_id, adapterId: q.adapter_id, taskId: q.task_id,
    };
    res.json(formatPage(await store.listRuns(filter, q.page_token, q.max_results), formatRun));
  });

  r.get('/v1/runs/:id', validate({ params: IdParams }), async (_req, res) => {
    res.json(formatRun(await store.getRun(parsed(res, 'params', IdParams).id)));
  });

  return r;
}
