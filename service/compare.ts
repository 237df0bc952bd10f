/**
 * Side-by-side comparison of few-shot methods on one task: each method is fitted on the task's
 * support set (same features, same seed) and scored on a labelled query set — the task's query
 * split, or examples supplied with the request. Nothing is stored. A method that cannot run (e.g.
 * LiFT before a prior exists) gets a row with its error instead of failing the whole table.
 */
import { accuracy, calibrationBins, expectedCalibrationError, negativeLogLikelihood } from '../benchmarks/metrics.ts';
import { ValidationError } from '../registry/errors.ts';
import type { Example, JsonObject, RunRefs } from '../registry/types.ts';
import { loadSupport } from './fit.ts';
import { decodeInputs } from './inputs.ts';
import type { ScoredQueryResult } from './fitter.ts';
import { loadMetaArtifacts } from './meta-artifacts.ts';
import { methodName, type FitOptions, type MethodName } from './methods.ts';
import { resolvePrior, type PriorRef } from './priors.ts';
import { recordRun } from './runs.ts';
import { AUTO_METHOD, autoJson, chooseForTask } from './auto.ts';
import type { ExampleBody } from './tasks.ts';
import { exampleItems } from './tasks.ts';
import type { Runtime } from './runtime.ts';
import { checkWork, type WorkMode } from './work-bounds.ts';

export interface CompareRequest {
  /** Methods of the table and/or `auto`; default `[auto]`. */
  readonly methods?: readonly string[];
  /** Labelled queries; default: the task's query split. */
  readonly query?: readonly ExampleBody[];
  readonly options?: FitOptions;
  readonly seed?: number;
  /** Default as for fitting (service/priors.ts). */
  readonly prior?: PriorRef;
}

/** Confidence bins for a reliability diagram; only bins holding queries are listed. */
export interface Calibration {
  readonly ece: number;
  readonly bins: readonly { lo: number; hi: number; count: number; confidence: number; accuracy: number }[];
}

export interface CompareRow {
  readonly method: string;
  readonly accuracy: number | null;
  /** Mean negative log-likelihood of the true labels. */
  readonly nll: number | null;
  /** Fit plus query prediction, in ms. */
  readonly fitMs: number | null;
  readonly calibration?: Calibration;
  readonly error?: string;
  /** For `auto`: what it chose and why. */
  readonly auto?: JsonObject;
}

/** Bins of the reliability diagram the console draws per method. */
export const CALIBRATION_BINS = 10;

