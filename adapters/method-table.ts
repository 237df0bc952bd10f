/**
 * The one table of few-shot methods: each record holds a method's name (its key), full title,
 * family (how it adapts), what it needs (a LiFT prior, meta-training), whether it yields uncertainty, what meta-training
 * stores for it, and its factory. Evaluation, training, compare, the server and its OpenAPI enum
 * read this table; `createFromTable` gives every built method the table's name.
 *
 * Factories are pure: the caller (service/methods.ts) resolves settings and loads what
 * meta-training stored into `MethodInputs`, checking `needsPrior` / `stores` first.
 */
import type { PosteriorOptions } from './adapt.ts';
import { fromInit } from './from-init.ts';
import { linearProbe } from './linear-probe.ts';
import type { LayerSpec } from './lora.ts';
import { loraRetriever, type ZooEntry } from './lora-retriever.ts';
import { mapHierarchicalMethod } from './map-hierarchical.ts';
import type { MetaVariant } from './maml.ts';
import { mbcMethod, type MbcCluster } from './mbc.ts';
import { frozenPrototypes, independentLora, liftMap, liftPosterior, type FewShotMethod, type TuneConfig } from './method.ts';
import type { MixturePrior } from './mixture-prior.ts';

/**
 * How a method adapts, for pickers and tables, in the order they are shown: the backbone's features
 * as they are, LoRA fine-tuning from scratch, a start or zoo that meta-training learned, LiFT.
 */
export const METHOD_FAMILIES = {
  frozen: 'Frozen backbone',
  'fine-tuning': 'Fine-tuning',
  'meta-learned': 'Meta-learned',
  lift: 'LiFT',
} as const;
export type MethodFamily = keyof typeof METHOD_FAMILIES;
export const METHOD_FAMILY_NAMES = Object.keys(METHOD_FAMILIES) as [MethodFamily, ...MethodFamily[]];

/** What meta-training stores for a method: the LiFT prior, a learned start θ0 (`meta/<suite>/<name>`), the per-task zoo, MBC cluster LoRAs. */
export const STORED_ARTIFACTS = ['prior', 'start', 'zoo', 'clusters'] as const;
export type StoredArtifact = (typeof STORED_ARTIFACTS)[number];

/** Per-method test-time knobs beyond the shared budget (each method reads its own). */
export interface MethodKnobs {
  /** LiFT-MAP / posterior: fine-tune from this many top-ranked components. */
  readonly starts?: number;
  /** LiFT: multiplier of the prior's precision at test time (1 = as learned; chosen on val). */
  readonly priorScale?: number;
  /** LiFT posterior: the test-time posterior sampler's settings. */
  readonly posterior?: PosteriorOptions;
  /** LoRA-Retriever: adapters retrieved (default 3). */
  readonly k?: number;
  /** Fine-tuning optimiser of the meta-learned starts (MAML's own loop is 'gd'). */
  readonly optimizer?: 'adam' | 'gd';
}

/** A meta-learned starting point as stored (MAML family, MAP-hierarchical). */
export interface StoredStartTheta {
  readonly theta: Float32Array;
  readonly sigma2?: number;
}

/** What meta-training stored, as the factories need it. */
export interface MetaInputs {
  readonly starts: ReadonlyMap<string, StoredStartTheta>;
  readonly zoo: readonly ZooEntry[];
  readonly clusters: readonly MbcCluster[];
}

export interface MethodInputs {
  readonly layer: LayerSpec;
  readonly cfg: TuneConfig & MethodKnobs;
  /** Present when the record's `needsPrior`. */
  readonly prior: MixturePrior | null;
  /** Present when the record's `needsMetaTraining`. */
  readonly meta: MetaInputs | null;
}

export interface MethodRecord {
  /** Full name for reports and the UI. */
  readonly title: string;
  /** The group a method picker shows it in. */
  readonly family: MethodFamily;
  /** Fits under a trained LiFT prior (θ lives in the prior's space: rank, α, τ come from it). */
  readonly needsPrior: boolean;
  /** Starts from something meta-training stored (`stores`). */
  readonly needsMetaTraining: boolean;
  /** Predictions carry posterior uncertainty (entropy, mutual information). */
  readonly uncertainty: boolean;
  /** What meta-training stores for it. */
  readonly stores: readonly StoredArtifact[];
  /** How meta-training learns its start (MAML family only). */
  readonly metaTrainer?: { readonly variant: MetaVariant; readonly innerSteps: number };
  /** A request may choose the adapter rank (nothing meta-learned to match). */
  readonly ownRank?: boolean;
  readonly create: (inputs: MethodInputs, name: string) => FewShotMethod;
}

const start = (inputs: MethodInputs, name: string): StoredStartTheta => {
  const s = inputs.meta?.starts.get(name);
  if (!s) throw new Error(`method '${name}': no stored start (the caller checks 'stores' first)`);
  return s;
};

