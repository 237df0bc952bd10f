/**
 * Methods as the server fits them: the one method table (adapters/method-table.ts) plus what a
 * request and the registry supply. Here a request's options and the stored prior / meta-training
 * results become a record's `MethodInputs`: the shared budget (rank, steps, lr), LiFT's settings
 * taken from its prior, and clear 409s when something a record needs was never trained.
 */
import {
  createFromTable, METHOD_FAMILIES, METHOD_FAMILY_NAMES, METHOD_NAMES, METHOD_TABLE, STORED_ARTIFACTS, type MetaInputs, type MethodKnobs, type MethodName,
  type MethodRecord,
} from '../adapters/method-table.ts';
import type { LayerSpec } from '../adapters/lora.ts';
import type { FewShotMethod, TuneConfig } from '../adapters/method.ts';
import type { MixturePrior } from '../adapters/mixture-prior.ts';
import { ConflictError, ValidationError } from '../registry/errors.ts';
import type { JsonObject, Prior } from '../registry/types.ts';
import type { RegistryStore } from '../registry/store.ts';
import { DEFAULT_MBC_VARIANT, loadMetaArtifacts, type MetaArtifacts, type StoredStart } from './meta-artifacts.ts';
import { finiteOrUndefined } from '../registry/validate.ts';

export { METHOD_FAMILIES, METHOD_FAMILY_NAMES, METHOD_NAMES, METHOD_TABLE, STORED_ARTIFACTS, type MethodName, type MethodRecord };

/** Per-request fitting options (all optional; defaults below). */
export interface FitOptions {
  readonly rank?: number;
  readonly alpha?: number;
  readonly steps?: number;
  readonly lr?: number;
  readonly tau?: number;
  /** Step size of the trained cosine head (default: lr). */
  readonly headLr?: number;
  /** LiFT-MAP: fine-tune from this many top-ranked prior components. */
  readonly starts?: number;
  /** LiFT: multiplier of the prior's precision at test time (default 1). */
  readonly priorScale?: number;
  /** LoRA-Retriever: adapters retrieved (default 3). */
  readonly k?: number;
  /** Meta-learned starts: fine-tuning optimiser ('gd' = MAML's own inner loop). */
  readonly optimizer?: 'adam' | 'gd';
  /** MBC: which stored clustering (e.g. `c10-mean`; train-baselines.ts MBC_VARIANTS). */
  readonly variant?: string;
}

const NUMERIC_OPTIONS = ['rank', 'alpha', 'steps', 'lr', 'tau', 'headLr', 'starts', 'priorScale', 'k'] as const;

/**
 * Settings recorded as plain JSON (`benchmarks/tuned/<suite>.json`) -> FitOptions; an unknown
 * key or a wrong type throws, naming it, so a hand-edited file cannot silently change nothing.
 */
export function fitOptionsFrom(recorded: Readonly<Record<string, unknown>>): FitOptions {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(recorded)) {
    const ok = (NUMERIC_OPTIONS as readonly string[]).includes(key) ? typeof value === 'number' && Number.isFinite(value)
      : key === 'optimizer' ? value === 'adam' || value === 'gd'
        : key === 'variant' ? typeof value === 'string'
          : false;
    if (!ok) throw new ValidationError(`fit option '${key}': unknown or invalid value ${JSON.stringify(value)}`);
    out[key] = value;
  }
  return out as FitOptions;
}

export interface MethodContext {
  /** The pretrained layer LoRA attaches to. */
  readonly layer: LayerSpec;
  /** Latest prior for the base model, or null when none has been trained. */
  readonly prior: Prior | null;
  readonly options: FitOptions;
  /** Meta-training results of the competitors (loaded on demand: only they need them). */
  readonly artifacts?: () => MetaArtifacts | null;
}

/** A method ready to fit, with the resolved settings recorded as the adapter's training config. */
export interface ResolvedMethod {
  readonly method: FewShotMethod;
  readonly config: JsonObject;
  /** The prior it was fitted under (adapter lineage), if any. */
  readonly priorId: string | null;
}

