/**
 * Jobs: list, get, cancel, and a server-sent-event stream of a job's changes. Routes that start
 * long work answer 202 with the job and `Location: /v1/jobs/<id>` (see `accepted`).
 */
import { z } from 'zod';
import type { Job } from '../../registry/types.ts';
import { JOB_KINDS, JOB_STATUSES } from '../../registry/types.ts';
import { TuneParams } from '../../service/job-handlers.ts';
import { isFinished } from '../../service/jobs.ts';
import { tuneOrder } from '../../service/tune.ts';
import { formatJob, formatPage } from '../format.ts';
import * as R from '../responses.ts';
import { json, ok, route, type Reply } from '../route.ts';
import { IdParams, Page } from '../schemas.ts';
import { E400, E404, E409 } from './errors.ts';

export const JobList = Page.extend({ kind: z.enum(JOB_KINDS).optional(), status: z.enum(JOB_STATUSES).optional() });

/** 202 Accepted with the job and where to watch it. */
export const accepted = (job: Job): Reply => json(202, { job: formatJob(job) }, { Location: `/v1/jobs/${job.id}` });

const NOT_FOUND = E404('no such job');

export const jobRoutes = [
  route({
    method: 'post', path: '/v1/tune', operationId: 'tune', tags: ['jobs'],
    summary: "Tune methods' test-time settings on a suite's validation episodes, as a job",
    description: 'What `npm run tune` does, run by the job runner: per method, a small grid on the suite\'s meta-validation episodes (never the test split). '
      + 'Answers 202 with the job and Location: /v1/jobs/{id}; the job\'s result holds the choices per shot count and every grid point\'s val accuracy and cost. '
      + 'Needs the suite\'s LiFT prior in the registry (npm run train).',
    request: { body: { 'application/json': TuneParams } },
    responses: { 202: { description: 'the queued job', schema: R.JobAccepted }, ...E400 },
    handler: async ({ body }, { jobs }) => {
      // Unknown method names get 400 now rather than a failed job later.
      if (body.methods) tuneOrder(body.methods);
      return accepted(await jobs.submit('tune', body));
    },
  }),
  route({
    method: 'get', path: '/v1/jobs', operationId: 'listJobs', tags: ['jobs'],
    summary: 'Jobs, newest first (filter by kind and status; paged)',
    request: { query: JobList },
    responses: { 200: { description: 'one page of jobs', schema: R.JobPage }, ...E400 },
    handler: async ({ query: q }, { runtime: { store } }) => ok(formatPage(await store.listJobs({ kind: q.kind, status: q.status }, q.page_token, q.max_results), formatJob)),
  }),
  route({
    method: 'get', path: '/v1/jobs/{id}', operationId: 'getJob', tags: ['jobs'],
    summary: 'A job: status, phase k of n, progress, ETA, log-likelihood trace, result or error',
    request: { params: IdParams },
    responses: { 200: { description: 'the job', schema: R.JobJson }, ...NOT_FOUND },
    handler: async ({ params }, { runtime: { store } }) => ok(formatJob(await store.getJob(params.id))),
  }),
  route({
    method: 'post', path: '/v1/jobs/{id}/cancel', operationId: 'cancelJob', tags: ['jobs'],
    summary: 'Cancel a queued or running job (idempotent until it finishes)',
    request: { params: IdParams },
    responses: { 200: { description: 'the job, cancelled or being cancelled', schema: R.JobJson }, ...NOT_FOUND, ...E409('the job already finished') },
    handler: async ({ params }, { jobs }) => ok(formatJob(await jobs.cancel(params.id))),
  }),
  route({
    method: 'get', path: '/v1/jobs/{id}/events', operationId: 'watchJob', tags: ['jobs'],
    summary: 'Server-sent events: the job (event `job`) now and on every change, until it finishes',
    request: { params: IdParams },
    responses: { 200: { description: 'text/event-stream of `event: job` / `data: <Job JSON>`', type: 'text/event-stream' }, ...NOT_FOUND },
    handler: async ({ params }, { runtime: { store }, jobs }, { req, res }) => {
      const send = (job: Job) => res.write(`event: job\ndata: ${JSON.stringify(formatJob(job))}\n\n`);
      // Subscribe before reading, so a change between the read and the subscription is not lost.
      let open = false;
      const unsubscribe = jobs.subscribe((job) => {
        if (!open || job.id !== params.id) return;
        send(job);
        if (isFinished(job)) { unsubscribe(); res.end(); }
      });
      req.on('close', unsubscribe);
      let first: Job;
      try {
        first = await store.getJob(params.id);
      } catch (err) {
        unsubscribe();
        throw err;
      }
      res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
      res.flushHeaders();
      send(first);
      open = true;
      if (isFinished(first)) { unsubscribe(); res.end(); }
      return undefined;
    },
  }),
];
