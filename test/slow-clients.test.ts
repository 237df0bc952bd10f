/**
 * Slow clients against a real server with small limits: a client that sends its headers or its
 * body too slowly is cut off within the configured time (408, or the socket closed), and
 * connections beyond the cap are closed at once, while the server keeps answering others.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_CONFIG } from '../server/config.ts';
import { createLogger } from '../service/log.ts';
import { startServer, type RunningServer } from '../server/start.ts';

let server: RunningServer;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lift-slow-clients-'));
  server = await startServer({
    ...DEFAULT_CONFIG, port: 0, registryUrl: join(dir, 'registry.sqlite'), headersTimeoutMs: 600, requestTimeoutMs: 1200, maxConnections: 4,
  }, { logger: createLogger('silent') });
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens a socket, writes `head`, then a byte every 100 ms; resolves with what came back and when the socket closed. */
function trickle(head: string): Promise<{ response: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const began = performance.now();
    const socket = net.connect(server.port, '127.0.0.1', () => socket.write(head));
    let response = '';
    const timer = setInterval(() => { if (!socket.destroyed) socket.write('x'); }, 100);
    socket.on('data', (d: Buffer) => { response += d.toString(); });
    socket.on('error', () => {});
    socket.on('close', () => { clearInterval(timer); resolve({ response, closedAfterMs: performance.now() - began }); });
  });
}

describe('slow clients', () => {
  it('cuts off a client whose headers take longer than the headers timeout', async () => {
    const r = await trickle('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    assert.ok(r.closedAfterMs < 5000, `closed after ${r.closedAfterMs.toFixed(0)} ms`);
    assert.match(r.response, /^(HTTP\/1\.1 408 |$)/, r.response.slice(0, 100));
  });

  it('cuts off a client whose body takes longer than the request timeout', async () => {
    const r = await trickle('POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n');
    assert.ok(r.closedAfterMs < 5000, `closed after ${r.closedAfterMs.toFixed(0)} ms`);
    assert.match(r.response, /^(HTTP\/1\.1 408 |$)/, r.response.slice(0, 100));
  });

  it('closes connections beyond the cap at once and keeps answering', async () => {
    const held = await Promise.all(Array.from({ length: 4 }, () => new Promise<net.Socket>((resolve) => {
      const s = net.connect(server.port, '127.0.0.1', () => resolve(s));
      s.on('error', () => {});
    })));
    try {
      const extra = await new Promise<string>((resolve) => {
        const s = net.connect(server.port, '127.0.0.1', () => s.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
        let got = '';
        s.on('data', (d: Buffer) => { got += d.toString(); });
        s.on('error', () => {});
        s.on('close', () => resolve(got));
      });
      assert.equal(extra, '', 'the fifth connection was closed without an answer');
    } finally {
      for (const s of held) s.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });
});
