/**
 * The table of few-shot methods the server can fit, by name. Each entry turns a request's options
 * (plus, for LiFT, the latest learned prior of the base model) into a `FewShotMethod` from
 * adapters/. Initial version: prototypes, independent LoRA, LiFT-MAP and LiFT posterior.
 *
 * The competitors (MAML family, LoRA-Retriever, MBC, MAP-hierarchical) start from what
 * meta-training stored for the base model, and every adapting method shares one budget.
 */
import type { LayerSpec } from '../adapters/lora.ts';
import { fromInit } from '../adapters/from-init.ts';
import { linearProbe } from '../adapters/linear-probe.ts';
import { loraRetriever } from '../adapters/lora-retriever.ts';
import { mapHierarchicalMethod } from '../adapters/map-hierarchical.ts';
import { mbcMethod } from '../adapters/mbc.ts';
import {
  frozenPrototypes, independentLora, liftMap, liftPosterior, type FewShotMethod, type TuneConfig,
} from '../adapters/method.ts';
import type { MixturePrior } from '../adapters/mixture-prior.ts';
import { ConflictError, ValidationError } from '../registry/errors.ts';
import type { JsonObject, Prior } from '../registry/types.ts';
import type { RegistryStore } from '../registry/store.ts';
import { loadMetaArtifacts, type MetaArtifacts } from './meta-artifacts.ts';

/** Per-request fitting options (all optional; defaults below). */
export interface FitOptions {
  readonly rank?: number;
  readonly alpha?: number;
  readonly steps?: number;
  readonly lr?: number;
  readonly tau?: number;
  /** LiFT-MAP: fine-tune from this many top-ranked prior components. */
  readonly starts?: number;
  /** LoRA-Retriever: LoRAs retrieved and composed (default 3). */
  readonly k?: number;
  /** MBC: which stored clustering (e.g. `c10-mean`, see train-baselines.ts MBC_VARIANTS). */
  readonly variant?: string;
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

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * LiFT settings: rank, alpha, A0 seed and τ are those the prior was trained with (θ must live in
 * the prior's space), so a request may only choose steps, learning rate and starts.
 */
function liftConfig(ctx: MethodContext): { prior: Prior; cfg: { rank: number; alpha: number; tau: number; a0Seed: number; steps: number; lr: number; starts: number } } {
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
    },
  };
}

/** The shared budget: every adapting method gets the same rank, steps and learning rate. */
function budget(ctx: MethodContext): TuneConfig {
  const c = ctx.prior?.config ?? {};
  const rank = num(c.rank) ?? ctx.options.rank ?? DEFAULT_BUDGET.rank;
  return {
    rank, alpha: num(c.alpha) ?? ctx.options.alpha ?? rank, tau: num(c.tau) ?? ctx.options.tau ?? DEFAULT_BUDGET.tau, a0Seed: num(c.a0Seed) ?? 0,
    steps: ctx.options.steps ?? DEFAULT_BUDGET.steps, lr: ctx.options.lr ?? DEFAULT_BUDGET.lr,
  };
}

function artifactsOf(ctx: MethodContext, method: string): MetaArtifacts {
  const artifacts = ctx.artifacts?.();
  if (!artifacts) {
    throw new ConflictError(`method '${method}' needs meta-training results for this base model; train them (npm run train) first`);
  }
  return artifacts;
}

/**
 * A method fine-tuned from a stored meta-learned start. The MAML family replays the inner loop it
 * was meta-trained with (its steps, learning rate and optimiser) unless a request sets steps/lr;
 * MAP-hierarchical fine-tunes under N(φ, σ²I); the pooled LoRA with the shared budget.
 */
function fromStart(name: string) {
  return (ctx: MethodContext): ResolvedMethod => {
    const start = artifactsOf(ctx, name).starts.get(name);
    if (!start) throw new ConflictError(`method '${name}': no meta-learned start is stored for this base model; run npm run train`);
    const shared = budget(ctx);
    if (name === 'map-hierarchical') {
      const method = mapHierarchicalMethod({ phi: start.theta, thetas: [], sigma2: start.sigma2 ?? 1e-3, beta2: 1, lossTrace: [] }, ctx.layer, shared);
      return { method, config: { ...shared, start: start.id }, priorId: null };
    }
    if (start.innerSteps === undefined) return { method: fromInit(name, start.theta, ctx.layer, shared), config: { ...shared, start: start.id }, priorId: null };
    const cfg = { ...shared, steps: ctx.options.steps ?? start.innerSteps, lr: ctx.options.lr ?? start.innerLr ?? shared.lr };
    const optimizer = start.optimizer ?? 'adam';
    return { method: fromInit(name, start.theta, ctx.layer, cfg, { optimizer }), config: { ...cfg, optimizer, start: start.id }, priorId: null };
  };
}

