/**
 * Request schemas (zod). The same objects validate requests and, converted to JSON Schema,
 * document them in /openapi.json, so the documentation cannot drift from what is enforced.
 * Limits that depend on configuration (inputs per request, text length) are checked by the
 * services, which know the configuration.
 */
import { z } from 'zod';
import { EXPORT_FILES, HEAD_CONFIG_FILE, HEAD_WEIGHTS_FILE, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from '../registry/peft.ts';
import { ALIAS_PATTERN, NAME_PATTERN, SLUG_PATTERN } from '../registry/validate.ts';
import { AUTO_METHOD } from '../service/auto.ts';
import { METHOD_NAMES, REQUESTABLE_METHOD_NAMES } from '../service/methods.ts';

const slug = z.string().regex(SLUG_PATTERN, 'expected a slug: lower-case letters, digits, ".", "_", "-"; 1-128 chars');
const adapterName = z.string().regex(NAME_PATTERN, 'expected a name: "/"-separated segments of letters, digits, "._@-", each starting with a letter or digit; 1-128 chars');
/** A method of the method table (or an alias of one). */
const method = z.enum([AUTO_METHOD, ...REQUESTABLE_METHOD_NAMES], {
  error: (issue) => `expected one of ${[AUTO_METHOD, ...METHOD_NAMES].join(', ')}, got ${JSON.stringify(issue.input) ?? 'nothing'}`.replace(/got "(.*)"$/, "got '$1'"),
}).describe(`a method of GET /v1/methods; ${AUTO_METHOD} (the default) chooses the prior and zoo from the task, or a prior-free method when no zoo is close`);
const alias = z.string().regex(ALIAS_PATTERN, 'expected an alias: a letter, then letters, digits, "_", "-"; 1-64 chars');

export const Page = z.object({
  page_token: z.string().min(1).optional(),
  max_results: z.coerce.number().int().min(1).max(1000).optional(),
});

export const Input = z.strictObject({
  text: z.string().optional(),
  image_base64: z.string().optional(),
}).describe('One input: exactly one of text / image_base64 (PNG or JPEG, optionally a data URL).');

export const Example = z.strictObject({
  label: z.string().min(1),
  split: z.enum(['support', 'query']).optional().describe('default support'),
  text: z.string().optional(),
  image_base64: z.string().optional(),
});

export const TaskCreate = z.strictObject({
  id: slug,
  name: z.string().min(1).max(200).optional(),
  modality: z.enum(['text', 'image']).optional().describe('default: from the first example'),
  labels: z.array(z.string().min(1)).max(1000).optional().describe('ordered label set; default: support labels in order of first appearance'),
  metadata: z.record(z.string(), z.unknown()).optional(),
  examples: z.array(Example),
});

export const TaskList = Page.extend({ modality: z.enum(['text', 'image']).optional() });
export const TaskFileQuery = z.object({ id: slug.optional().describe('task id for a JSONL body (default: the task name)') });
export const TaskFileBody = z.strictObject({ jsonl: z.string().min(1).describe('the JSONL task-file text'), id: TaskFileQuery.shape.id });
export const ExampleList = z.object({ split: z.enum(['support', 'query']).optional() });
export const IdParams = z.object({ id: z.string().min(1) });

export const FitOptions = z.strictObject({
  rank: z.number().int().min(1).max(64).optional(),
  alpha: z.number().positive().optional(),
  steps: z.number().int().min(0).max(2000).optional(),
  lr: z.number().positive().max(10).optional(),
  tau: z.number().positive().max(1000).optional(),
  starts: z.number().int().min(1).max(16).optional(),
});

export const PriorRef = z.strictObject({
  id: z.string().min(1).optional(),
  name: adapterName.optional(),
  version: z.number().int().min(1).optional(),
}).refine((p) => (p.id === undefined) !== (p.name === undefined), 'expected exactly one of id or name')
  .refine((p) => p.version === undefined || p.name !== undefined, 'version needs a name')
  .describe("The prior to fit under: {id} or {name, version?}; default: the newest prior of the task's zoo, else of its base model.");

export const zooName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'expected a zoo name: lower-case letters, digits, ".", "_", "-"; 1-128 chars');

