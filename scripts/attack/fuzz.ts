/**
 * A seeded fuzzer over every route of the server's own OpenAPI document. For each operation it
 * builds a valid request from a small set of fixtures it creates first (a text task, a fitted
 * adapter with an alias, its PEFT export, a zoo, a finished job), then sends that request as is
 * or with one to three mutations: hostile JSON values, missing or unknown fields, deep nesting,
 * truncated or non-UTF-8 bodies, wrong media types, charsets and Content-Encodings, bad % escapes
 * and junk in path and query parameters, missing or wrong API keys, unacceptable Accept headers.
 *
 * Each answer is checked: never a 5xx, never a hang or reset, every error in the
 * `{ error: { code, message } }` envelope without a stack trace, and, after every non-2xx answer,
 * the registry's row counts unchanged (nothing half-written). Requests go one at a time, and a
 * job a valid request started is waited for, so a count change can only come from the request.
 */
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { createRng, type Rng } from '../../adapters/rng.ts';
import { send, type RawRequest, type RawResponse } from './http-client.ts';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface FuzzOptions {
  /** Base URL of a running server. */
  readonly url: string;
  /** The server's API key (null: it has none). */
  readonly apiKey: string | null;
  readonly seed: number;
  /** Requests per operation. */
  readonly perRoute: number;
  /** Rows per table of the registry, for the check after every non-2xx answer. */
  readonly rowCounts?: () => Record<string, number>;
  /** Called after each request with (sent, total). */
  readonly progress?: (done: number, total: number) => void;
  /** A request taking longer counts as a hang. */
  readonly timeoutMs?: number;
}

export interface RouteTally {
  readonly operation: string;
  readonly '2xx': number;
  readonly '3xx': number;
  readonly '4xx': number;
  readonly '5xx': number;
  /** No answer: timeout, reset or other socket error. */
  readonly failedExchanges: number;
  /** Non-2xx answers after which a table's row count had changed. */
  readonly rowChanges: number;
  /** Error answers without the error envelope, or with a stack trace in the body. */
  readonly badBodies: number;
}

export interface FuzzFailure {
  readonly operation: string;
  readonly what: string;
  readonly request: { method: string; path: string; headers: Record<string, string>; body: string };
  readonly status: number;
  readonly response: string;
}

export interface FuzzReport {
  readonly seed: number;
  readonly requests: number;
  readonly routes: RouteTally[];
  readonly failures: FuzzFailure[];
  readonly seconds: number;
}

interface Operation {
  readonly id: string;
  readonly method: string;
  /** OpenAPI path, e.g. /v1/tasks/{id}. */
  readonly path: string;
  readonly params: { name: string; in: 'path' | 'query'; schema: Json }[];
  /** Media type -> schema. */
  readonly body: Record<string, Json>;
  readonly secured: boolean;
}

/** What the fixtures created; valid requests refer to these. */
interface Fixtures {
  readonly task: string;
  readonly adapterId: string;
  readonly adapterName: string;
  readonly alias: string;
  readonly zoo: string;
  readonly jobId: string;
  readonly baseModel: string;
  readonly peft: Json;
}

const TEXTS = ['The staff were friendly and the room was spotless.', 'The package arrived late and the box was crushed.',
  'Great value, would come back.', 'Terrible service, never again.', 'A calm and pleasant stay.', 'Broken on arrival.'];

function operationsOf(doc: Json): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries<Json>(doc.paths)) {
    for (const [method, op] of Object.entries<Json>(methods)) {
      const body: Record<string, Json> = {};
      for (const [type, c] of Object.entries<Json>(op.requestBody?.content ?? {})) body[type] = c.schema;
      ops.push({
        id: op.operationId, method: method.toUpperCase(), path, body,
        params: (op.parameters ?? []).map((p: Json) => ({ name: p.name, in: p.in, schema: p.schema })),
        secured: !(Array.isArray(op.security) && op.security.length === 0),
      });
    }
  }
  return ops;
}

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)];

