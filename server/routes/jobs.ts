/**
 * Jobs: list, get, cancel, and a server-sent-event stream of a job's changes. Routes that start
 * long work answer 202 with the job and `Location: /v1/jobs/<id>` (see `accepted`).
 */
import { Router, type Response } from 'express';
import { z } from 'zod';
import type { Job } from '../../registry/types.ts';
import { JOB_KINDS, JOB_STATUSES } from '../../registry/types.ts';
import { isFinished } from '../../service/jobs.ts';
import type { ServerContext } from '../context.ts';
import { formatJob, formatPage } from '../format.ts';
import { IdParams, Page } from '../schemas.ts';
import { parsed, validate } from '../validate.ts';

export const JobList = Page.extend({ kind: z.enum(JOB_KINDS as [string, ...string[]]).optional(), status: z.enum(JOB_STATUSES as [string, ...string[]]).optional() });

/** 202 Accepted with the job and where to watch it. */
export function accepted(res: Response, job: Job): void {
  res.status(202).location(`/v1/jobs/${job.id}`).json({ job: formatJob(job) });
}

export function jobRoutes(ctx: ServerContext): Router {
  const r = Router();
  const { store } = ctx.runtime;

  r.get('/v1/jobs', validate({ query: JobList }), async (_req, res) => {
    const q = parsed(res, 'query', JobList);
    res.json(formatPage(await store.listJobs({ kind: q.kind as Job['kind'] | undefined, status: q.status as Job['status'] | undefined }, q.page_token, q.max_results), formatJob));
  });

  r.get('/v1/jobs/:id', validate({ params: IdParams }), async (_req, res) => {
    res.json(formatJob(await store.getJob(parsed(res, 'params', IdParams).id)));
  });

  r.post('/v1/jobs/:id/cancel', validate({ params: IdParams }), async (_req, res) => {
    res.json(formatJob(await ctx.jobs.cancel(parsed(res, 'params', IdParams).id)));
  });

  /** `data: <Job JSON>` on every change; the stream ends when the job finishes. */
  r.get('/v1/jobs/:id/events', validate({ params: IdParams }), async (req, res) => {
    const id = parsed(res, 'params', IdParams).id;
    const first = await store.getJob(id);
    res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    res.flushHeaders();
    const send = (job: Job) => res.write(`event: job\ndata: ${JSON.stringify(formatJob(job))}\n\n`);
    send(first);
    if (isFinished(first)) { res.end(); return; }
    const unsubscribe = ctx.jobs.subscribe((job) => {
      if (job.id !== id) return;
      send(job);
      if (isFinished(job)) { unsubscribe(); res.end(); }
    });
    req.on('close', unsubscribe);
  });

  return r;
}
