/**
 * JSON request bodies through the real middleware (server/json-body.ts) on a small express app:
 * large bodies are parsed in the worker thread with the same results and refusals as small ones
 * on the event loop, compressed bodies are inflated, only UTF-8 objects or arrays pass, and
 * large bodies beyond the thread's queue are refused with 503 instead of held.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import express from 'express';
import { errorMiddleware, statusOf, type HttpError } from '../server/errors.ts';
import { jsonBody, OFF_LOOP_BYTES, PARSE_QUEUE_LIMIT, parseBody, parsedOffLoop } from '../server/json-body.ts';

let server: http.Server;
let url: string;

before(async () => {
  const app = express();
  app.post('/echo', ...jsonBody(['application/json'], 10 * 1024 * 1024), (req, res) => { res.json({ body: req.body ?? null }); });
  app.use(errorMiddleware);
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/echo`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function post(body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : new Uint8Array(body) });
  return { status: res.status, json: await res.json() };
}

const big = (value: unknown) => JSON.stringify(value);
const LONG = 'A'.repeat(OFF_LOOP_BYTES * 2);

describe('JSON bodies', () => {
  it('parses large bodies in the worker thread, the same as small ones on the event loop', async () => {
    const before = parsedOffLoop();
    const value = { weights: LONG, list: [1, 2.5, 'x', null, true, { 'é😀': '"\\' }] };
    for (const body of [big(value), big({ ...value, weights: 'short' })]) {
      const r = await post(body);
      assert.equal(r.status, 200, JSON.stringify(r.json).slice(0, 200));
      assert.deepEqual(r.json.body, JSON.parse(body));
    }
    assert.equal(parsedOffLoop(), before + 1, 'only the large body went to the thread');
    const zipped = await post(gzipSync(big(value)), { 'content-encoding': 'gzip' });
    assert.deepEqual(zipped.json.body, value);
    assert.equal((await post(`\ufeff${big(value)}`)).status, 200, 'a byte-order mark is dropped');
  });

  it('refuses the same bodies whatever their size: malformed, too deep, not an object or array, not UTF-8', async () => {
    for (const pad of ['', ' '.repeat(OFF_LOOP_BYTES)]) {
      const cases: [string | Buffer, number, RegExp, Record<string, string>?][] = [
        [`${pad}{"a": `, 400, /malformed JSON/],
        [`${pad}${'['.repeat(65)}${']'.repeat(65)}`, 400, /nested at most 64 levels/],
        [`${pad}"just a string"`, 400, /expected an object or an array, got '"'/],
        [`${pad}{"a": 1}`, 415, /unsupported charset "KOI8-R"/, { 'content-type': 'application/json; charset=koi8-r' }],
      ];
      for (const [body, status, message, headers] of cases) {
        const r = await post(body, headers);
        assert.equal(r.status, status, `${String(body).trim().slice(0, 20)}: ${JSON.stringify(r.json)}`);
        assert.match(r.json.error.message, message);
      }
    }
    assert.equal((await post(`{"a": "${LONG}"}`, { 'content-type': 'application/json; charset=UTF-8' })).status, 200);
    assert.deepEqual((await post('')).json.body, null, 'no body, no value');
  });

  it('refuses large bodies past the parse queue with 503 and parses the rest', async () => {
    const body = Buffer.from(big({ weights: LONG }));
    const burst = await Promise.allSettled(Array.from({ length: PARSE_QUEUE_LIMIT + 10 }, () => parseBody(Buffer.from(body))));
    const refused = burst.filter((r) => r.status === 'rejected');
    assert.ok(refused.length >= 9, `expected the bodies past the queue refused, got ${refused.length} refusals`);
    for (const r of refused) {
      assert.equal(statusOf((r.reason as HttpError).code), 503);
      assert.match((r.reason as Error).message, /already waiting to be parsed; retry/);
    }
    for (const r of burst) if (r.status === 'fulfilled') assert.deepEqual(r.value, { value: { weights: LONG } });
    assert.equal((await post(body)).status, 200, 'the queue drains and takes bodies again');
  });
});