/** Hostile JSON values: wrong types, extremes, odd strings, nesting. */
function hostileValue(rng: Rng): Json {
  const deep = (n: number): Json => { let v: Json = 1; for (let i = 0; i < n; i++) v = [v]; return v; };
  return pick<() => Json>(rng, [
    () => null, () => -1, () => 0, () => 1e308, () => -1e308, () => 2 ** 53 + 1, () => 0.5, () => 'NaN', () => '',
    () => 'x'.repeat(20_000), () => '\u0000\ud800\uffff', () => '../../etc/passwd', () => '%ff%00', () => [], () => {}, () => true,
    () => deep(50), () => deep(200), () => Array.from({ length: 2000 }, (_, i) => i), () => ({ __proto__: { polluted: 1 }, constructor: { prototype: 1 } }),
    () => 'Bearer', () => ({ text: 'x' }), () => [{ text: '' }], () => 1e-320, () => '9'.repeat(400),
  ])();
}

/** A string for a path or query parameter. */
function hostileParam(rng: Rng): string {
  return pick(rng, ['%ff', '%', '%00', '%E0%A4%A', '..%2F..%2Fetc%2Fpasswd', '%2F', 'x'.repeat(5000), encodeURIComponent('ünïcødé-😀'),
    '-1', '0', '1e9', '99999999999999999999', 'null', 'undefined', '__proto__', 'constructor', '%20', 'a%2Fb%2Fc', '.', '..', 'A'.repeat(129), '%0d%0aX-Injected:%201']);
}

/** Replaces `{name}` / `{name*}` in an OpenAPI path. */
function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\*?\}/g, (_, name: string) => values[name] ?? 'x');
}

export class Fuzzer {
  private readonly base: URL;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private readonly rng: Rng;
  private readonly auth: Record<string, string>;
  private fresh = 0;
  /** Names the fixtures and created records: the seed, plus the start time so reruns on one registry do not collide. */
  private readonly tag: string;

  constructor(private readonly options: FuzzOptions) {
    this.base = new URL(options.url);
    this.rng = createRng(options.seed);
    this.tag = `${options.seed}x${Date.now().toString(36)}`;
    this.auth = options.apiKey === null ? {} : { authorization: `Bearer ${options.apiKey}` };
  }

  private async call(method: string, path: string, body?: unknown): Promise<RawResponse & { json: Json }> {
    const headers: Record<string, string> = { ...this.auth };
    let raw: Buffer | undefined;
    if (body !== undefined) { headers['content-type'] = 'application/json'; raw = Buffer.from(JSON.stringify(body)); }
    const r = await send(this.base, { method, path, headers, body: raw }, { agent: this.agent, timeoutMs: this.options.timeoutMs });
    let json: Json = null;
    try { json = JSON.parse(r.body); } catch { /* not JSON */ }
    return { ...r, json };
  }

  private async must(method: string, path: string, body?: unknown): Promise<Json> {
    const r = await this.call(method, path, body);
    if (r.status < 200 || r.status >= 300) throw new Error(`fixture ${method} ${path}: ${r.status} ${r.error ?? ''} ${r.body.slice(0, 300)}`);
    return r.json;
  }

  /** Creates the fixtures (names start with `fz`, unique per seed). */
  async fixtures(): Promise<Fixtures> {
    const task = `fz-${this.tag}`;
    const examples = TEXTS.map((text, i) => ({ label: i % 2 ? 'neg' : 'pos', text, ...(i >= 4 ? { split: 'query' } : {}) }));
    const created = await this.must('POST', '/v1/tasks', { id: task, examples });
    const baseModel: string = (created.tasks?.[0] ?? created.task ?? created).base_model_sha256 ?? (await this.must('GET', `/v1/tasks/${task}`)).base_model_sha256;
    const adapterName = `fz.a${this.tag}`;
    const fit = await this.must('POST', `/v1/tasks/${task}/fit`, { method: 'prototypes', name: adapterName, alias: 'prod' });
    const adapterId: string = fit.adapter.id;
    const peft = await this.must('GET', `/v1/adapters/${adapterId}/peft`);
    const zoo = `fz-zoo-${this.tag}`;
    await this.must('POST', '/v1/zoos', { name: zoo, base_model: baseModel });
    await this.must('POST', `/v1/zoos/${zoo}/members`, { adapters: [{ id: adapterId }] });
    const job = await this.must('POST', `/v1/tasks/${task}/fit`, { method: 'prototypes', name: `${adapterName}.job`, job: true });
    await this.waitForJob(job.job.id);
    return { task, adapterId, adapterName, alias: 'prod', zoo, jobId: job.job.id, baseModel, peft };
  }