/** Defaults of the shared fine-tuning budget (chosen on meta-validation classes, see README). */
export const DEFAULT_BUDGET = { rank: 4, steps: 30, lr: 1e-3, tau: 10, starts: 1 } as const;

/** Registry prior (flat tensors) -> the mixture the adapter math uses. */
export function toMixturePrior(prior: Prior): MixturePrior {
  const K = prior.k, D = prior.d;
  return {
    weights: Float64Array.from(prior.weights),
    means: Array.from({ length: K }, (_, k) => prior.means.subarray(k * D, (k + 1) * D)),
    variances: Array.from({ length: K }, (_, k) => prior.variances.subarray(k * D, (k + 1) * D)),
    sigma2: prior.sigma2, beta2: prior.beta2, dim: D,
  };
}

const num = finiteOrUndefined;

/**
 * LiFT settings: rank, alpha, A0 seed and τ are those the prior was trained with (θ must live in
 * the prior's space), so a request may only choose steps, learning rate and starts.
 */
function liftConfig(ctx: MethodContext): { prior: Prior; cfg: TuneConfig & MethodKnobs } {
  const prior = ctx.prior;
  if (prior === null) {
    throw new ConflictError('no LiFT prior has been trained for this base model yet; train one (npm run train) or use method prototypes or independent');
  }
  const perRank = ctx.layer.inDim + ctx.layer.outDim;
  if (prior.d % perRank !== 0) {
    throw new ConflictError(`prior '${prior.name}' v${prior.version}: dimension ${prior.d} is not rank x ${perRank} for this layer`);
  }
  const rank = prior.d / perRank;
  if (ctx.options.rank !== undefined && ctx.options.rank !== rank) {
    throw new ValidationError(`rank: expected ${rank} (the rank prior '${prior.name}' v${prior.version} was trained with), got ${ctx.options.rank}`);
  }
  const c = prior.config;
  return {
    prior,
    cfg: {
      rank, alpha: num(c.alpha) ?? rank, tau: num(c.tau) ?? DEFAULT_BUDGET.tau, a0Seed: num(c.a0Seed) ?? 0,
      steps: ctx.options.steps ?? DEFAULT_BUDGET.steps, lr: ctx.options.lr ?? DEFAULT_BUDGET.lr, starts: ctx.options.starts ?? DEFAULT_BUDGET.starts,
      ...defined({ headLr: ctx.options.headLr, priorScale: ctx.options.priorScale }),
    },
  };
}

/** Only the keys whose value is set (so recorded configs list what was chosen). */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The shared budget: every adapting method gets the same rank, steps and learning rate, plus its own knobs. */
function budget(ctx: MethodContext): TuneConfig & MethodKnobs {
  const c = ctx.prior?.config ?? {};
  const o = ctx.options;
  const rank = num(c.rank) ?? o.rank ?? DEFAULT_BUDGET.rank;
  return {
    rank, alpha: num(c.alpha) ?? o.alpha ?? rank, tau: num(c.tau) ?? o.tau ?? DEFAULT_BUDGET.tau, a0Seed: num(c.a0Seed) ?? 0,
    steps: o.steps ?? DEFAULT_BUDGET.steps, lr: o.lr ?? DEFAULT_BUDGET.lr,
    ...defined({ headLr: o.headLr, k: o.k, optimizer: o.optimizer }),
  };
}

/** Other names users know methods by. */
const METHOD_ALIASES: Readonly<Record<string, MethodName>> = Object.freeze({ protonet: 'prototypes' });

/** Every name a request may use for a method: the table's names, then their aliases (OpenAPI enum). */
export const REQUESTABLE_METHOD_NAMES = [...METHOD_NAMES, ...Object.keys(METHOD_ALIASES)] as [string, ...string[]];

export function methodName(requested: string): MethodName {
  const name = METHOD_ALIASES[requested] ?? requested;
  if (Object.hasOwn(METHOD_TABLE, name)) return name as MethodName;
  throw new ValidationError(`method: expected one of ${METHOD_NAMES.join(', ')}, got '${requested}'`);
}

