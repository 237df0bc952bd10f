/**
 * Bad input and access control against the real server (API key set, small body limit): every
 * class of bad request gets a clear 4xx naming the field, `{ error: { code, message } }`, and
 * nothing half-written is left in the registry.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { encodePng } from '../backbone/image.ts';
import { readSafetensors, writeSafetensors } from '../registry/safetensors.ts';
import { startServer, type RunningServer } from '../server/start.ts';
import { DEFAULT_CONFIG } from '../server/config.ts';
import { createLogger } from '../service/log.ts';

const KEY = 'test-key-123';
const AUTH = { authorization: `Bearer ${KEY}` };
let server: RunningServer;
let dir: string;

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH): Promise<{ status: number; json: Json; text: string }> {
  const res = await fetch(server.url + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text };
}

/** Asserts a 4xx with the error envelope, a code and a message matching `pattern`. */
async function expectError(res: Promise<{ status: number; json: Json; text: string }>, status: number, pattern: RegExp): Promise<void> {
  const r = await res;
  assert.equal(r.status, status, r.text);
  assert.equal(typeof r.json?.error?.code, 'string', r.text);
  assert.match(r.json.error.message, pattern);
  assert.equal(Object.keys(r.json).join(), 'error');
}

const ok = (label: string, text: string, split?: string) => ({ label, text, ...(split ? { split } : {}) });
const GOOD = { id: 'good', examples: [ok('a', 'first text'), ok('b', 'second text'), ok('a', 'third text', 'query')] };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lift-server-errors-'));
  server = await startServer({
    ...DEFAULT_CONFIG, port: 0, registryUrl: join(dir, 'registry.sqlite'), apiKey: KEY,
    bodyLimitBytes: 32 * 1024, maxInputs: 8, maxTextLength: 100, maxInlineWork: 100_000, maxJobWork: 300_000,
  }, { logger: createLogger('silent') });
  assert.equal((await call('POST', '/v1/tasks', GOOD)).status, 201);
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('server: auth', () => {
  it('rejects requests without or with a wrong key, reads included (test/access.test.ts covers every route)', async () => {
    await expectError(call('POST', '/v1/tasks', { ...GOOD, id: 'x1' }, {}), 401, /missing API key/);
    await expectError(call('POST', '/v1/tasks', { ...GOOD, id: 'x1' }, { authorization: 'Bearer nope' }), 401, /invalid API key/);
    await expectError(call('POST', '/v1/tasks/good/fit', { method: 'prototypes' }, { authorization: KEY }), 401, /invalid API key/);
    await expectError(call('DELETE', '/v1/tasks/good', undefined, {}), 401, /API key/);
    await expectError(call('PUT', '/v1/adapter-names/n/-/aliases/prod', { version: 1 }, {}), 401, /API key/);
    await expectError(call('POST', '/v1/adapters/import', {}, {}), 401, /API key/);
    await expectError(call('GET', '/v1/tasks/good', undefined, {}), 401, /missing API key/);
    await expectError(call('GET', '/v1/tasks/good/examples', undefined, { authorization: 'Bearer nope' }), 401, /invalid API key/);
    assert.equal((await call('GET', '/v1/tasks/x1')).status, 404, 'nothing was created');
    assert.equal((await call('GET', '/v1/tasks/good')).status, 200);
  });
});

