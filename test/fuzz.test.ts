/**
 * A small run of the seeded fuzzer (scripts/attack/fuzz.ts; `npm run fuzz` is the full run) over
 * every route of /openapi.json against the real server with an API key: no 5xx, no hang or
 * reset, every error in the envelope, and no table's row count changed by a refused request.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { fuzz } from '../scripts/attack/fuzz.ts';
import { RowCounter } from '../scripts/attack/row-counts.ts';
import { startServer, type RunningServer } from '../server/start.ts';
import { DEFAULT_CONFIG } from '../server/config.ts';
import { createLogger } from '../service/log.ts';

const KEY = 'fuzz-test-key';
let server: RunningServer;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lift-fuzz-'));
  server = await startServer({ ...DEFAULT_CONFIG, port: 0, registryUrl: join(dir, 'registry.sqlite'), apiKey: KEY, fitThreads: 1 }, { logger: createLogger('silent') });
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

it('fuzzes every route: no 5xx, no hang, errors in the envelope, nothing written by a refused request', async () => {
  const rows = new RowCounter(join(dir, 'registry.sqlite'));
  try {
    const report = await fuzz({ url: server.url, apiKey: KEY, seed: 7, perRoute: 5, rowCounts: () => rows.counts(), timeoutMs: 20_000 });
    assert.ok(report.routes.length >= 40, `${report.routes.length} routes in /openapi.json`);
    assert.equal(report.requests, report.routes.length * 5);
    assert.deepEqual(report.failures, []);
    const total = (k: '2xx' | '4xx') => report.routes.reduce((a, t) => a + t[k], 0);
    assert.ok(total('2xx') > 0 && total('4xx') > 0, 'both accepted and refused requests were sent');
  } finally {
    rows.close();
  }
});