export interface CompareHooks {
  /** Awaited before each method is fitted (a job reports progress and checks cancellation). */
  readonly beforeMethod?: (index: number, total: number, method: string) => Promise<void>;
  /** The run already recording this comparison (a job's); without it the comparison records its own. */
  readonly runId?: string;
  /** Inside a request (default) or as a job: which work bound applies (service/work-bounds.ts). */
  readonly mode?: WorkMode;
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

/** The requested methods by their table names (or `auto`); ValidationError naming the first unknown one. */
export function checkMethodNames(methods: readonly string[]): (MethodName | typeof AUTO_METHOD)[] {
  return methods.map((m, i) => {
    if (m === AUTO_METHOD) return AUTO_METHOD;
    try { return methodName(m); } catch (err) { throw new ValidationError(`methods[${i}]: ${(err as Error).message}`); }
  });
}

export async function compareMethods(runtime: Runtime, taskId: string, req: CompareRequest, hooks: CompareHooks = {}): Promise<CompareResult & { metrics: JsonObject; refs: RunRefs }> {
  const task = await runtime.store.getTask(taskId);
  const names = checkMethodNames(req.methods ?? [AUTO_METHOD]);
  const backbone = await runtime.taskBackbone(task);
  const support = await loadSupport(runtime, task);
  const fromTask = req.query === undefined;
  const queryExamples = fromTask ? await runtime.store.listExamples(task.id, 'query') : req.query!;
  if (queryExamples.length === 0) throw new ValidationError(`query: task '${task.id}' has no query examples; supply labelled query examples in the request`);
  if (queryExamples.length > runtime.limits.maxInputs) throw new ValidationError(`query: expected at most ${runtime.limits.maxInputs} examples, got ${queryExamples.length}`);
  checkWork(runtime.limits, { options: req.options, examples: support.labels.length + queryExamples.length, methods: names.length }, hooks.mode ?? 'inline');
  const labels = queryExamples.map((e, i) => {
    const y = task.labels.indexOf(e.label);
    if (y < 0) throw new ValidationError(`query[${i}].label: expected one of ${task.labels.join(', ')}, got '${e.label}'`);
    return y;
  });
  const items = fromTask
    ? await exampleItems(runtime, queryExamples as readonly Example[])
    : await decodeInputs(runtime, req.query!, task.modality, 'query');
  const query = await runtime.featurizer.features(backbone, items);
  const named = names.some((n) => n !== AUTO_METHOD);
  const prior = named ? await resolvePrior(runtime.store, task, req.prior) : null;
  const artifacts = prior ? await loadMetaArtifacts(runtime.store, prior) : null;
  // Each method is one job for the runtime's fitter: in the server a worker thread, off the event loop.
  const scoreMethod = async (requested: MethodName | typeof AUTO_METHOD): Promise<CompareRow> => {
    try {
      const chosen = requested === AUTO_METHOD
        ? await chooseForTask(runtime.store, task, backbone.encoder.layer, support, task.labels.length, req.prior) : null;
      const name = chosen?.method ?? requested as MethodName;
      const under = chosen ? chosen.prior : prior;
      const { probs, fitMs } = await runtime.fitter.run({
        method: name, options: req.options ?? {}, layer: backbone.encoder.layer, prior: under,
        artifacts: chosen ? (under ? await loadMetaArtifacts(runtime.store, under) : null) : artifacts,
        support, query, nWay: task.labels.length, seed: req.seed ?? 0,
      }) as ScoredQueryResult;
      const bins = calibrationBins(probs, labels, CALIBRATION_BINS).filter((b) => b.count > 0);
      return {
        method: requested, accuracy: accuracy(probs, labels), nll: negativeLogLikelihood(probs, labels), fitMs,
        calibration: { ece: expectedCalibrationError(probs, labels, CALIBRATION_BINS), bins }, ...(chosen ? { auto: autoJson(chosen) } : {}),
      };
    } catch (err) {
      if (!(err instanceof Error) || !('code' in err) || err.name === 'AbortError') throw err;
      return { method: requested, accuracy: null, nll: null, fitMs: null, error: err.message };
    }
  };
  const scoreMethods = async (): Promise<CompareRow[]> => {
    const rows: CompareRow[] = [];
    for (const [i, name] of names.entries()) {
      await hooks.beforeMethod?.(i, names.length, name);
      rows.push(await scoreMethod(name));
    }
    return rows;
  };
  // The priors involved: the one named methods ran under and those auto chose.
  const refsOf = (rows: readonly CompareRow[]): RunRefs => {
    const priorIds = [...new Set([...(prior ? [prior.id] : []), ...rows.flatMap((r) => (typeof r.auto?.prior_id === 'string' ? [r.auto.prior_id] : []))])];
    return { task_ids: [task.id], ...(priorIds.length ? { prior_ids: priorIds } : {}) };
  };
  const metricsOf = (rows: CompareRow[]): JsonObject => Object.fromEntries(rows.map((r) => [r.method, r.accuracy]));
  const runInput = {
    kind: 'compare' as const, name: `compare ${task.id}`, config: { methods: names, ...req.options, seed: req.seed ?? 0, query_size: labels.length }, refs: refsOf([]),
  };
  const { rows, runId } = hooks.runId !== undefined
    ? { rows: await scoreMethods(), runId: hooks.runId }
    : await recordRun(runtime.store, runInput, async () => {
      const rows = await scoreMethods();
      return { value: rows, metrics: metricsOf(rows), refs: refsOf(rows) };
    }).then(({ value, run }) => ({ rows: value, runId: run.id }));
  const refs = refsOf(rows);
  return {
    taskId: task.id, supportSize: support.labels.length, querySize: labels.length, querySource: fromTask ? 'task' : 'request', rows,
    priorId: prior?.id ?? null, runId, metrics: metricsOf(rows), refs,
  };
}

/** The comparison as the API's JSON (the synchronous reply and a compare job's result alike). */
export function compareJson(r: CompareResult): JsonObject {
  return {
    task_id: r.taskId, support_size: r.supportSize, query_size: r.querySize, query_source: r.querySource,
    prior_id: r.priorId, run_id: r.runId,
    rows: r.rows.map((row) => ({
      method: row.method, accuracy: row.accuracy, nll: row.nll, fit_ms: row.fitMs,
      ...(row.calibration ? { calibration: { ece: row.calibration.ece, bins: row.calibration.bins.map((b) => ({ ...b })) } } : {}),
      ...(row.error ? { error: row.error } : {}),
      ...(row.auto ? { auto: row.auto } : {}),
    })),
  };
}