describe('server: bad input', () => {
  it('refuses oversized bodies with 413 and malformed JSON with 400', async () => {
    const big = { id: 'big', examples: Array.from({ length: 400 }, (_, i) => ok(i % 2 ? 'a' : 'b', `text number ${i} `.repeat(6))) };
    await expectError(call('POST', '/v1/tasks', big), 413, /at most 32768 bytes/);
    await expectError(call('POST', '/v1/tasks', '{"id": "x", '), 400, /malformed JSON/);
    await expectError(call('POST', '/v1/predict', '[1, 2'), 400, /malformed JSON/);
  });

  it('names missing fields, wrong types and unknown fields', async () => {
    await expectError(call('POST', '/v1/tasks', {}), 400, /body\.id/);
    await expectError(call('POST', '/v1/tasks', { id: 'x2', examples: 'nope' }), 400, /body\.examples: expected array/);
    await expectError(call('POST', '/v1/tasks', { id: 'Bad Id!', examples: [] }), 400, /body\.id: expected a slug/);
    await expectError(call('POST', '/v1/tasks', { ...GOOD, id: 'x3', examples: [{ label: 'a', text: 3 }] }), 400, /body\.examples\[0\]\.text: expected string/);
    await expectError(call('POST', '/v1/tasks', { ...GOOD, id: 'x4', colour: 'red' }), 400, /colour/);
    await expectError(call('POST', '/v1/tasks/good/fit', { rank: 'two' }), 400, /body\.method.*|body\.rank/);
    await expectError(call('POST', '/v1/tasks/good/fit', { method: 'prototypes', steps: -1 }), 400, /body\.steps/);
    await expectError(call('POST', '/v1/predict', { inputs: [{ text: 'hi' }] }), 400, /body\.adapter/);
    await expectError(call('GET', '/v1/tasks?max_results=0'), 400, /query\.max_results/);
    await expectError(call('GET', '/v1/tasks?page_token=garbage'), 400, /token/i);
  });

  it('rejects empty, single-label, unbalanced and mislabelled few-shot sets', async () => {
    await expectError(call('POST', '/v1/tasks', { id: 'e1', examples: [] }), 400, /examples: expected at least 2/);
    await expectError(call('POST', '/v1/tasks', { id: 'e2', examples: [ok('a', 'one'), ok('a', 'two')] }), 400, /at least 2 labels/);
    await expectError(call('POST', '/v1/tasks', { id: 'e3', labels: ['a', 'b', 'c'], examples: [ok('a', 'one'), ok('b', 'two')] }), 400, /every label needs at least 1 support example; none for 'c'/);
    await expectError(call('POST', '/v1/tasks', { id: 'e4', examples: [ok('a', 'one'), ok('b', 'two'), ok('c', 'three', 'query')] }), 400, /examples\[2\]\.label: expected one of a, b, got 'c'/);
    await expectError(call('POST', '/v1/tasks', { id: 'e5', examples: [ok('a', 'one'), ok('b', 'two'), ok('b', 'one')] }), 400, /same content|label/);
    await expectError(call('POST', '/v1/tasks', { id: 'e6', examples: Array.from({ length: 9 }, (_, i) => ok(i % 2 ? 'a' : 'b', `t${i}`)) }), 400, /at most 8 examples/);
    for (const id of ['e1', 'e2', 'e3', 'e4', 'e5', 'e6']) assert.equal((await call('GET', `/v1/tasks/${id}`)).status, 404, `${id} was not created`);
  });

  it('rejects undecodable images, oversized or empty texts and mixed modalities', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]).toString('base64');
    await expectError(call('POST', '/v1/tasks', { id: 'i1', examples: [{ label: 'a', image_base64: png }, { label: 'b', image_base64: png }] }), 400, /examples\[0\]\.image_base64: cannot decode image: invalid PNG/);
    await expectError(call('POST', '/v1/tasks', { id: 'i2', examples: [{ label: 'a', image_base64: Buffer.from('hello').toString('base64') }, { label: 'b', image_base64: '!!!' }] }), 400, /examples\[0\]\.image_base64: cannot decode image: unsupported format/);
    await expectError(call('POST', '/v1/tasks', { id: 'i3', examples: [ok('a', 'x'.repeat(101)), ok('b', 'fine')] }), 400, /examples\[0\]\.text: expected at most 100 characters, got 101/);
    await expectError(call('POST', '/v1/tasks', { id: 'i4', examples: [ok('a', '   '), ok('b', 'fine')] }), 400, /examples\[0\]\.text: expected non-empty/);
    await expectError(call('POST', '/v1/tasks', { id: 'i5', examples: [ok('a', 'text'), { label: 'b', image_base64: png }] }), 400, /examples\[1\]: expected text in a text task/);
    await expectError(call('POST', '/v1/tasks', { id: 'i6', examples: [{ label: 'a', text: 'x', image_base64: png }, ok('b', 'y')] }), 400, /exactly one of text or image_base64/);
    for (const id of ['i1', 'i2', 'i3', 'i4', 'i5', 'i6']) assert.equal((await call('GET', `/v1/tasks/${id}`)).status, 404);
  });

  it('answers 415 naming the accepted types for a body of another media type', async () => {
    await expectError(call('POST', '/v1/tasks', 'id=x&examples=1', { ...AUTH, 'content-type': 'application/x-www-form-urlencoded' }), 415,
      /expected Content-Type application\/json or application\/x-ndjson, got application\/x-www-form-urlencoded/);
    await expectError(call('POST', '/v1/tasks/good/fit', '{"method":"prototypes"}', { ...AUTH, 'content-type': 'text/plain' }), 415, /expected Content-Type application\/json, got text\/plain/);
    await expectError(call('PUT', '/v1/adapter-names/n/-/aliases/prod', undefined, AUTH), 400, /body\.version/);
  });

  it('stores a multi-task file atomically and names the failing line', async () => {
    const line = (task: string, label: string, text: string, split = 'support') => JSON.stringify({ task, split, label, text });
    const file = [line('first', 'a', 'alpha one'), line('first', 'b', 'beta one'), line('second', 'a', 'alpha two'), line('second', 'b', 'x'.repeat(101))].join('\n');
    await expectError(call('POST', '/v1/tasks', { jsonl: file }), 400, /^task file: line 4 \(text\), task "second" \(id 'second'\): expected at most 100 characters, got 101$/);
    assert.equal((await call('GET', '/v1/tasks/first')).status, 404, 'the first task was not stored');
    const taken = [line('third', 'a', 'alpha three'), line('third', 'b', 'beta three'), line('good', 'a', 'alpha good'), line('good', 'b', 'beta good')].join('\n');
    await expectError(call('POST', '/v1/tasks', { jsonl: taken }), 409, /task 'good' already exists: line 3 of the task file/);
    assert.equal((await call('GET', '/v1/tasks/third')).status, 404, 'the third task was not stored');
    const fine = await call('POST', '/v1/tasks', { jsonl: file.replace('x'.repeat(101), 'beta two') });
    assert.equal(fine.status, 201, fine.text);
    assert.deepEqual(fine.json.tasks.map((t: { id: string }) => t.id), ['first', 'second']);
  });

  it('rejects bad task files line by line', async () => {
    const lines = '{"task": "t", "split": "support", "label": "a", "text": "x"}\nnot json\n{"task": "t", "split": "support", "label": "b", "image": "/etc/passwd"}';
    await expectError(call('POST', '/v1/tasks', { jsonl: lines }), 400, /line 2: invalid JSON[\s\S]*line 3: image: .*only allowed in task files on disk/);
  });

  it('maps unknown tasks, adapters, methods and conflicts to 404 / 400 / 409', async () => {
    await expectError(call('POST', '/v1/tasks', GOOD), 409, /already exists/);
    await expectError(call('POST', '/v1/tasks/nope/fit', { method: 'prototypes' }), 404, /task 'nope' not found/);
    await expectError(call('POST', '/v1/tasks/good/fit', { method: 'magic' }), 400, /method: expected one of auto, prototypes, .*lift-posterior, got 'magic'/);
    await expectError(call('POST', '/v1/tasks/good/fit', { method: 'lift-map' }), 409, /no LiFT prior/);
    await expectError(call('POST', '/v1/predict', { adapter: { id: 'ad_nope' }, inputs: [{ text: 'hi' }] }), 404, /ad_nope/);
    await expectError(call('POST', '/v1/predict', { adapter: { task: 'good' }, inputs: [{ text: 'hi' }] }), 404, /adapter for task 'good' not found/);
    const fit = await call('POST', '/v1/tasks/good/fit', { method: 'prototypes' });
    assert.equal(fit.status, 201, fit.text);
    const id = fit.json.adapter.id;
    await expectError(call('POST', '/v1/predict', { adapter: { id }, inputs: [] }), 400, /inputs: expected at least 1/);
    await expectError(call('POST', '/v1/predict', { adapter: { id }, inputs: Array.from({ length: 9 }, () => ({ text: 'x' })) }), 400, /at most 8 inputs/);
    await expectError(call('POST', '/v1/predict', { adapter: { id }, inputs: [{ image_base64: 'AAAA' }] }), 400, /inputs\[0\]: expected text for a text adapter/);
    await expectError(call('POST', '/v1/predict', { adapter: { id, name: 'good.prototypes' }, inputs: [{ text: 'x' }] }), 400, /exactly one of id, name or task/);
    await expectError(call('POST', '/v1/predict', { adapter: { name: 'good.prototypes', version: 7 }, inputs: [{ text: 'x' }] }), 404, /not found/);
    await expectError(call('PUT', '/v1/adapter-names/good.prototypes/-/aliases/prod', { version: 9 }), 404, /not found/);
    await expectError(call('POST', '/v1/tasks/good/compare', { methods: ['prototypes', 'nope'] }), 400, /methods\[1\]/);
    await expectError(call('GET', '/v1/no-such-route'), 404, /no route GET/);
  });

  it('refuses hostile PEFT imports without writing anything', async () => {
    const fit = await call('POST', '/v1/tasks/good/fit', { method: 'independent' });
    const exported = await call('GET', `/v1/adapters/${fit.json.adapter.id}/peft`);
    const before = (await call('GET', '/v1/adapters?max_results=1000')).json.items.length;
    const bytes = Buffer.from(exported.json['adapter_model.safetensors'], 'base64');
    const truncated = bytes.subarray(0, bytes.length - 16).toString('base64');
    await expectError(call('POST', '/v1/adapters/import', { ...exported.json, name: 'h1', 'adapter_model.safetensors': truncated }), 400, /safetensors|data|offset|bytes/i);
    const badConfig = { ...exported.json['adapter_config.json'], use_dora: true };
    await expectError(call('POST', '/v1/adapters/import', { ...exported.json, name: 'h2', 'adapter_config.json': badConfig }), 400, /use_dora/);
    await expectError(call('POST', '/v1/adapters/import', { ...exported.json, name: 'h3', 'adapter_config.json': '{not json' }), 400, /adapter_config\.json/);
    await expectError(call('POST', '/v1/adapters/import', { ...exported.json, name: 'h4', 'adapter_model.safetensors': '***' }), 400, /base64/);
    assert.equal((await call('GET', '/v1/adapters?max_results=1000')).json.items.length, before);
  });
});