/** The stored MBC clustering a request picks (default `c10-mean`, else the first stored). */
function chooseClusters(artifacts: MetaArtifacts, requested: string | undefined): { variant: string; clusters: MetaInputs['clusters'] } | null {
  const variant = requested ?? (artifacts.clusters.has(DEFAULT_MBC_VARIANT) ? DEFAULT_MBC_VARIANT : [...artifacts.clusters.keys()][0]);
  if (variant === undefined) return null;
  const clusters = artifacts.clusters.get(variant);
  if (!clusters) throw new ValidationError(`variant: expected one of ${[...artifacts.clusters.keys()].join(', ')}, got '${variant}'`);
  return { variant, clusters };
}

/** What meta-training stored that `record` reads; ConflictError naming what is missing. */
function metaInputsFor(name: MethodName, record: MethodRecord, ctx: MethodContext): (MetaInputs & { variant?: string; starts: ReadonlyMap<string, StoredStart> }) | null {
  if (!record.stores.some((s) => s !== 'prior')) return null;
  const artifacts = ctx.artifacts?.();
  if (!artifacts) throw new ConflictError(`method '${name}' needs meta-training results for this base model; train them (npm run train) first`);
  const clusters = record.stores.includes('clusters') ? chooseClusters(artifacts, ctx.options.variant) : null;
  const missing = record.stores.filter((s) =>
    (s === 'start' && !artifacts.starts.has(name)) || (s === 'zoo' && artifacts.zoo.length === 0) || (s === 'clusters' && clusters === null));
  if (missing.length > 0) throw new ConflictError(`method '${name}': meta-training stored no ${missing.join(', ')} for this base model; run npm run train`);
  return { starts: artifacts.starts, zoo: artifacts.zoo, clusters: clusters?.clusters ?? [], ...(clusters ? { variant: clusters.variant } : {}) };
}

/**
 * The MAML family replays the inner loop it was meta-trained with (steps, learning rate,
 * optimiser, stored with its start) unless the request sets them.
 */
function ownInnerLoop(start: StoredStart | undefined, o: FitOptions): Partial<TuneConfig & MethodKnobs> {
  if (start?.innerSteps === undefined) return {};
  return defined({ steps: o.steps ?? start.innerSteps, lr: o.lr ?? start.innerLr, optimizer: o.optimizer ?? start.optimizer });
}

/** Builds a method by name; ValidationError listing the valid names for an unknown one. */
export function createMethod(requested: string, ctx: MethodContext): ResolvedMethod {
  const name = methodName(requested);
  const record: MethodRecord = METHOD_TABLE[name];
  if (record.needsPrior) {
    const { prior, cfg } = liftConfig(ctx);
    const inputs = { layer: ctx.layer, cfg, prior: toMixturePrior(prior), meta: null };
    return { method: createFromTable(name, inputs), config: { ...cfg }, priorId: prior.id };
  }
  const meta = metaInputsFor(name, record, ctx);
  const start = meta ? ctx.artifacts?.()?.starts.get(name) : undefined;
  const base = { ...budget(ctx), ...ownInnerLoop(start, ctx.options) };
  const { rank, alpha } = ctx.options;
  // Nothing meta-learned to match: a requested rank wins over the prior's.
  const cfg = record.ownRank && rank !== undefined ? { ...base, rank, alpha: alpha ?? rank } : base;
  const method: FewShotMethod = createFromTable(name, { layer: ctx.layer, cfg, prior: null, meta });
  const extra = { ...(start ? { start: start.id } : {}), ...(meta?.variant ? { variant: meta.variant, clusters: meta.clusters.length } : {}) };
  return { method, config: { ...cfg, ...extra }, priorId: meta ? ctx.prior?.id ?? null : null };
}

/**
 * The context methods are built in: the prior, and the competitors' results trained with it
 * (read once per prior version and memoised, see meta-artifacts.ts).
 */
export async function methodContext(store: RegistryStore, layer: LayerSpec, prior: Prior | null, options: FitOptions = {}): Promise<MethodContext> {
  const artifacts = prior ? await loadMetaArtifacts(store, prior) : null;
  return { layer, prior, options, artifacts: () => artifacts };
}
