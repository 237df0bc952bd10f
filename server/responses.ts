/**
 * Response schemas (zod): what each route answers, per status. They document the responses in
 * /openapi.json, type the formatters in format.ts, and under the test runner every reply is
 * checked against them (server/router.ts).
 */
import { z } from 'zod';
import { STORED_ARTIFACTS } from '../service/methods.ts';
import { HEAD_CONFIG_FILE, HEAD_WEIGHTS_FILE, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from '../registry/peft.ts';
import { JOB_KINDS, JOB_STATUSES, MODALITIES, RUN_KINDS, RUN_STATUSES, SPLITS } from '../registry/types.ts';
import { AUTO_METHOD } from '../service/auto.ts';
import { METHOD_FAMILY_NAMES } from '../service/methods.ts';

const json = z.record(z.string(), z.unknown());
const ms = z.number().int().describe('ms since the epoch');
const sha256 = z.string().describe('sha256, hex');

export const ErrorBody = z.object({
  error: z.object({
    code: z.string().describe('stable machine-readable code, e.g. VALIDATION_FAILED'),
    message: z.string().describe('what was wrong, naming the field'),
    request_id: z.string().optional().describe("this request's id, as in the X-Request-Id response header and the server's log"),
  }),
}).meta({ id: 'Error' });

const page = <T extends z.ZodType>(item: T) => z.object({
  items: z.array(item),
  next_page_token: z.string().nullable().describe('pass as page_token for the next page; null on the last'),
});
const list = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });

export const TaskJson = z.object({
  id: z.string(), name: z.string(), modality: z.enum(MODALITIES), base_model_sha256: sha256,
  labels: z.array(z.string()), metadata: json,
  example_counts: z.partialRecord(z.enum(SPLITS), z.number().int()), created_ms: ms,
}).meta({ id: 'Task' });
export const TaskPage = page(TaskJson);
export const TaskFileCreated = z.object({ tasks: z.array(TaskJson) }).meta({ id: 'TaskFileCreated' });

export const ExampleJson = z.object({
  hash: z.string(), label: z.string(), split: z.enum(SPLITS),
  text: z.string().optional(), image_base64: z.string().optional(),
}).meta({ id: 'Example' });
export const ExampleItems = list(ExampleJson);

export const AdapterJson = z.object({
  id: z.string(), name: z.string(), version: z.number().int(), content_hash: sha256, method: z.string(),
  base_model_sha256: sha256, task_id: z.string().nullable(), labels: z.array(z.string()),
  rank: z.number().int(), alpha: z.number(), extra: json, metrics: json, training_config: json,
  parents: z.object({ adapter_ids: z.array(z.string()), prior_id: z.string().nullable() }), created_ms: ms,
}).meta({ id: 'Adapter' });
export const AdapterPage = page(AdapterJson);

export const AdapterDetailJson = AdapterJson.extend({
  parameters: z.record(z.string(), z.object({ length: z.number().int() })).describe('tensor name -> element count'),
  aliases: z.array(z.string()).describe('aliases pointing at this version'),
}).meta({ id: 'AdapterDetail' });

export const AdapterRefJson = z.object({
  id: z.string(), name: z.string(), version: z.number().int(), content_hash: sha256, method: z.string(),
}).meta({ id: 'AdapterRef' });

export const AliasJson = z.object({ name: z.string(), alias: z.string(), version: z.number().int(), updated_ms: ms }).meta({ id: 'Alias' });
export const AliasItems = list(AliasJson);

export const LineageJson = z.object({
  nodes: z.array(z.object({
    kind: z.enum(['adapter', 'prior']), id: z.string(), name: z.string(), version: z.number().int(),
    content_hash: sha256, depth: z.number().int().describe('parent hops from the queried adapter'),
  })),
  edges: z.array(z.object({ child_id: z.string(), parent_id: z.string(), parent_kind: z.enum(['adapter', 'prior']) })),
}).meta({ id: 'Lineage' });

export const PriorJson = z.object({
  id: z.string(), name: z.string(), version: z.number().int(), content_hash: sha256, base_model_sha256: sha256,
  k: z.number().int(), d: z.number().int(), sigma2: z.number(), beta2: z.number(),
  training_task_ids: z.array(z.string()), config: json, seed: z.number().int(), created_ms: ms,
  diagnostics: z.object({
    theta_spread: z.number().describe('√(mean_i ‖θ_i − φ‖²) over kept samples'),
    expected_spread: z.number().describe('√(D·σ²), what the model expects in directions the data does not pin down'),
    ess_phi_min: z.number().describe('effective sample size of φ (min over 8 random projections)'),
    ess_phi_median: z.number(), ess_spread: z.number().describe('effective sample size of the θ_i spread trace'),
    components_asked: z.number().int(), components_live: z.number().int().describe('mixture components left after pruning'),
    weights: z.array(z.number()), separation: z.number().nullable().describe('smallest distance between component means in units of the prior spread'),
    variance_over_sigma2: z.number().describe('mean component variance s_k over σ²'), temperature: z.number(),
  }).nullable().describe('what training measured about its chain and mixture (null for priors stored before these were kept)'),
}).meta({ id: 'Prior' });
export const PriorPage = page(PriorJson);