/** A raw request (fetch refuses some of these headers or would encode the body itself). */
function raw(method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; json: Json; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(server.url + path, { method, headers: { ...AUTH, ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode!, json, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('server: PEFT imports are validated before anything is stored', () => {
  it('refuses bad heads, missing posterior tensors, too high a rank and cross-modality tasks', async () => {
    const fit = await call('POST', '/v1/tasks/good/fit', { method: 'independent', rank: 2, name: 'good.to-export' });
    assert.equal(fit.status, 201, fit.text);
    const exported = (await call('GET', `/v1/adapters/${fit.json.adapter.id}/peft`)).json;
    const config = exported['adapter_config.json'];
    const head = exported['lift_head.json'];
    const withMeta = (patch: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ 'lift_head.json': { ...head, ...patch, extra: { ...head.extra, ...extra } } });
    const imp = (patch: Record<string, unknown>, more: Record<string, unknown> = {}) =>
      call('POST', '/v1/adapters/import', { ...exported, name: 'imp.bad', ...patch, ...more });
    const before = (await call('GET', '/v1/adapters?max_results=1000')).json.items.length;
    await expectError(imp(withMeta({}, { tau: 0 })), 400, /lift_head\.json extra\.tau: expected a finite number > 0/);
    await expectError(imp(withMeta({}, { tau: -3 })), 400, /extra\.tau/);
    await expectError(imp(withMeta({}, { nWay: 3 })), 400, /extra\.nWay: expected the number of labels \(2\), got 3/);
    await expectError(imp(withMeta({ labels: ['a', 'b', 'c'], task_id: null }, { nWay: 3 })), 400, /prototypes: expected 3x\d+, got \d+ values/);
    await expectError(imp(withMeta({ labels: Array.from({ length: 1001 }, (_, i) => `l${i}`) })), 400, /at most 1000 labels/);
    await expectError(imp(withMeta({}, { posteriorSamples: 4 })), 400, /posterior samples: expected 4 samples/);
    const noProtos = { ...withMeta({ tensors: {} }), 'lift_head.safetensors': Buffer.from(writeSafetensors({})).toString('base64') };
    await expectError(imp(noProtos), 400, /cannot predict/);
    await expectError(imp({ 'lift_head.safetensors': undefined }), 400, /lift_head\.json lists head tensors, but lift_head\.safetensors is missing/);
    await expectError(imp({ 'adapter_config.json': { ...config, r: 65 } }), 400, /r: expected an integer in \[1, 64\], got number 65/);
    // An image task: a text adapter must never become its adapter, nor its default.
    const png = (v: number) => Buffer.from(encodePng({ width: 8, height: 8, data: new Uint8Array(192).fill(v) })).toString('base64');
    const img = await call('POST', '/v1/tasks', { id: 'pics', examples: [{ label: 'dark', image_base64: png(10) }, { label: 'light', image_base64: png(240) }] });
    assert.equal(img.status, 201, img.text);
    await expectError(imp({}, { task_id: 'pics', alias: 'default' }), 400, /task_id: task 'pics' is a image task .* the adapter is for '.*' \(text\)/);
    await expectError(imp(withMeta({ task_id: 'pics' }), { alias: 'default' }), 400, /task_id: task 'pics'/);
    assert.equal((await call('GET', '/v1/adapters?max_results=1000')).json.items.length, before, 'nothing was stored');
    assert.equal((await call('GET', '/v1/adapters?task_id=pics')).json.items.length, 0);
    const good = await imp({}, { name: 'imp.good' });
    assert.equal(good.status, 201, good.text);
  });
});

describe('server: malformed requests get 4xx, never 500', () => {
  it('answers 400 to a bad % escape in a path parameter', async () => {
    await expectError(call('GET', '/v1/tasks/%ff'), 400, /percent-encoding/);
    await expectError(call('GET', '/v1/adapter-names/%E0%A4%A/-/aliases'), 400, /percent-encoding/);
    await expectError(call('DELETE', '/v1/tasks/%'), 400, /percent-encoding/);
  });

  it('answers 4xx to bodies that do not match their Content-Encoding', async () => {
    const json = Buffer.from(JSON.stringify(GOOD));
    const type = { 'content-type': 'application/json' };
    for (const encoding of ['gzip', 'deflate', 'br']) {
      const r = await raw('POST', '/v1/tasks', { ...type, 'content-encoding': encoding }, json);
      assert.ok(r.status >= 400 && r.status < 500, `${encoding}: ${r.status} ${r.text}`);
      assert.equal(typeof r.json?.error?.message, 'string', r.text);
    }
    const badGzip = Buffer.concat([gzipSync(json).subarray(0, 20), Buffer.from('garbage')]);
    const r = await raw('POST', '/v1/tasks', { ...type, 'content-encoding': 'gzip' }, badGzip);
    assert.equal(r.status, 400, r.text);
    await expectError(Promise.resolve(await raw('POST', '/v1/tasks', { ...type, 'content-encoding': 'zstd-unknown' }, json)), 415, /encoding/);
  });

  it('refuses JSON nested 5,000 levels deep in task metadata and PEFT configs', async () => {
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    await expectError(call('POST', '/v1/tasks', `{"id":"deep","metadata":{"x":${deep(5000)}},"examples":[]}`), 400, /nested at most 64 levels/);
    await expectError(call('POST', '/v1/tasks', `{"id":"deep2","metadata":${deepObject(5000)},"examples":[]}`), 400, /nested at most 64 levels/);
    await expectError(call('POST', '/v1/adapters/import', `{"adapter_config.json":${deepObject(5000)},"adapter_model.safetensors":"AAAA"}`), 400, /nested at most 64 levels/);
    await expectError(call('POST', '/v1/adapters/import', { 'adapter_config.json': `{"x":${deep(5000)}}`, 'adapter_model.safetensors': 'AAAA' }), 400, /nested at most 64 levels/);
    assert.equal((await call('GET', '/v1/tasks/deep')).status, 404);
  });
});

/**
 * Sends a request head announcing a body, then body bytes for as long as the server keeps the
 * socket open (at most `maxBytes`); resolves with the response head and how much was sent.
 */
function announce(head: string, bodyChunk: Buffer, maxBytes: number): Promise<{ response: string; sent: number; closed: boolean }> {
  const { port } = server;
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let response = '', sent = 0, done = false;
    const finish = (closed: boolean) => { if (done) return; done = true; clearInterval(timer); socket.destroy(); resolve({ response, sent, closed }); };
    socket.on('data', (d) => { response += d.toString('latin1'); });
    // A write after the server's reset fails; what matters is what was received before.
    socket.on('error', () => finish(true));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.write(head);
    // Keep sending while the server lets us; stop after maxBytes or 3 s.
    const timer = setInterval(() => {
      if (sent >= maxBytes || socket.destroyed) return;
      socket.write(bodyChunk);
      sent += bodyChunk.length;
    }, 1);
    setTimeout(() => finish(false), 3000);
  });
}

describe('server: bodies nobody reads', () => {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  it('closes the connection after an early 401 or 413 instead of reading a 1 GB announced body', async () => {
    const gig = 1024 * 1024 * 1024;
    const cases = [
      { head: `POST /v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${gig}\r\n\r\n`, status: 401 },
      { head: `POST /v1/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nContent-Length: ${gig}\r\n\r\n`, status: 413 },
      { head: `POST /v1/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: text/plain\r\nContent-Length: ${gig}\r\n\r\n`, status: 415 },
    ];
    for (const c of cases) {
      const r = await announce(c.head, chunk, 64 * 1024 * 1024);
      assert.match(r.response, new RegExp(`^HTTP/1.1 ${c.status} `), r.response.slice(0, 200));
      assert.match(r.response, /\r\nConnection: close\r\n/i);
      assert.equal(r.closed, true, `${c.status}: the server closed the socket`);
      assert.ok(r.sent < 16 * 1024 * 1024, `${c.status}: the server stopped reading after ${r.sent} bytes`);
    }
  });

  it('answers 413 and closes as soon as a chunked body passes the limit', async () => {
    const hex = chunk.length.toString(16);
    const framed = Buffer.concat([Buffer.from(`${hex}\r\n`), chunk, Buffer.from('\r\n')]);
    const r = await announce(`POST /v1/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`, framed, 64 * 1024 * 1024);
    assert.match(r.response, /^HTTP\/1.1 413 /, r.response.slice(0, 200));
    assert.match(r.response, /at most 32768 bytes/);
    assert.equal(r.closed, true);
    assert.ok(r.sent < 16 * 1024 * 1024, `the server stopped reading after ${r.sent} bytes`);
  });

  it('never parses a body on GET: answers, and closes when the body is still arriving', async () => {
    const r = await announce(`GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${5 * 1024 * 1024}\r\n\r\n[`, chunk, 5 * 1024 * 1024);
    assert.match(r.response, /^HTTP\/1.1 200 /, r.response.slice(0, 200));
    assert.match(r.response, /\r\nConnection: close\r\n/i);
    const small = await raw('GET', '/healthz', { 'content-type': 'application/json' }, Buffer.from('{"not": "parsed"'));
    assert.equal(small.status, 200, small.text);
  });
});

describe('server: work bounds', () => {
  it('refuses costly fits inline, runs them as cancellable jobs, refuses beyond the job bound', async () => {
    const costly = { method: 'independent', steps: 1000, rank: 64 };
    await expectError(call('POST', '/v1/tasks/good/fit', costly), 400, /work: 1000 steps x rank 64 x 2 examples x 1 method\(s\) = 128,000 exceeds the 100,000 units a request may run inline; send "job": true/);
    await expectError(call('POST', '/v1/tasks/good/compare', { methods: ['independent', 'prototypes'], steps: 2000, rank: 64 }), 400, /exceeds the 100,000 units .* lower steps/);
    await expectError(call('POST', '/v1/tasks/good/compare', { methods: ['independent', 'prototypes'], steps: 2000, rank: 64, job: true }), 400, /768,000 exceeds the 300,000 units one job may run/);
    const submitted = await call('POST', '/v1/tasks/good/fit', { ...costly, job: true, name: 'good.costly' });
    assert.equal(submitted.status, 202, submitted.text);
    let job = submitted.json.job;
    while (!['succeeded', 'failed', 'cancelled'].includes(job.status)) {
      await new Promise((r) => setTimeout(r, 50));
      job = (await call('GET', `/v1/jobs/${job.id}`)).json;
    }
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.equal(job.result.adapter.name, 'good.costly');
    assert.equal((await call('GET', `/v1/adapters/${job.result.adapter.id}`)).json.rank, 64);
    const cancelled = await call('POST', '/v1/tasks/good/fit', { ...costly, job: true, name: 'good.cancelled' });
    const c = await call('POST', `/v1/jobs/${cancelled.json.job.id}/cancel`);
    assert.ok(c.status === 200 || c.status === 409, c.text);
  });
});

describe('server: bodies that cost more than their size', () => {
  it('refuses JSON nested too deep before parsing it, and task files with too many lines before reading them', async () => {
    await expectError(call('POST', '/v1/tasks', `{"id":"d","metadata":{"x":${'['.repeat(100)}${']'.repeat(100)}}}`), 400, /nested at most 64 levels/);
    // Brackets and commas inside strings are text, not structure.
    const r = await call('POST', '/v1/tasks', { id: 'strings-ok', examples: [ok('a', '[[[[,,,,{{{{'), ok('b', '"\\\\"]]]]')] });
    assert.equal(r.status, 201, r.text);
    const file = Array.from({ length: 9 }, (_, i) => JSON.stringify({ task: 'too-many', label: i % 2 ? 'a' : 'b', text: `t${i}` })).join('\n');
    const lines = await raw('POST', '/v1/tasks', { ...AUTH, 'content-type': 'application/x-ndjson' }, Buffer.from(file));
    await expectError(Promise.resolve(lines), 400, /task file: expected at most 8 examples per request, got more \(line 9\)/);
  });
});


describe('server: shutdown', () => {
  it('finishes in-flight requests with Connection: close, then stops accepting and reports not ready', async () => {
    // The body is sent in two parts, so the request is certainly in flight when shutdown starts.
    const body = Buffer.from(JSON.stringify({ methods: ['prototypes', 'independent'], query: [ok('a', 'first text')] }));
    const req = http.request(`${server.url}/v1/tasks/good/compare`, {
      method: 'POST', headers: { ...AUTH, 'content-type': 'application/json', 'content-length': String(body.length) },
    });
    const response = new Promise<{ status: number; connection: string | undefined; text: string }>((resolve, reject) => {
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, text: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
    });
    req.write(body.subarray(0, 10));
    while (server.inFlight() === 0) await new Promise((r) => setTimeout(r, 1));
    const closing = server.close();
    await new Promise((r) => setTimeout(r, 20));
    req.end(body.subarray(10));
    const res = await response;
    assert.equal(res.status, 200, res.text);
    assert.equal(res.connection, 'close');
    await closing;
    assert.equal(server.context.state.shuttingDown, true);
    await assert.rejects(fetch(`${server.url}/healthz`));
  });
});
