/**
 * Access control against real servers: with an API key every route of the route table needs it
 * except the probes and the API description (metrics and reads only when opened), and without a
 * key the server answers only requests addressed to it by an allowed Host name (DNS rebinding),
 * warning at start-up when it listens beyond loopback.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { accessOf } from '../server/access.ts';
import { createApp } from '../server/app.ts';
import { DEFAULT_CONFIG, type ServerConfig } from '../server/config.ts';
import { createLogger } from '../service/log.ts';
import type { Route } from '../server/route.ts';
import { ROUTES } from '../server/route-table.ts';
import { startServer, type RunningServer } from '../server/start.ts';

const KEY = 'access-test-key';
let keyed: RunningServer;
let dir: string;

/** A request with exactly these headers (fetch would not let a test set Host). */
function request(url: string, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method: method.toUpperCase(), path, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The route's path with every parameter filled in. */
const pathOf = (route: Route): string => route.path.replace(/\{\w+\*?\}/g, 'x');

/** The same runtime and registry behind an app with another configuration, on its own port. */
async function serveWith(config: Partial<ServerConfig>): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(createApp({ ...keyed.context, config: { ...keyed.context.config, ...config } }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lift-access-'));
  keyed = await startServer({ ...DEFAULT_CONFIG, port: 0, registryUrl: join(dir, 'registry.sqlite'), apiKey: KEY }, { logger: createLogger('silent') });
});

after(async () => {
  await keyed?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('with an API key', () => {
  it('answers 401 without the key on every route of the table but the probes and /openapi.json', async () => {
    const exempt = new Set(['healthz', 'readyz', 'openapi']);
    for (const route of ROUTES) {
      const r = await request(keyed.url, route.method, pathOf(route));
      if (exempt.has(route.operationId)) assert.equal(r.status, 200, `${route.operationId}: ${r.body}`);
      else {
        assert.equal(r.status, 401, `${route.method} ${route.path}: ${r.body}`);
        assert.equal(r.headers['www-authenticate'], 'Bearer');
        assert.match(JSON.parse(r.body).error.message, /missing API key/);
      }
    }
    assert.deepEqual(ROUTES.filter((r) => accessOf(r) === 'probe').map((r) => r.operationId).sort(), ['healthz', 'readyz']);
    assert.equal((await request(keyed.url, 'get', '/docs/')).status, 200);
    const authorized = await request(keyed.url, 'get', '/v1/tasks', { authorization: `Bearer ${KEY}` });
    assert.equal(authorized.status, 200, authorized.body);
  });

  it('opens /metrics and closes the API description as configured', async () => {
    const app = await serveWith({ publicMetrics: true, publicDocs: false });
    try {
      assert.equal((await request(app.url, 'get', '/metrics')).status, 200);
      assert.equal((await request(app.url, 'get', '/openapi.json')).status, 401);
      assert.equal((await request(app.url, 'get', '/docs/')).status, 401);
      assert.equal((await request(app.url, 'get', '/v1/tasks')).status, 401);
    } finally {
      await app.close();
    }
  });

  it('with public reads, opens every GET and nothing else', async () => {
    const app = await serveWith({ publicReads: true });
    try {
      for (const route of ROUTES) {
        const r = await request(app.url, route.method, pathOf(route));
        if (route.method === 'get') assert.notEqual(r.status, 401, `${route.operationId}: ${r.body}`);
        else assert.equal(r.status, 401, `${route.method} ${route.path}: ${r.body}`);
      }
      const doc = JSON.parse((await request(app.url, 'get', '/openapi.json')).body);
      assert.deepEqual(doc.paths['/v1/tasks'].get.security, [], 'the document served says reads are open');
      assert.equal(doc.paths['/v1/tasks'].post.security, undefined);
    } finally {
      await app.close();
    }
  });
});

describe('without an API key', () => {
  let open: RunningServer;
  const lines: Record<string, unknown>[] = [];

  before(async () => {
    const capture = { write: (s: string) => { lines.push(JSON.parse(s)); } };
    open = await startServer({ ...DEFAULT_CONFIG, host: '0.0.0.0', port: 0, registryUrl: join(dir, 'registry.sqlite'), allowedHosts: ['zoo.internal'] },
      { logger: createLogger('info', capture) });
  });
  after(async () => { await open?.close(); });

  it('warns at start-up that it listens on a non-loopback address without a key', () => {
    const warning = lines.find((l) => l.level === 'warn');
    assert.ok(warning, JSON.stringify(lines));
    assert.equal(warning.host, '0.0.0.0');
    assert.match(String(warning.msg), /no API key .* not a loopback address.* --api-key/);
  });

  it('refuses requests addressed by another Host name: DNS rebinding', async () => {
    const url = open.url.replace('0.0.0.0', '127.0.0.1');
    const port = new URL(url).port;
    for (const host of ['evil.example', `evil.example:${port}`, 'localhost.evil.example', '127.0.0.1.nip.io']) {
      const r = await request(url, 'get', '/v1/tasks', { host });
      assert.equal(r.status, 403, `${host}: ${r.body}`);
      const error = JSON.parse(r.body).error;
      assert.equal(error.code, 'HOST_NOT_ALLOWED');
      assert.match(error.message, /Host: expected one of localhost, 127\.0\.0\.1, \[::1\].*--allowed-hosts/);
    }
    assert.equal((await request(url, 'post', '/v1/tasks', { host: 'evil.example' })).status, 403);
    for (const host of ['localhost', `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST', `0.0.0.0:${port}`, 'zoo.internal']) {
      const r = await request(url, 'get', '/v1/tasks', { host });
      assert.equal(r.status, 200, `${host}: ${r.body}`);
    }
    assert.equal((await request(url, 'get', '/healthz', { host: '10.1.2.3:8080' })).status, 200, 'probes answer any Host');
  });

  it('checks no Host when the server has a key', async () => {
    assert.equal((await request(keyed.url, 'get', '/v1/tasks', { host: 'evil.example', authorization: `Bearer ${KEY}` })).status, 200);
  });
});
