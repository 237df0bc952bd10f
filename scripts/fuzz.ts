/**
 * Attack run against a fresh server process (API key set, temporary SQLite registry), printing
 * measured figures beside their targets:
 *
 *  1. the seeded fuzzer (scripts/attack/fuzz.ts) over every route of /openapi.json: status
 *     classes per route, 5xx, hangs/resets, error bodies, row counts after every non-2xx;
 *  2. hostile bodies of at most 10 MB (scripts/attack/big-bodies.ts): the server's RSS rise each;
 *
 * with GET /healthz probed every 100 ms throughout, after a baseline with no other request (what
 * the machine itself adds on a shared host). Exits non-zero when a target is missed.
 * Usage: npm run fuzz [-- --per-route 1000 --seed 1]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { integerAtLeast } from './cli-options.ts';

const positiveInt = integerAtLeast(1);
import { bigBodies } from './attack/big-bodies.ts';
import { fuzz, Fuzzer } from './attack/fuzz.ts';
import { send } from './attack/http-client.ts';
import { RowCounter } from './attack/row-counts.ts';
import { busyDuring, probeHealth, startServerProcess, waitReady } from './attack/server-process.ts';

const opts = new Command().name('fuzz').description('Seeded fuzzing of every API route and ≤ 10 MB hostile bodies against a fresh server; prints figures and targets')
  .addOption(new Option('--per-route <n>', 'requests per route').argParser(positiveInt).default(1000))
  .addOption(new Option('--seed <n>', 'random seed').argParser(positiveInt).default(1))
  .addOption(new Option('--no-big', 'skip the ≤ 10 MB hostile bodies'))
  .addOption(new Option('--baseline-seconds <n>', '/healthz probed this long with no other request first: what the machine alone costs').argParser(positiveInt).default(10))
  .allowExcessArguments(false)
  .parse()
  .opts<{ perRoute: number; seed: number; big: boolean; baselineSeconds: number }>();

const KEY = 'fuzz-key';
const dir = mkdtempSync(path.join(os.tmpdir(), 'lift-fuzz-'));
const registry = path.join(dir, 'registry.sqlite');
const phases = opts.big ? 3 : 2;
const say = (m: string) => console.log(m);
let failed = false;
const target = (ok: boolean) => { if (!ok) failed = true; return ok ? 'met' : 'MISSED'; };

say(`phase 1/${phases}: starting the server (fresh registry in ${dir})`);
const server = await startServerProcess(registry, ['--api-key', KEY, '--fit-threads', '1']);
try {
  await waitReady(server.url);
  const rows = new RowCounter(registry);
  // On a shared machine other processes take turns with the server; this is their share of the figure.
  const idle = probeHealth(server.url);
  await new Promise((resolve) => setTimeout(resolve, opts.baselineSeconds * 1000));
  const b = await idle.stop();
  say(`  /healthz with no other request for ${opts.baselineSeconds} s (baseline): ${b.probes} probes, p50 ${b.p50Ms.toFixed(1)} ms, p99 ${b.p99Ms.toFixed(1)} ms, max ${b.maxMs.toFixed(1)} ms; load average ${os.loadavg().map((n) => n.toFixed(2)).join(', ')}`);

  say(`phase 2/${phases}: fuzzing every route, ${opts.perRoute} requests each, seed ${opts.seed}`);
  const health = probeHealth(server.url);
  let peakRss = server.rss();
  const startRss = peakRss;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, server.rss()); }, 50);
  const began = performance.now();
  let lastPrint = 0;
  const report = await fuzz({
    url: server.url, apiKey: KEY, seed: opts.seed, perRoute: opts.perRoute, rowCounts: () => rows.counts(),
    progress: (done, total) => {
      const now = performance.now();
      if (now - lastPrint < 10_000 && done !== total) return;
      lastPrint = now;
      const s = (now - began) / 1000;
      say(`  ${done}/${total} requests, ${s.toFixed(0)} s, ETA ${((s / done) * (total - done)).toFixed(0)} s`);
    },
  });
  clearInterval(sampler);
  const h = await health.stop();
  const sum = (k: '2xx' | '3xx' | '4xx' | '5xx' | 'failedExchanges' | 'rowChanges' | 'badBodies') => report.routes.reduce((a, t) => a + t[k], 0);
  say('\noperation                      2xx   4xx   5xx  no-answer  rows-changed  bad-body');
  for (const t of report.routes) {
    say(`${t.operation.padEnd(28)} ${String(t['2xx']).padStart(5)} ${String(t['4xx']).padStart(5)} ${String(t['5xx']).padStart(5)} ${String(t.failedExchanges).padStart(10)} ${String(t.rowChanges).padStart(13)} ${String(t.badBodies).padStart(9)}`);
  }
  say(`\n${report.requests} requests over ${report.routes.length} routes in ${report.seconds.toFixed(0)} s (seed ${report.seed})`);
  say(`  5xx: ${sum('5xx')} (target 0: ${target(sum('5xx') === 0)})`);
  say(`  no answer (hang/reset): ${sum('failedExchanges')} (target 0: ${target(sum('failedExchanges') === 0)})`);
  say(`  non-2xx answers that changed a table's row count: ${sum('rowChanges')} (target 0: ${target(sum('rowChanges') === 0)})`);
  say(`  error bodies without the envelope or with a stack: ${sum('badBodies')} (target 0: ${target(sum('badBodies') === 0)})`);
  say(`  status classes: 2xx ${sum('2xx')}, 3xx ${sum('3xx')}, 4xx ${sum('4xx')}, 5xx ${sum('5xx')}`);
  say(`  /healthz during the run: ${h.probes} probes, p50 ${h.p50Ms.toFixed(1)} ms, p99 ${h.p99Ms.toFixed(1)} ms, max ${h.maxMs.toFixed(1)} ms, ${h.failures} failed (target max ≤ 50 ms: ${target(h.maxMs <= 50 && h.failures === 0)})`);
  for (const p of h.slowest.slice(0, 3)) say(`    a ${p.ms.toFixed(0)} ms probe at ${new Date(p.at).toISOString()}; the server was answering: ${busyDuring(server.output(), p).join(', ') || 'nothing else'}`);
  say(`  server RSS: ${(startRss / 2 ** 20).toFixed(0)} MB at start, peak ${(peakRss / 2 ** 20).toFixed(0)} MB`);
  say(`  load average (1, 5, 15 min) at the end: ${os.loadavg().map((n) => n.toFixed(2)).join(', ')} on ${os.cpus().length} cores`);
  for (const f of report.failures.slice(0, 10)) say(`  failure: ${JSON.stringify(f)}`);
  if (report.requests < report.routes.length * 1000) say(`  (fewer than 1,000 requests per route: a smoke run, not the full one)`);

  if (opts.big) {
    say(`\nphase 3/${phases}: hostile bodies of at most 10 MB, server RSS rise per request`);
    const fx = await new Fuzzer({ url: server.url, apiKey: KEY, seed: opts.seed + 1, perRoute: 0 }).fixtures();
    const health2 = probeHealth(server.url);
    let worst = 0;
    for (const b of bigBodies({ authorization: `Bearer ${KEY}` }, { task: fx.task, adapterId: fx.adapterId })) {
      const before = server.rss();
      let peak = before;
      const s = setInterval(() => { peak = Math.max(peak, server.rss()); }, 10);
      const r = await send(new URL(server.url), b.request, { timeoutMs: 120_000 });
      clearInterval(s);
      peak = Math.max(peak, server.rss());
      const rise = peak - before;
      worst = Math.max(worst, rise);
      if (r.status === 0 || r.status >= 500) failed = true;
      say(`  ${b.name.padEnd(48)} ${(b.request.body!.length / 2 ** 20).toFixed(1).padStart(5)} MB -> ${r.status || r.error} in ${r.ms.toFixed(0)} ms, RSS +${(rise / 2 ** 20).toFixed(0)} MB`);
    }
    const h2 = await health2.stop();
    say(`  largest RSS rise: ${(worst / 2 ** 20).toFixed(0)} MB (target ≤ 256 MB: ${target(worst <= 256 * 2 ** 20)})`);
    say(`  /healthz during the hostile bodies: ${h2.probes} probes, p50 ${h2.p50Ms.toFixed(1)} ms, p99 ${h2.p99Ms.toFixed(1)} ms, max ${h2.maxMs.toFixed(1)} ms (target max ≤ 50 ms: ${target(h2.maxMs <= 50 && h2.failures === 0)})`);
    for (const p of h2.slowest.slice(0, 3)) say(`    a ${p.ms.toFixed(0)} ms probe at ${new Date(p.at).toISOString()}; the server was answering: ${busyDuring(server.output(), p).join(', ') || 'nothing else'}`);
  }
  rows.close();
} finally {
  const code = await server.stop('SIGTERM');
  if (code !== 0) { say(`server exited with ${code}:\n${server.output().slice(-2000)}`); failed = true; }
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
