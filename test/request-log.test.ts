/**
 * The server's log against a real server: one JSON line per request with the raw path as a
 * field (a path full of % directives is logged as sent, never interpreted), request ids taken
 * from a plausible `X-Request-Id` or generated, echoed in the header and in error bodies, and an
 * internal error logged with its stack while the client sees a plain 500.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_CONFIG } from '../server/config.ts';
import { createLogger } from '../service/log.ts';
import { startServer, type RunningServer } from '../server/start.ts';

type Line = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let server: RunningServer;
let dir: string;
const lines: Line[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lift-request-log-'));
  const capture = { write: (s: string) => { lines.push(JSON.parse(s)); } };
  server = await startServer({ ...DEFAULT_CONFIG, port: 0, registryUrl: join(dir, 'registry.sqlite') }, { logger: createLogger('info', capture) });
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The access line of the request with this id (written when the response closes). */
async function accessLine(id: string): Promise<Line> {
  for (let i = 0; i < 100; i++) {
    const line = lines.find((l) => l.request_id === id && l.msg === 'request');
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no access line for ${id} in ${JSON.stringify(lines.slice(-5))}`);
}

describe('request log', () => {
  it('logs each request as one JSON line with the raw path as a field, whatever % directives it holds', async () => {
    for (const path of ['/v1/tasks/%25o%25ff%25s', '/v1/tasks/%o%s%d%j', '/v1/tasks/%ff', '/v1/no-such/%25s%25s%25s%25n']) {
      const res = await fetch(server.url + path);
      const id = res.headers.get('x-request-id');
      assert.ok(id, 'a generated request id');
      const body = await res.json() as Line;
      assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
      assert.equal(body.error.request_id, id, 'the error body names the request');
      const line = await accessLine(id);
      assert.equal(line.path, path);
      assert.equal(line.method, 'GET');
      assert.equal(line.status, res.status);
      assert.equal(line.level, 'info');
      assert.equal(typeof line.ms, 'number');
      assert.equal(line.msg, 'request');
    }
    const known = await accessLine((await fetch(`${server.url}/v1/tasks/x`)).headers.get('x-request-id')!);
    assert.equal(known.route, '/v1/tasks/:id', 'the route template, not the URL');
  });

  it('keeps a plausible X-Request-Id and replaces an implausible one', async () => {
    const kept = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'abc-123.def:4' } });
    assert.equal(kept.headers.get('x-request-id'), 'abc-123.def:4');
    assert.equal((await accessLine('abc-123.def:4')).status, 200);
    for (const bad of ['%s%s%s', 'a'.repeat(200), 'two words', '']) {
      const res = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': bad } });
      assert.match(res.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/, `'${bad.slice(0, 20)}' replaced by a UUID`);
    }
  });

  it('logs an internal error with its stack and the raw path, and answers a plain 500 with the request id', async () => {
    const { store } = server.context.runtime;
    const original = store.listBaseModels;
    store.listBaseModels = () => { throw new Error('secret internal detail'); };
    try {
      const res = await fetch(`${server.url}/v1/base-models?x=%25o`, { headers: { 'x-request-id': 'boom-1' } });
      assert.equal(res.status, 500);
      const text = await res.text();
      assert.deepEqual(JSON.parse(text), { error: { code: 'INTERNAL_ERROR', message: 'internal server error', request_id: 'boom-1' } });
      assert.doesNotMatch(text, /secret|at /, 'no internal message or stack in the body');
      await accessLine('boom-1');
      const error = lines.find((l) => l.request_id === 'boom-1' && l.level === 'error');
      assert.ok(error, 'an error line for the request');
      assert.equal(error.path, '/v1/base-models?x=%25o');
      assert.equal(error.err.message, 'secret internal detail');
      assert.match(error.err.stack, /secret internal detail\n\s+at /);
    } finally {
      store.listBaseModels = original;
    }
  });
});
