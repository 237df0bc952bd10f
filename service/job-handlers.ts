/**
 * The table of job kinds -> handlers. Params are validated here (the same zod schema documents
 * the route that submits them), so a handler run by any runner sees checked input.
 * Kinds without an entry are refused at submission.
 */
import { z } from 'zod';
import { ValidationError } from '../registry/errors.ts';
import type { JsonObject } from '../registry/types.ts';
import { compareJson, compareMethods } from './compare.ts';
import { fitAdapter } from './fit.ts';
import type { JobContext, JobHandler, JobHandlers } from './jobs.ts';
import { yieldToEventLoop } from './jobs.ts';
import { trainZooPrior, zooPriorRefs } from './train-zoo-prior.ts';
import { readTuned } from '../benchmarks/tuned.ts';
import { SUITE_NAMES } from '../benchmarks/suites.ts';
import { tuneSuite } from './tune.ts';

export const TrainPriorParams = z.strictObject({
  zoo: z.string().min(1).describe('zoo name'),
  zoo_version: z.number().int().min(1).optional().describe('default: the latest version'),
  base_model: z.string().min(1).optional().describe("must be the zoo's base model when given"),
  config: z.record(z.string(), z.number()).optional().describe('LiFT settings (steps, burnIn, K, sigma2, …); defaults as `npm run train`'),
  baselines: z.boolean().optional().describe('also meta-train the competitors (MAML family, MAP-hierarchical, MBC); default false'),
});
export type TrainPriorParams = z.infer<typeof TrainPriorParams>;

