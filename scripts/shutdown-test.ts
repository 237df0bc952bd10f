/**
 * Graceful-shutdown test against a server process started as `npm run serve` starts it: many
 * keep-alive clients send requests back to back, a fit job is running, and the server gets
 * SIGTERM. Prints, for requests sent before the signal, how many got an answer and how many saw a
 * reset (target 0); for requests after it, the 503s (with `Connection: close`) and refused
 * connections; whether answers during the drain said `Connection: close`; and how long the
 * process took to exit against its grace period. Exits non-zero when a target is missed.
 * Usage: npm run shutdown-test [-- --clients 200 --seconds 2]
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { integerAtLeast } from './cli-options.ts';

const positiveInt = integerAtLeast(1);
import { send, type RawResponse } from './attack/http-client.ts';
import { startServerProcess, waitReady } from './attack/server-process.ts';

const opts = new Command().name('shutdown-test').description('SIGTERM under keep-alive load and a running fit: resets, 503s, Connection: close, exit time')
  .addOption(new Option('--clients <n>', 'keep-alive clients').argParser(positiveInt).default(200))
  .addOption(new Option('--seconds <n>', 'seconds of load before the signal').argParser(positiveInt).default(2))
  .addOption(new Option('--grace-ms <n>', 'the server\'s shutdown grace period').argParser(positiveInt).default(10_000))
  .allowExcessArguments(false)
  .parse()
  .opts<{ clients: number; seconds: number; graceMs: number }>();

interface Outcome { readonly sentAt: number; readonly r: RawResponse }

const dir = mkdtempSync(path.join(os.tmpdir(), 'lift-shutdown-'));
let failed = false;
const target = (ok: boolean) => { if (!ok) failed = true; return ok ? 'met' : 'MISSED'; };
try {
  console.log('phase 1/3: starting the server and a fit job');
  const server = await startServerProcess(path.join(dir, 'registry.sqlite'), ['--fit-threads', '1', '--shutdown-timeout-ms', String(opts.graceMs), '--max-connections', String(opts.clients * 2)]);
  await waitReady(server.url);
  const base = new URL(server.url);
  const post = (p: string, body: unknown) => send(base, { method: 'POST', path: p, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) });
  const texts = ['good stay', 'bad stay', 'lovely staff', 'rude staff', 'clean room', 'dirty room'];
  const task = await post('/v1/tasks', { id: 'shutdown', examples: texts.map((text, i) => ({ label: i % 2 ? 'neg' : 'pos', text })) });
  if (task.status !== 201) throw new Error(`task: ${task.status} ${task.body}`);
  const job = await post('/v1/tasks/shutdown/fit', { method: 'independent', steps: 2000, rank: 64, job: true });
  console.log(`  fit job: ${job.status} ${job.status === 202 ? JSON.parse(job.body).job.id : job.body.slice(0, 200)}`);

  console.log(`phase 2/3: ${opts.clients} keep-alive clients for ${opts.seconds} s, then SIGTERM`);
  const paths = ['/healthz', '/v1/methods', '/v1/tasks', '/v1/base-models', '/readyz'];
  const outcomes: Outcome[] = [];
  let signalAt = Number.POSITIVE_INFINITY;
  let stopAt = Number.POSITIVE_INFINITY;
  const clients = Array.from({ length: opts.clients }, async (_, c) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; performance.now() < stopAt; i++) {
      const sentAt = performance.now();
      const r = await send(base, { method: 'GET', path: paths[(c + i) % paths.length], headers: {} }, { agent, timeoutMs: opts.graceMs + 10_000 });
      outcomes.push({ sentAt, r });
      // After the server is gone every attempt is refused at once; no need to spin.
      if (r.error === 'ECONNREFUSED') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    agent.destroy();
  });
  await new Promise((resolve) => setTimeout(resolve, opts.seconds * 1000));
  signalAt = performance.now();
  const exited = server.stop('SIGTERM');
  const code = await exited;
  const exitMs = performance.now() - signalAt;
  stopAt = performance.now() + 500;
  await Promise.all(clients);

  console.log('phase 3/3: results');
  const before = outcomes.filter((o) => o.sentAt < signalAt);
  const after = outcomes.filter((o) => o.sentAt >= signalAt);
  const resetsBefore = before.filter((o) => o.r.status === 0);
  const answeredBefore = before.filter((o) => o.r.status > 0);
  const duringDrain = answeredBefore.filter((o) => o.sentAt + o.r.ms >= signalAt);
  const closing = duringDrain.filter((o) => o.r.headers.connection === 'close');
  const count = (list: Outcome[], f: (o: Outcome) => boolean) => list.filter(f).length;
  console.log(`  requests sent before SIGTERM: ${before.length}; answered ${answeredBefore.length} (${count(answeredBefore, (o) => o.r.status === 200)} × 200, ${count(answeredBefore, (o) => o.r.status === 503)} × 503); no answer (reset): ${resetsBefore.length} (target 0: ${target(resetsBefore.length === 0)})`);
  for (const o of resetsBefore.slice(0, 5)) console.log(`    reset: sent ${(o.sentAt - signalAt).toFixed(0)} ms from the signal, ${o.r.error}`);
  console.log(`  of those, answered after the signal was sent: ${duringDrain.length}, ${closing.length} with Connection: close (the rest were written before the server handled the signal)`);
  console.log(`  requests sent after SIGTERM: ${after.length}: ${count(after, (o) => o.r.status === 503)} × 503 (${count(after, (o) => o.r.status === 503 && o.r.headers.connection === 'close')} with Connection: close), ${count(after, (o) => o.r.status === 200)} × 200, ${count(after, (o) => o.r.error === 'ECONNREFUSED')} refused, ${count(after, (o) => o.r.status === 0 && o.r.error !== 'ECONNREFUSED')} reset`);
  console.log(`  process exit: code ${code} after ${exitMs.toFixed(0)} ms (grace ${opts.graceMs} ms; target exit 0 within grace + 3 s: ${target(code === 0 && exitMs <= opts.graceMs + 3000)})`);
  const tail = server.output().split('\n').filter((l) => /shutdown|stopped|SIGTERM|deadline/.test(l) && !/listening/.test(l)).join(' | ');
  console.log(`  server said: ${tail}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