const meta = (inputs: MethodInputs): MetaInputs => {
  if (!inputs.meta) throw new Error('meta-training inputs missing (the caller checks needsMetaTraining first)');
  return inputs.meta;
};

const prior = (inputs: MethodInputs): MixturePrior => {
  if (!inputs.prior) throw new Error('prior missing (the caller checks needsPrior first)');
  return inputs.prior;
};

const simple = { needsPrior: false, needsMetaTraining: false, uncertainty: false, stores: [] } as const;
const metaLearned = { family: 'meta-learned', needsPrior: false, needsMetaTraining: true, uncertainty: false } as const;

function mamlFamily(title: string, variant: MetaVariant, innerSteps: number): MethodRecord {
  return {
    title, ...metaLearned, stores: ['start'], metaTrainer: { variant, innerSteps },
    create: (inputs, name) => fromInit(name, start(inputs, name).theta, inputs.layer, inputs.cfg, { optimizer: inputs.cfg.optimizer }),
  };
}

function retriever(title: string, compose: 'mixture' | 'fusion', fineTune: boolean): MethodRecord {
  return {
    title, ...metaLearned, stores: ['zoo'],
    create: (inputs) => loraRetriever(meta(inputs).zoo, inputs.layer, { k: inputs.cfg.k ?? 3, compose, fineTune }, inputs.cfg),
  };
}

function mbc(title: string, route: 'likelihood' | 'arrow'): MethodRecord {
  return {
    title, ...metaLearned, stores: ['clusters'],
    create: (inputs) => mbcMethod(meta(inputs).clusters, inputs.layer, { route }, inputs.cfg),
  };
}

export const METHOD_TABLE = {
  prototypes: { title: 'Frozen prototypes (no adaptation)', family: 'frozen', ...simple, create: (i) => frozenPrototypes(i.layer, { tau: i.cfg.tau }) },
  'linear-probe': { title: 'Linear probe on frozen features', family: 'frozen', ...simple, create: (i) => linearProbe(i.layer) },
  independent: { title: 'Independent LoRA fine-tuning', family: 'fine-tuning', ...simple, ownRank: true, create: (i) => independentLora(i.layer, i.cfg) },
  'maml-1': mamlFamily('MAML (1 inner step)', 'maml', 1),
  'maml-5': mamlFamily('MAML (5 inner steps)', 'maml', 5),
  fomaml: mamlFamily('First-order MAML', 'fomaml', 5),
  reptile: mamlFamily('Reptile', 'reptile', 5),
  'lora-retriever-mixture': retriever('LoRA-Retriever, mixture, zero-shot', 'mixture', false),
  'lora-retriever-fusion': retriever('LoRA-Retriever, fusion, zero-shot', 'fusion', false),
  'lora-retriever-mixture-ft': retriever('LoRA-Retriever, mixture, fine-tuned', 'mixture', true),
  'lora-retriever-fusion-ft': retriever('LoRA-Retriever, fusion, fine-tuned', 'fusion', true),
  'mbc-likelihood': mbc('Model-based clustering, likelihood routing', 'likelihood'),
  'mbc-arrow': mbc('Model-based clustering, Arrow routing', 'arrow'),
  'map-hierarchical': {
    title: 'MAP hierarchical (K = 1, no sampling)', ...metaLearned, stores: ['start'],
    create: (i, name) => {
      const s = start(i, name);
      return mapHierarchicalMethod({ phi: s.theta, thetas: [], sigma2: s.sigma2 ?? 1e-3, beta2: 1, lossTrace: [] }, i.layer, i.cfg);
    },
  },
  'pooled-lora': {
    title: 'Pooled multi-task LoRA', ...metaLearned, stores: ['start'],
    create: (i, name) => fromInit(name, start(i, name).theta, i.layer, i.cfg),
  },
  'lift-map': {
    title: 'LiFT-MAP', family: 'lift', needsPrior: true, needsMetaTraining: true, uncertainty: false, stores: ['prior'],
    create: (i) => liftMap(prior(i), i.layer, i.cfg),
  },
  'lift-posterior': {
    title: 'LiFT posterior predictive', family: 'lift', needsPrior: true, needsMetaTraining: true, uncertainty: true, stores: ['prior'],
    create: (i) => liftPosterior(prior(i), i.layer, i.cfg),
  },
} as const satisfies Record<string, MethodRecord>;

export type MethodName = keyof typeof METHOD_TABLE;
export const METHOD_NAMES = Object.keys(METHOD_TABLE) as MethodName[];

export function methodRecord(name: MethodName): MethodRecord {
  return METHOD_TABLE[name];
}

/** Builds a method from its record; its `name` is the table's. */
export function createFromTable(name: MethodName, inputs: MethodInputs): FewShotMethod {
  const method = METHOD_TABLE[name].create(inputs, name);
  return method.name === name ? method : { ...method, name };
}
