/**
 * Bounds on the work one request may ask for. The cost of a fit grows with steps x rank x
 * examples (each step touches every example through a rank-r adapter), and a comparison repeats
 * it per method (LiFT-MAP per start). Without a bound the request chooses the cost: `independent`
 * with 2000 steps at rank 64 on 256 examples runs for minutes. Work up to `maxInlineWork` units is
 * answered in the request; up to `maxJobWork` it must run as a cancellable job; beyond, 400.
 */
import { ValidationError } from '../registry/errors.ts';
import type { RegistryStore } from '../registry/store.ts';
import { DEFAULT_BUDGET, type FitOptions } from './methods.ts';

export interface WorkLimits {
  /** Largest steps x rank x examples x methods answered within the request. */
  readonly maxInlineWork: number;
  /** Largest the same product may be for a job. */
  readonly maxJobWork: number;
}

/** Where the work runs: inside the request, or as a job. */
export type WorkMode = 'inline' | 'job';

export interface WorkRequest {
  readonly options?: FitOptions;
  /** Examples the fit touches (support; compare adds its queries). */
  readonly examples: number;
  readonly methods: number;
}

// Made at import: the first number formatting loads locale data (~30 ms), which no request should wait for.
const NUMBERS = new Intl.NumberFormat('en-US');
const fmt = (n: number): string => NUMBERS.format(n);

/** The estimate and how it was formed, e.g. "30 steps x rank 4 x 10 examples x 1 method = 1,200". */
export function estimateWork(req: WorkRequest): { units: number; formula: string } {
  const steps = Math.max(1, req.options?.steps ?? DEFAULT_BUDGET.steps);
  const rank = req.options?.rank ?? DEFAULT_BUDGET.rank;
  const starts = req.options?.starts ?? DEFAULT_BUDGET.starts;
  const units = steps * rank * Math.max(1, req.examples) * req.methods * starts;
  const startsPart = starts > 1 ? ` x ${starts} starts` : '';
  return { units, formula: `${steps} steps x rank ${rank} x ${req.examples} examples x ${req.methods} method(s)${startsPart} = ${fmt(units)}` };
}

/** ValidationError naming the estimate, the limit and what to do instead, when over the bound. */
export function checkWork(limits: WorkLimits, req: WorkRequest, mode: WorkMode): void {
  const { units, formula } = estimateWork(req);
  if (mode === 'inline' && units > limits.maxInlineWork) {
    const asJob = units <= limits.maxJobWork ? 'send "job": true to run it as a cancellable job, or ' : '';
    throw new ValidationError(`work: ${formula} exceeds the ${fmt(limits.maxInlineWork)} units a request may run inline; ${asJob}lower steps, rank or methods`);
  }
  if (units > limits.maxJobWork) {
    throw new ValidationError(`work: ${formula} exceeds the ${fmt(limits.maxJobWork)} units one job may run; lower steps, rank or methods`);
  }
}

/**
 * The bound for a task's fit or comparison, counted from the stored examples (support, plus the
 * queries a comparison scores: `queries`, else the task's query split). Lets a route refuse work
 * before it queues a job.
 */
export async function checkTaskWork(
  rt: { readonly store: RegistryStore; readonly limits: WorkLimits }, taskId: string,
  req: { readonly options?: FitOptions; readonly methods: number; readonly scoresQueries: boolean; readonly queries?: number }, mode: WorkMode,
): Promise<void> {
  const examples = await rt.store.listExamples(taskId);
  const support = examples.filter((e) => e.split === 'support').length;
  const queries = !req.scoresQueries ? 0 : req.queries ?? examples.filter((e) => e.split === 'query').length;
  checkWork(rt.limits, { options: req.options, examples: support + queries, methods: req.methods }, mode);
}