  private async waitForJob(id: string): Promise<void> {
    const deadline = performance.now() + 120_000;
    while (performance.now() < deadline) {
      const r = await this.call('GET', `/v1/jobs/${id}`);
      if (r.status !== 200 || ['succeeded', 'failed', 'cancelled'].includes(r.json?.status)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await this.call('POST', `/v1/jobs/${id}/cancel`);
  }

  /** A valid body for the operation (before mutation), by operation id. */
  private validBody(op: Operation, fx: Fixtures, type: string): { body: Json; text?: string } {
    const n = ++this.fresh;
    const input = { text: pick(this.rng, TEXTS) };
    const examples = TEXTS.slice(0, 4).map((text, i) => ({ label: i % 2 ? 'neg' : 'pos', text }));
    if (type === 'application/x-ndjson') {
      return { body: null, text: examples.map((e) => JSON.stringify({ task: `fz-nd-${this.tag}-${n}`, ...e })).join('\n') };
    }
    switch (op.id) {
      case 'createTask': return { body: { id: `fz-t${this.tag}-${n}`, examples } };
      case 'fitAdapter': return { body: { method: pick(this.rng, ['prototypes', 'independent', 'linear-probe']), steps: 5, rank: 2, name: `fz.f${this.tag}-${n}` } };
      case 'compareMethods': return { body: { methods: ['prototypes', 'independent'], steps: 5, rank: 2 } };
      case 'predict': return { body: { adapter: pick(this.rng, [{ id: fx.adapterId }, { name: fx.adapterName, alias: fx.alias }, { task: fx.task }]), inputs: [input] } };
      case 'retrieve': return { body: { inputs: [input], zoo: fx.zoo, top_k: 1 } };
      case 'importAdapter': return { body: { ...fx.peft, name: `fz.i${this.tag}-${n}` } };
      case 'attachAdapter': return { body: { task_id: fx.task } };
      case 'setAlias': return { body: { version: 1 } };
      case 'createZoo': return { body: { name: `fz-z${this.tag}-${n}`, base_model: fx.baseModel } };
      case 'promoteToZoo': return { body: { adapters: [{ id: fx.adapterId }] } };
      case 'trainPrior': return { body: { zoo: fx.zoo } };
      default: return { body: {} };
    }
  }

  /** Valid path and query values for the operation. */
  private validParams(op: Operation, fx: Fixtures): Record<string, string> {
    // Deletions aim at what the fuzzer itself created (or a name it may have), not at the fixtures.
    const recent = `${this.tag}-${Math.max(1, this.fresh - this.rng.int(5))}`;
    const deleting = op.method === 'DELETE';
    const byName: Record<string, string> = {
      id: op.path.startsWith('/v1/tasks') ? (deleting ? `fz-t${recent}` : fx.task) : op.path.startsWith('/v1/jobs') ? fx.jobId : fx.adapterId,
      name: fx.adapterName, alias: deleting || this.rng.uniform() < 0.5 ? 'tmp' : fx.alias,
      zoo: deleting && !op.path.includes('members') ? `fz-z${recent}` : fx.zoo, adapter_id: fx.adapterId, file: 'adapter_config.json',
    };
    const values: Record<string, string> = {};
    for (const p of op.params) {
      if (p.in === 'path') values[p.name] = encodeURIComponent(byName[p.name] ?? 'x').replace(/%2F/g, '/');
      else if (this.rng.uniform() < 0.3) {
        const s = p.schema ?? {};
        values[p.name] = s.enum ? pick(this.rng, s.enum) : s.type === 'integer' ? String(1 + this.rng.int(20)) : byName[p.name] ?? 'x';
      }
    }
    return values;
  }

  /** One request for the operation: valid, or with 1-3 mutations. */
  request(op: Operation, fx: Fixtures): { req: RawRequest; mutations: string[] } {
    const rng = this.rng;
    const values = this.validParams(op, fx);
    const types = Object.keys(op.body);
    let type = types.length ? pick(rng, types) : undefined;
    const valid = type ? this.validBody(op, fx, type) : { body: undefined };
    let body: Json = valid.body;
    let raw: Buffer | undefined = type ? Buffer.from(valid.text ?? JSON.stringify(body)) : undefined;
    const headers: Record<string, string> = { ...(op.secured ? this.auth : {}) };
    const mutations: string[] = [];
    const count = rng.uniform() < 0.15 ? 0 : 1 + rng.int(3);
    for (let m = 0; m < count; m++) {
      const kind = rng.int(12);
      if (kind <= 3 && type !== undefined && typeof body === 'object' && body !== null && !Array.isArray(body)) {
        // JSON field mutations keep the body parseable, so they reach schema and domain checks.
        const keys = Object.keys(body);
        const which = rng.int(4);
        if (which === 0 && keys.length) { const k = pick(rng, keys); delete body[k]; mutations.push(`drop ${k}`); }
        else if (which === 1) { body[pick(rng, ['extra', '__proto__', 'constructor', 'job', 'steps', 'rank'])] = hostileValue(rng); mutations.push('add field'); }
        else if (keys.length) {
          const k = pick(rng, keys);
          const v = body[k];
          if (Array.isArray(v) && v.length && typeof v[0] === 'object' && rng.uniform() < 0.5) {
            const inner = { ...v[0] };
            const ik = Object.keys(inner);
            if (ik.length) inner[pick(rng, ik)] = hostileValue(rng);
            body[k] = rng.uniform() < 0.5 ? [inner] : Array.from({ length: 300 }, () => inner);
            mutations.push(`${k}[0] hostile`);
          } else { body[k] = hostileValue(rng); mutations.push(`${k} hostile`); }
        }
        raw = Buffer.from(JSON.stringify(body));
      } else if (kind === 4 && raw !== undefined) {
        raw = pick(rng, [
          () => raw!.subarray(0, rng.int(raw!.length)),
          () => Buffer.concat([raw!, Buffer.from([0xff, 0xfe, 0x00])]),
          () => Buffer.from('\ufeff' + raw!.toString()),
          () => Buffer.from(raw!.toString().replace('{', '{"id":1,"id":2,')),
          () => Buffer.from('['.repeat(8000) + ']'.repeat(8000)),
          () => Buffer.from('{"a":'.repeat(3000) + '1' + '}'.repeat(3000)),
          () => Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28]),
          () => Buffer.alloc(0),
        ])();
        mutations.push('raw body');
      } else if (kind === 5) {
        type = pick(rng, ['text/plain', 'application/x-ndjson', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16',
          'application/json; charset=koi8-r', 'application/xml', '', 'application/json;;;', 'application/merge-patch+json']);
        raw ??= Buffer.from('{}');
        mutations.push(`content-type ${type}`);
      } else if (kind === 6 && raw !== undefined) {
        const encoding = pick(rng, ['gzip', 'deflate', 'br', 'identity', 'compress', 'gzip, gzip']);
        headers['content-encoding'] = encoding;
        if (encoding === 'gzip' && rng.uniform() < 0.5) raw = gzipSync(raw);
        mutations.push(`content-encoding ${encoding}`);
      } else if (kind === 7) {
        const auth = pick(rng, [undefined, 'Bearer', 'Bearer wrong', `Basic ${Buffer.from('a:b').toString('base64')}`, `Bearer ${'k'.repeat(5000)}`, 'bearer  ']);
        if (auth === undefined) delete headers.authorization; else headers.authorization = auth;
        mutations.push('auth');
      } else if (kind === 8) {
        headers.accept = pick(rng, ['text/html', 'application/xml', '*/*;q=0', 'garbage', 'application/json;q=0', 'image/png']);
        mutations.push(`accept ${headers.accept}`);
      } else if (kind === 9 && op.params.some((p) => p.in === 'path')) {
        const p = pick(rng, op.params.filter((q) => q.in === 'path'));
        values[p.name] = hostileParam(rng);
        mutations.push(`path ${p.name}`);
      } else if (kind === 10) {
        const q = op.params.filter((p) => p.in === 'query');
        const name = q.length && rng.uniform() < 0.7 ? pick(rng, q).name : pick(rng, ['x', '__proto__', 'max_results', 'page_token']);
        values[`?${name}`] = hostileParam(rng);
        mutations.push(`query ${name}`);
      } else if (kind === 11 && type === undefined) {
        // A body on a route that takes none (e.g. GET): must be ignored, never parsed.
        type = 'application/json';
        raw = Buffer.from(JSON.stringify({ big: 'y'.repeat(rng.int(200_000)) }));
        mutations.push('unexpected body');
      }
    }
    const query = new URLSearchParams();
    for (const p of op.params) if (p.in === 'query' && values[p.name] !== undefined) query.append(p.name, values[p.name]);
    let path = fillPath(op.path, values);
    const extra = Object.entries(values).filter(([k]) => k.startsWith('?'));
    const qs = [query.toString(), ...extra.map(([k, v]) => `${encodeURIComponent(k.slice(1))}=${v}`)].filter(Boolean).join('&');
    if (qs) path += `?${qs}`;
    if (raw !== undefined && type !== undefined && type !== '') headers['content-type'] = type;
    return { req: { method: op.method, path, headers, body: raw }, mutations };
  }