function parseParams<S extends z.ZodType>(schema: S, params: JsonObject): z.infer<S> {
  const r = schema.safeParse(params);
  if (!r.success) throw new ValidationError(r.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; '));
  return r.data;
}

export const trainPriorJob: JobHandler = async (raw, ctx: JobContext) => {
  const p = parseParams(TrainPriorParams, raw);
  const rt = ctx.runtime;
  if (p.base_model !== undefined) {
    const zoo = await rt.store.getZoo(p.zoo);
    const base = await rt.store.getBaseModel(zoo.baseModelSha);
    // A backbone is named by its registered name, its sha256, or its family ('use-lite' for 'use-lite@<sha>').
    if (![base.name, base.sha256].includes(p.base_model) && !base.name.startsWith(`${p.base_model}@`)) {
      throw new ValidationError(`base_model: zoo '${p.zoo}' holds adapters of base model '${base.name}', got '${p.base_model}'`);
    }
  }
  const r = await trainZooPrior(rt, { zoo: p.zoo, zooVersion: p.zoo_version, config: p.config, baselines: p.baselines }, ctx);
  const prior = r.prior;
  return {
    prior: { id: prior.id, name: prior.name, version: prior.version, content_hash: prior.contentHash, k: prior.k, d: prior.d },
    zoo: { name: p.zoo, version: r.zooVersion },
    task_ids: r.taskIds,
    baselines: r.baselines,
    metrics: { train_ms: Math.round(r.trainMs), tasks: r.taskIds.length, kept: Number(prior.config.kept ?? 0), final_log_lik: (prior.config.logLikTrace as number[]).at(-1) ?? null },
    refs: zooPriorRefs(r, p.zoo) as JsonObject,
  };
};

/**
 * A comparison as a job. The route validated the request with its full schema (server/schemas.ts
 * CompareBody); compareMethods checks methods, queries and prior again, so nested parts pass here.
 */
export const CompareParams = z.strictObject({
  task_id: z.string().min(1),
  methods: z.array(z.string().min(1)).min(1).max(16).optional(),
  query: z.array(z.record(z.string(), z.unknown())).optional(),
  seed: z.number().int().min(0).optional(),
  prior: z.record(z.string(), z.unknown()).optional(),
  options: z.record(z.string(), z.number()).optional(),
});

export const compareJob: JobHandler = async (raw, ctx: JobContext) => {
  const p = parseParams(CompareParams, raw);
  const r = await compareMethods(ctx.runtime, p.task_id, { methods: p.methods, query: p.query as never, seed: p.seed, prior: p.prior as never, options: p.options }, {
    runId: ctx.runId, mode: 'job',
    // One phase per method; yielding lets requests (and the cancel) through between fits.
    beforeMethod: async (i, n, method) => {
      ctx.report({ phase: method, phaseIndex: i + 1, phaseCount: n, progress: i / n });
      await yieldToEventLoop(ctx.signal);
    },
  });
  return { ...compareJson(r), metrics: r.metrics, refs: r.refs as JsonObject };
};

/** A fit as a job (work above the inline bound); the route validated the body with FitBody. */
export const FitParams = z.strictObject({
  task_id: z.string().min(1),
  method: z.string().min(1).optional(),
  options: z.record(z.string(), z.number()).optional(),
  seed: z.number().int().min(0).optional(),
  name: z.string().min(1).optional(),
  alias: z.string().min(1).optional(),
  posterior_samples: z.number().int().min(1).optional(),
  prior: z.record(z.string(), z.unknown()).optional(),
  zoo: z.string().min(1).optional(),
});

export const fitJob: JobHandler = async (raw, ctx: JobContext) => {
  const p = parseParams(FitParams, raw);
  ctx.report({ phase: 'fit', phaseIndex: 1, phaseCount: 1, progress: 0 });
  await yieldToEventLoop(ctx.signal);
  const r = await fitAdapter(ctx.runtime, p.task_id, {
    method: p.method, options: p.options, seed: p.seed, name: p.name, alias: p.alias, posteriorSamples: p.posterior_samples,
    prior: p.prior as never, zoo: p.zoo, mode: 'job', runId: ctx.runId,
  }, ctx.signal);
  return {
    adapter: { id: r.adapter.id, name: r.adapter.name, version: r.adapter.version, content_hash: r.adapter.contentHash },
    created: r.created, fit_ms: r.fitMs, support_accuracy: r.supportAccuracy, alias: r.alias?.alias ?? null,
    metrics: { support_accuracy: r.supportAccuracy, fit_ms: r.fitMs }, refs: { adapter_ids: [r.adapter.id] },
  };
};

/** Tuning a suite's methods on its validation episodes (service/tune.ts), as `npm run tune` does. */
export const TuneParams = z.strictObject({
  suite: z.enum(SUITE_NAMES as [string, ...string[]]).describe('benchmark suite'),
  methods: z.array(z.string().min(1)).min(1).max(32).optional().describe('method names; default: every method'),
  episodes: z.number().int().min(2).max(1000).optional().describe('validation episodes per family and shot count (default 100)'),
});

export const tuneJob: JobHandler = async (raw, ctx: JobContext) => {
  const p = parseParams(TuneParams, raw);
  let phase = { phase: 'loading the suite', phaseIndex: 1, phaseCount: 1 };
  let progress = 0;
  const file = await tuneSuite(ctx.runtime, {
    suite: p.suite, methods: p.methods ?? 'all', episodes: p.episodes ?? 100,
    // A method that follows another not tuned now takes the leader's committed choice.
    earlier: readTuned(p.suite), command: `POST /v1/tune ${JSON.stringify(raw)}`,
  }, {
    phase: (i, n, what, etaMs) => {
      phase = { phase: what, phaseIndex: i + 1, phaseCount: n };
      ctx.report({ ...phase, progress, ...(etaMs === null ? {} : { etaMs }) });
    },
    // A method's grid runs without yielding, so progress reaches the store at each method's start.
    progress: (done, total) => { progress = done / total; },
    // A cancel stops the job between methods.
    between: () => yieldToEventLoop(ctx.signal),
  });
  return {
    ...(file as unknown as JsonObject),
    metrics: { choices: file.choices as unknown as JsonObject, grid_points: file.results.length, episodes: file.episodes },
    refs: { suite: file.suite, prior_ids: file.priorId ? [file.priorId] : [] },
  };
};

export const JOB_HANDLERS: JobHandlers = {
  'train-prior': trainPriorJob,
  compare: compareJob,
  fit: fitJob,
  tune: tuneJob,
};