export const BaseModelJson = z.object({
  name: z.string(), modality: z.enum(MODALITIES), sha256, feature_dim: z.number().int(), created_ms: ms,
  placement: z.array(z.object({ layer: z.string(), in_dim: z.number().int(), out_dim: z.number().int(), activation: z.string() })),
}).meta({ id: 'BaseModel' });
export const BaseModelItems = list(BaseModelJson);

export const PredictionsJson = z.object({
  adapter: AdapterRefJson,
  predictions: z.array(z.object({
    label: z.string(),
    probabilities: z.record(z.string(), z.number()),
    uncertainty: z.object({ entropy: z.number(), mutual_information: z.number() }).optional()
      .describe('posterior adapters only'),
  })),
}).meta({ id: 'Predictions' });

export const RetrievalJson = z.object({
  routing: z.enum(['embedding', 'arrow']),
  candidates: z.array(z.object({
    adapter: AdapterRefJson, zoo: z.string(), zoo_version: z.number().int(), task_id: z.string().nullable(),
    labels: z.array(z.string()), score: z.number().describe('cosine of task embeddings (embedding) or mean |v·x| (arrow)'),
  })).describe('best first'),
  result: z.object({
    mode: z.enum(['best', 'mixture']),
    labels: z.array(z.string()).describe("the best member's labels, or the union of the mixed members' labels"),
    used: z.array(z.object({ adapter: AdapterRefJson, weight: z.number() })).describe('the members whose predictions were combined'),
    predictions: PredictionsJson.shape.predictions,
  }).nullable().describe('null when predict is false'),
}).meta({ id: 'Retrieval' });

export const ZooJson = z.object({
  name: z.string(), base_model_sha256: sha256, description: z.string(), metadata: json,
  version: z.number().int().describe('latest membership version (0: no members yet)'), member_count: z.number().int(),
  created_ms: ms, updated_ms: ms,
}).meta({ id: 'Zoo' });
export const ZooPage = page(ZooJson);
export const ZooVersionJson = z.object({ zoo: z.string(), version: z.number().int(), member_count: z.number().int(), note: z.string(), created_ms: ms }).meta({ id: 'ZooVersion' });
export const ZooDetailJson = ZooJson.extend({ versions: z.array(ZooVersionJson).describe('newest first') }).meta({ id: 'ZooDetail' });
export const ZooMembersJson = z.object({
  zoo: z.string(), version: z.number().int(),
  items: z.array(z.object({
    adapter: AdapterRefJson, task_id: z.string().nullable(), labels: z.array(z.string()), base_model_sha256: sha256,
    added_version: z.number().int(), removed_version: z.number().int().nullable(),
  })),
}).meta({ id: 'ZooMembers' });
export const ZooChangeJson = z.object({
  zoo: ZooJson, version: z.number().int(), changed: z.boolean().describe('false: every adapter was already a member (no new version)'),
  added: z.array(z.string()), replaced: z.array(z.string()).describe('members replaced by a newer adapter of the same task'), removed: z.array(z.string()),
}).meta({ id: 'ZooChange' });

export const JobJson = z.object({
  id: z.string(), kind: z.enum(JOB_KINDS), status: z.enum(JOB_STATUSES),
  phase: z.string(), phase_index: z.number().int().describe('1-based'), phase_count: z.number().int(),
  progress: z.number().min(0).max(1), eta_ms: z.number().int().nullable(),
  trace: z.array(z.object({ step: z.number().int(), log_lik: z.number() })).describe('training log-likelihood (may be empty)'),
  params: json, result: json.nullable(), error: z.object({ code: z.string(), message: z.string() }).nullable(),
  run_id: z.string().nullable(), created_at: ms, started_at: ms.nullable(), finished_at: ms.nullable(),
}).meta({ id: 'Job' });
export const JobPage = page(JobJson);
export const JobAccepted = z.object({ job: JobJson }).meta({ id: 'JobAccepted' });

export const RunJson = z.object({
  id: z.string(), kind: z.enum(RUN_KINDS), name: z.string(), status: z.enum(RUN_STATUSES),
  params: json, metrics: json,
  refs: z.object({
    zoo: z.object({ name: z.string(), version: z.number().int() }).optional(),
    prior_ids: z.array(z.string()).optional(), adapter_ids: z.array(z.string()).optional(),
    task_ids: z.array(z.string()).optional(), suite: z.string().optional(),
  }).describe('registry versions the run read or wrote'),
  code_version: z.string().nullable().describe('git commit of the code that ran'), error: z.string().nullable(),
  started_ms: ms, finished_ms: ms.nullable(), duration_ms: z.number().int().nullable(),
}).meta({ id: 'Run' });
export const RunPage = page(RunJson);

