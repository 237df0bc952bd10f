/**
 * Side-by-side comparison of few-shot methods on one task: each method is fitted on the task's
 * support set (same features, same seed) and scored on a labelled query set — the task's query
 * split, or examples supplied with the request. Nothing is stored. A method that cannot run (e.g.
 * LiFT before a prior exists) gets a row with its error instead of failing the whole table.
 */
import { accuracy, negativeLogLikelihood } from '../benchmarks/metrics.ts';
import { ValidationError } from '../registry/errors.ts';
import type { Example } from '../registry/types.ts';
import { loadSupport } from './fit.ts';
import { decodeInput } from './inputs.ts';
import type { ScoredQueryResult } from './fitter.ts';
import { loadMetaArtifacts } from './meta-artifacts.ts';
import { methodName, type FitOptions, type MethodName } from './methods.ts';
import { resolvePrior, type PriorRef } from './priors.ts';
import { recordRun } from './runs.ts';
import type { ExampleBody } from './tasks.ts';
import { exampleItems } from './tasks.ts';
import type { Runtime } from './runtime.ts';

export interface CompareRequest {
  readonly methods: readonly string[];
  /** Labelled queries; default: the task's query split. */
  readonly query?: readonly ExampleBody[];
  readonly options?: FitOptions;
  readonly seed?: number;
  /** Default as for fitting (service/priors.ts). */
  readonly prior?: PriorRef;
}

export interface CompareRow {
  readonly method: string;
  readonly accuracy: number | null;
  /** Mean negative log-likelihood of the true labels. */
  readonly nll: number | null;
  /** Fit plus query prediction, in ms. */
  readonly fitMs: number | null;
  readonly error?: string;
}

export interface CompareResult {
  readonly taskId: string;
  readonly supportSize: number;
  readonly querySize: number;
  readonly querySource: 'task' | 'request';
  readonly rows: CompareRow[];
  readonly priorId: string | null;
  readonly runId: string;
}

/** `signal` stops a comparison between (or, in worker threads, during) its methods' fits. */
export async function compareMethods(runtime: Runtime, taskId: string, req: CompareRequest, signal?: AbortSignal): Promise<CompareResult> {
  const task = await runtime.store.getTask(taskId);
  const names = req.methods.map((m, i) => { try { return methodName(m); } catch (err) { throw new ValidationError(`methods[${i}]: ${(err as Error).message}`); } });
  const backbone = await runtime.taskBackbone(task);
  const support = await loadSupport(runtime, task);
  const fromTask = req.query === undefined;
  const queryExamples = fromTask ? await runtime.store.listExamples(task.id, 'query') : req.query!;
  if (queryExamples.length === 0) throw new ValidationError(`query: task '${task.id}' has no query examples; supply labelled query examples in the request`);
  if (queryExamples.length > runtime.limits.maxInputs) throw new ValidationError(`query: expected at most ${runtime.limits.maxInputs} examples, got ${queryExamples.length}`);
  const labels = queryExamples.map((e, i) => {
    const y = task.labels.indexOf(e.label);
    if (y < 0) throw new ValidationError(`query[${i}].label: expected one of ${task.labels.join(', ')}, got '${e.label}'`);
    return y;
  });
  const items = fromTask
    ? exampleItems(queryExamples as readonly Example[])
    : req.query!.map((e, i) => decodeInput(e, task.modality, `query[${i}]`, runtime.limits.maxTextLength));
  const query = await runtime.featurizer.features(backbone, items);
  const prior = await resolvePrior(runtime.store, task, req.prior);
  const artifacts = prior ? await loadMetaArtifacts(runtime.store, prior) : null;
  // Each method is one job for the runtime's fitter: in the server they run in parallel worker threads.
  const scoreMethod = async (name: MethodName): Promise<CompareRow> => {
    try {
      const { probs, fitMs } = await runtime.fitter.run({
        method: name, options: req.options ?? {}, layer: backbone.encoder.layer, prior, artifacts, support, query, nWay: task.labels.length, seed: req.seed ?? 0,
      }, signal) as ScoredQueryResult;
      return { method: name, accuracy: accuracy(probs, labels), nll: negativeLogLikelihood(probs, labels), fitMs };
    } catch (err) {
      if (!(err instanceof Error) || !('code' in err) || err.name === 'AbortError') throw err;
      return { method: name, accuracy: null, nll: null, fitMs: null, error: err.message };
    }
  };
  // As many methods at once as the fitter runs in parallel; a cancel is seen between them.
  const scoreMethods = async (): Promise<CompareRow[]> => {
    const rows: CompareRow[] = new Array(names.length);
    let next = 0;
    const lane = async () => { for (let i = next++; i < names.length; i = next++) rows[i] = await scoreMethod(names[i]); };
    await Promise.all(Array.from({ length: Math.min(names.length, runtime.fitter.concurrency) }, lane));
    return rows;
  };
  const runInput = {
    kind: 'compare' as const, name: `compare ${task.id}`, config: { methods: names, ...req.options, seed: req.seed ?? 0, query_size: labels.length },
    refs: { task_ids: [task.id], ...(prior ? { prior_ids: [prior.id] } : {}) },
  };
  const { value: rows, run } = await recordRun(runtime.store, runInput, async () => {
    const rows = await scoreMethods();
    return { value: rows, metrics: Object.fromEntries(rows.map((r) => [r.method, r.accuracy])) };
  });
  return {
    taskId: task.id, supportSize: support.labels.length, querySize: labels.length, querySource: fromTask ? 'task' : 'request', rows,
    priorId: prior?.id ?? null, runId: run.id,
  };
}