export const FitBody = FitOptions.extend({
  method: method.optional(),
  prior: PriorRef.optional(),
  zoo: zooName.optional().describe('also promote the fitted adapter into this zoo (created on first use)'),
  seed: z.number().int().min(0).optional(),
  name: adapterName.optional(),
  alias: alias.optional(),
  posterior_samples: z.number().int().min(1).max(64).optional(),
  job: z.boolean().optional().describe('run as a cancellable job: answer 202 with the job and Location; needed for work above the inline bound (steps x rank x examples)'),
});

export const AdapterRef = z.strictObject({
  id: z.string().min(1).optional(),
  name: adapterName.optional(),
  alias: alias.optional(),
  version: z.number().int().min(1).optional(),
  task: z.string().min(1).optional(),
}).describe('Exactly one of id, name (+ alias or version; latest when neither) or task (its default adapter).');

export const PredictBody = z.strictObject({ adapter: AdapterRef, inputs: z.array(Input) });

export const RetrieveBody = z.strictObject({
  inputs: z.array(Input),
  zoo: zooName.optional().describe('rank the members of this zoo; default: every zoo of the inputs\' base model'),
  zoo_version: z.number().int().min(1).optional().describe('with zoo: rank this version (default latest)'),
  top_k: z.number().int().min(1).max(100).optional().describe('candidates returned, and members mixed in mode mixture (default 3)'),
  mode: z.enum(['best', 'mixture']).optional().describe('best: predict with the top member on its own labels (default); mixture: average the top-k members\' predictions over the union of their labels'),
  routing: z.enum(['embedding', 'arrow']).optional().describe('embedding: task-embedding cosine (default); arrow: mean |v·x| with v the top singular vector of each member\'s B·A'),
  predict: z.boolean().optional().describe('also predict (default true)'),
});

export const CompareBody = FitOptions.extend({
  methods: z.array(method).min(1).max(16).optional().describe(`default ["${AUTO_METHOD}"]`),
  prior: PriorRef.optional(),
  query: z.array(Example.omit({ split: true })).optional().describe("labelled queries; default: the task's query split"),
  seed: z.number().int().min(0).optional(),
  job: z.boolean().optional().describe('run as a job: answer 202 with the job (phase k of n = method k of n) and Location; its result is this route\'s 200 body'),
});

export const AdapterList = Page.extend({
  task_id: z.string().min(1).optional(),
  method: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
  alias: z.string().min(1).optional(),
  base_model: z.string().min(1).optional(),
});
export const NameParams = z.object({ name: adapterName.describe('adapter name; its "/" may be sent literally or as %2F') });
export const NameQuery = z.object({
  alias: z.string().min(1).optional(),
  version: z.coerce.number().int().min(1).optional(),
}).describe('at most one; latest version when neither');
export const AliasParams = NameParams.extend({ alias: z.string().min(1) });
export const PeftFileParams = z.object({ id: z.string().min(1), file: z.string().min(1).describe(`one file of the export: ${EXPORT_FILES.join(', ')}`) });
export const AliasBody = z.strictObject({ version: z.number().int().min(1) });

const jsonFile = z.union([z.record(z.string(), z.unknown()), z.string()]);

export const PeftImport = z.strictObject({
  [PEFT_CONFIG_FILE]: jsonFile.describe('the PEFT LoraConfig as an object or JSON text'),
  [PEFT_WEIGHTS_FILE]: z.string().min(1).describe('base64 of the LoRA safetensors file'),
  [HEAD_CONFIG_FILE]: jsonFile.optional().describe('the head metadata (labels, τ, lineage) as an object or JSON text; absent for a foreign PEFT LoRA'),
  [HEAD_WEIGHTS_FILE]: z.string().min(1).optional().describe('base64 of the head safetensors file (prototypes, posterior samples)'),
  name: adapterName.optional(),
  labels: z.array(z.string().min(1)).optional(),
  method: z.string().min(1).optional(),
  task_id: z.string().min(1).nullable().optional().describe('the task the adapter belongs to; an adapter without a head (foreign PEFT) is attached to it'),
  alias: alias.optional(),
});

export const AttachBody = z.strictObject({
  task_id: z.string().min(1).describe("the task whose support set gives the head (class prototypes); its labels become the adapter's"),
  tau: z.number().positive().max(1000).optional().describe("head temperature τ; default the adapter's, else 10"),
});

export const PriorList = Page.extend({ name: z.string().min(1).optional(), base_model: z.string().min(1).optional() });