export const AttachJson = z.object({ adapter: AdapterJson, created: z.boolean(), support_accuracy: z.number() }).meta({ id: 'Attach' });

export const AutoChoiceJson = z.object({
  method: z.string().describe('the method fitted'),
  prior_id: z.string().nullable().describe('the prior it ran under (null: prior-free fallback)'),
  zoo: z.object({ name: z.string(), version: z.number().int() }).nullable().describe('the zoo that prior was trained from'),
  reason: z.string(),
  rule: z.object({
    minCloseness: z.number(), topMembers: z.number().int(), likelihoodGate: z.boolean(), fallback: z.string(),
  }).describe('the rule applied (service/auto.ts, chosen on meta-validation episodes)'),
  candidates: z.array(z.object({
    zoo: z.string(), zoo_version: z.number().int(), prior_id: z.string(),
    closeness: z.number().describe('mean cosine of the support\'s task embedding to the nearest members\' ones'),
    likelihood_gain: z.number().nullable().describe('leave-one-out support log-likelihood under the prior\'s mean minus frozen; null at 1 shot or for a zoo that is not close'),
    close: z.boolean(),
  })),
}).meta({ id: 'AutoChoice' });

export const FitJson = z.object({
  adapter: AdapterJson, created: z.boolean(), fit_ms: z.number(), support_accuracy: z.number(), alias: AliasJson.nullable(),
  zoo: ZooChangeJson.nullable().describe('the zoo change when the request promoted the adapter'),
  run_id: z.string().describe('the fit run'),
  auto: AutoChoiceJson.nullable().describe('with method auto: what it chose and why (also stored in the adapter\'s training_config.auto)'),
}).meta({ id: 'Fit' });

export const CompareJson = z.object({
  task_id: z.string(), support_size: z.number().int(), query_size: z.number().int(), query_source: z.enum(['task', 'request']),
  prior_id: z.string().nullable().describe('the prior the methods ran under'), run_id: z.string().describe('the compare run'),
  rows: z.array(z.object({
    method: z.string(), accuracy: z.number().nullable(), nll: z.number().nullable(), fit_ms: z.number().nullable(),
    calibration: z.object({
      ece: z.number().describe('expected calibration error over the bins'),
      bins: z.array(z.object({ lo: z.number(), hi: z.number(), count: z.number().int(), confidence: z.number(), accuracy: z.number() }))
        .describe('equal-width confidence bins (lo, hi] that hold queries: mean max probability and accuracy in each'),
    }).optional().describe('for a reliability diagram'),
    error: z.string().optional(),
    auto: AutoChoiceJson.optional().describe('row auto: what it chose and why'),
  })),
}).meta({ id: 'Compare' });

export const ImportJson = z.object({
  adapter: AdapterJson, created: z.boolean(), alias: AliasJson.nullable(),
  attached: z.object({ from: z.string(), support_accuracy: z.number() }).nullable().describe('with task_id: the imported version the attached one derives from'),
}).meta({ id: 'Import' });

export const PeftJson = z.object({
  [PEFT_CONFIG_FILE]: json.describe('PEFT LoraConfig'),
  [PEFT_WEIGHTS_FILE]: z.string().describe('base64 of the LoRA tensors'),
  [HEAD_CONFIG_FILE]: json.describe('labels, τ, method, lineage, head tensor shapes'),
  [HEAD_WEIGHTS_FILE]: z.string().describe('base64 of the head tensors'),
}).meta({ id: 'PeftExport' });

export const MethodItems = list(z.object({
  name: z.string(), title: z.string().describe('full name'),
  family: z.enum([AUTO_METHOD, ...METHOD_FAMILY_NAMES]).describe('how it adapts (auto: picks a method per task); pickers group by it, families in the order listed'),
  family_title: z.string().describe('the family\'s display name'),
  needs_prior: z.boolean().describe('fits under a trained LiFT prior'),
  needs_meta_training: z.boolean().describe('starts from something meta-training stored'),
  uncertainty: z.boolean().describe('predictions carry posterior uncertainty'),
  stores: z.array(z.enum(STORED_ARTIFACTS)).describe('what meta-training stores for it'),
}));

export const Health = z.object({ status: z.literal('ok') });
export const Readiness = z.object({
  status: z.enum(['ready', 'not ready']), backbones_loaded: z.boolean(), registry_open: z.boolean(), shutting_down: z.boolean(),
});
export const OpenApiJson = json;