function retriever(compose: 'mixture' | 'fusion', fineTune: boolean) {
  return (ctx: MethodContext): ResolvedMethod => {
    const cfg = budget(ctx);
    const { zoo } = artifactsOf(ctx, 'lora-retriever');
    if (zoo.length === 0) throw new ConflictError('LoRA-Retriever: no independently fine-tuned zoo is stored with this prior; run npm run train');
    const k = ctx.options.k ?? 3;
    return { method: loraRetriever(zoo, ctx.layer, { k, compose, fineTune }, cfg), config: { ...cfg, k, compose, fineTune, zoo: zoo.length }, priorId: null };
  };
}

function mbc(route: 'likelihood' | 'arrow') {
  return (ctx: MethodContext): ResolvedMethod => {
    const cfg = budget(ctx);
    const stored = artifactsOf(ctx, `mbc-${route}`).clusters;
    const variant = ctx.options.variant ?? (stored.has('c10-mean') ? 'c10-mean' : [...stored.keys()][0]);
    const clusters = variant === undefined ? undefined : stored.get(variant);
    if (!clusters) throw new ValidationError(`variant: expected one of ${[...stored.keys()].join(', ') || '(none stored; run npm run train)'}, got '${variant}'`);
    return { method: mbcMethod(clusters, ctx.layer, { route }, cfg), config: { ...cfg, route, variant, clusters: clusters.length }, priorId: null };
  };
}

const METHODS = {
  prototypes: (ctx: MethodContext): ResolvedMethod => {
    const cfg = { tau: ctx.options.tau ?? DEFAULT_BUDGET.tau };
    return { method: frozenPrototypes(ctx.layer, cfg), config: cfg, priorId: null };
  },
  'linear-probe': (ctx: MethodContext): ResolvedMethod => ({ method: linearProbe(ctx.layer), config: {}, priorId: null }),
  independent: (ctx: MethodContext): ResolvedMethod => {
    // Nothing meta-learned to match: a requested rank wins over the prior's.
    const { rank, alpha } = ctx.options;
    const cfg = { ...budget(ctx), ...(rank !== undefined ? { rank, alpha: alpha ?? rank } : {}) };
    return { method: independentLora(ctx.layer, cfg), config: { ...cfg }, priorId: null };
  },
  'maml-1': fromStart('maml-1'),
  'maml-5': fromStart('maml-5'),
  fomaml: fromStart('fomaml'),
  reptile: fromStart('reptile'),
  'lora-retriever-mixture': retriever('mixture', false),
  'lora-retriever-fusion': retriever('fusion', false),
  'lora-retriever-mixture-ft': retriever('mixture', true),
  'lora-retriever-fusion-ft': retriever('fusion', true),
  'mbc-likelihood': mbc('likelihood'),
  'mbc-arrow': mbc('arrow'),
  'map-hierarchical': fromStart('map-hierarchical'),
  'pooled-lora': fromStart('pooled-lora'),
  'lift-map': (ctx: MethodContext): ResolvedMethod => {
    const { prior, cfg } = liftConfig(ctx);
    return { method: liftMap(toMixturePrior(prior), ctx.layer, cfg), config: cfg, priorId: prior.id };
  },
  'lift-posterior': (ctx: MethodContext): ResolvedMethod => {
    const { prior, cfg } = liftConfig(ctx);
    return { method: liftPosterior(toMixturePrior(prior), ctx.layer, cfg), config: cfg, priorId: prior.id };
  },
} as const satisfies Record<string, (ctx: MethodContext) => ResolvedMethod>;

export type MethodName = keyof typeof METHODS;
export const METHOD_NAMES = Object.keys(METHODS) as MethodName[];

/** Methods whose fit also stores posterior samples, so predictions carry uncertainty. */
export const POSTERIOR_METHODS: ReadonlySet<string> = new Set<MethodName>(['lift-posterior']);

/** Other names users know methods by. */
const METHOD_ALIASES: Readonly<Record<string, MethodName>> = Object.freeze({ protonet: 'prototypes' });

export function methodName(requested: string): MethodName {
  const name = METHOD_ALIASES[requested] ?? requested;
  if (Object.hasOwn(METHODS, name)) return name as MethodName;
  throw new ValidationError(`method: expected one of ${METHOD_NAMES.join(', ')}, got '${requested}'`);
}

/** Builds a method by name; ValidationError listing the valid names for an unknown one. */
export function createMethod(name: string, ctx: MethodContext): ResolvedMethod {
  return METHODS[methodName(name)](ctx);
}

/** Whether a method needs a trained prior (so callers can skip it when none exists). */
export function methodNeedsPrior(name: MethodName): boolean {
  return !['prototypes', 'linear-probe', 'independent'].includes(name);
}

/**
 * The context methods are built in: the prior, and the competitors' results trained with it
 * (read once per prior version and memoised, see meta-artifacts.ts).
 */
export async function methodContext(store: RegistryStore, layer: LayerSpec, prior: Prior | null, options: FitOptions = {}): Promise<MethodContext> {
  const artifacts = prior ? await loadMetaArtifacts(store, prior) : null;
  return { layer, prior, options, artifacts: () => artifacts };
}
