/**
 * The route table and the OpenAPI document generated from it: every operation is complete
 * (operation id, response schemas, its 4xx, security), and the table is consistent with itself.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { accessOf, isOpen } from '../server/access.ts';
import { DEFAULT_CONFIG } from '../server/config.ts';
import { openApiDocument } from '../server/openapi.ts';
import { ROUTES } from '../server/route-table.ts';
import { expressPath, routingOrder } from '../server/router.ts';

type Json = Record<string, any>;
const doc = openApiDocument() as Json;
const operations = Object.entries(doc.paths as Json).flatMap(([path, item]) =>
  Object.entries(item as Json).map(([method, op]) => ({ path, method, op: op as Json })));

describe('route table -> OpenAPI', () => {
  it('has one operation per route, each with a unique operationId', () => {
    assert.equal(operations.length, ROUTES.length);
    const ids = operations.map((o) => o.op.operationId);
    assert.ok(ids.every((id) => typeof id === 'string' && id.length > 0));
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
  });

  it('documents a schema for every response with a body, and at least one 4xx per operation', () => {
    for (const { path, method, op } of operations) {
      const statuses = Object.keys(op.responses);
      assert.ok(statuses.some((s) => s.startsWith('2')), `${method} ${path}: a success response`);
      assert.ok(statuses.some((s) => s.startsWith('4')), `${method} ${path}: lists its 4xx`);
      assert.ok(statuses.includes('406'), `${method} ${path}: 406 for an Accept header it cannot satisfy`);
      for (const [status, r] of Object.entries(op.responses as Json)) {
        if (status === '204') continue;
        const content = Object.values((r as Json).content ?? {}) as Json[];
        assert.ok(content.length > 0 && content.every((c) => c.schema), `${method} ${path} ${status}: has a schema`);
      }
    }
  });

  it('marks open routes with security: [] and gives every other route a 401', () => {
    for (const { path, method, op } of operations) {
      const route = ROUTES.find((r) => r.operationId === op.operationId)!;
      if (isOpen(accessOf(route), DEFAULT_CONFIG)) assert.deepEqual(op.security, [], `${method} ${path}`);
      else assert.ok(op.security === undefined && op.responses['401'], `${method} ${path}: uses the global bearer scheme and lists 401`);
      if (op.requestBody) assert.ok(op.responses['415'] && op.responses['413'], `${method} ${path}: 413 and 415`);
    }
    assert.deepEqual(doc.security, [{ bearer: [] }]);
  });

  it('declares the access of the serving configuration: only probes and docs open by default, GETs too with public reads', () => {
    const open = (d: Json) => Object.values(d.paths as Json).flatMap((item) => Object.values(item as Json))
      .filter((op: Json) => Array.isArray(op.security) && op.security.length === 0).map((op: Json) => op.operationId as string).sort();
    assert.deepEqual(open(doc), ['healthz', 'openapi', 'readyz']);
    assert.deepEqual(open(openApiDocument({ publicReads: false, publicMetrics: true, publicDocs: false })), ['healthz', 'metrics', 'readyz']);
    const reads = ROUTES.filter((r) => r.method === 'get').map((r) => r.operationId).sort();
    assert.deepEqual(open(openApiDocument({ publicReads: true, publicMetrics: false, publicDocs: false })), reads);
  });

  it('declares every path parameter in the route schema', () => {
    for (const route of ROUTES) {
      const names = [...route.path.matchAll(/\{(\w+)\*?\}/g)].map((m) => m[1]).sort();
      assert.deepEqual(Object.keys(route.request?.params?.shape ?? {}).sort(), names, route.operationId);
    }
  });

  it('routes multi-segment names after the routes whose suffix they would swallow', () => {
    const order = routingOrder(ROUTES).map((r) => `${r.method} ${expressPath(r.path)}`);
    assert.ok(order.indexOf('get /v1/adapter-names/*name/-/aliases') < order.indexOf('get /v1/adapter-names/*name'));
    assert.equal(expressPath('/v1/adapter-names/{name*}/-/aliases/{alias}'), '/v1/adapter-names/*name/-/aliases/:alias');
  });
});

describe('OpenAPI lint', () => {
  it('passes Redocly CLI\'s recommended ruleset with no errors or warnings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openapi-lint-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(doc));
      // Exit code 1 means problems were found; the JSON report says which.
      const { stdout } = await promisify(execFile)('node_modules/.bin/redocly', ['lint', '--extends=recommended', '--format=json', file], {
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' }, maxBuffer: 1 << 24,
      }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
      const report = JSON.parse(stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; severity: string; message: string }[] };
      const errors = report.problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId}: ${p.message}`);
      assert.deepEqual(errors, []);
      assert.equal(report.totals.errors, 0);
      assert.deepEqual(report.problems.map((p) => `${p.ruleId}: ${p.message}`), [], 'no warnings either');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