  async run(): Promise<FuzzReport> {
    const start = performance.now();
    const doc = await this.must('GET', '/openapi.json');
    const ops = operationsOf(doc);
    const fx = await this.fixtures();
    const tallies = new Map(ops.map((op) => [op.id, { operation: op.id, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, failedExchanges: 0, rowChanges: 0, badBodies: 0 }]));
    const failures: FuzzFailure[] = [];
    const total = ops.length * this.options.perRoute;
    let done = 0;
    // Interleave operations so a state change by one (e.g. a deleted fixture) affects all evenly.
    for (let round = 0; round < this.options.perRoute; round++) {
      for (const op of ops) {
        const { req, mutations } = this.request(op, fx);
        const before = this.options.rowCounts?.();
        const r = await send(this.base, req, { agent: this.agent, timeoutMs: this.options.timeoutMs ?? 60_000 });
        const t = tallies.get(op.id)!;
        const fail = (what: string) => {
          if (failures.length < 50) {
            failures.push({
              operation: op.id, what: `${what} [${mutations.join('; ') || 'valid'}]`, status: r.status, response: r.body.slice(0, 400),
              request: { method: req.method, path: req.path.slice(0, 300), headers: req.headers, body: (req.body ?? Buffer.alloc(0)).toString('utf8').slice(0, 300) },
            });
          }
        };
        if (r.status === 0) { t.failedExchanges++; fail(`no answer: ${r.error}`); }
        else {
          const cls = `${Math.floor(r.status / 100)}xx` as '2xx';
          if (cls in t) t[cls]++;
          if (r.status >= 500) fail(`status ${r.status}`);
          if (r.status >= 400 && req.method !== 'HEAD') {
            let envelope = false;
            try { const j = JSON.parse(r.body); envelope = typeof j?.error?.code === 'string' && typeof j?.error?.message === 'string'; } catch { /* not JSON */ }
            if (!envelope || /\bat .+\.(ts|js):\d+/.test(r.body)) { t.badBodies++; fail('error body without the envelope or with a stack'); }
          }
        }
        if (r.status === 202 && req.method === 'POST') {
          try { const id = JSON.parse(r.body)?.job?.id; if (typeof id === 'string') await this.waitForJob(id); } catch { /* not a job */ }
        }
        if (before && (r.status < 200 || r.status >= 300)) {
          const after = this.options.rowCounts!();
          const changed = Object.keys(before).filter((k) => before[k] !== after[k]);
          if (changed.length) { t.rowChanges++; fail(`rows changed after ${r.status}: ${changed.map((k) => `${k} ${before[k]}→${after[k]}`).join(', ')}`); }
        }
        done++;
        this.options.progress?.(done, total);
      }
    }
    this.agent.destroy();
    return { seed: this.options.seed, requests: done, routes: [...tallies.values()], failures, seconds: (performance.now() - start) / 1000 };
  }
}

export function fuzz(options: FuzzOptions): Promise<FuzzReport> {
  return new Fuzzer(options).run();
}
