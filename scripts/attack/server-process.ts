/**
 * The server as a separate process for the attack tools (`node --import tsx scripts/serve.ts`,
 * as `npm run serve` runs it): started on a free port with a given registry and flags, its URL
 * read from its start-up line, its resident memory read from /proc, and stopped by signal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Resident set size now, in bytes (0 once it has exited). */
  rss(): number;
  /** Everything it printed so far. */
  output(): string;
  /** Sends the signal and resolves with the exit code (null: killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startServerProcess(registry: string, flags: readonly string[] = [], timeoutMs = 180_000): Promise<ServerProcess> {
  // Not under the test runner's context: the server would check every reply against its schema.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/serve.ts', '--port', '0', '--registry', registry, ...flags], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env,
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const look = () => {
      const m = /listening on (http:\/\/[^\s"]+)/.exec(out);
      if (m) { clearTimeout(timer); child.stdout!.off('data', look); resolve(m[1]); }
    };
    child.stdout!.on('data', look);
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`server exited with ${code} before listening:\n${out}`)); });
  });
  return {
    url, child,
    rss: () => {
      try { return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024; } catch { return 0; }
    },
    output: () => out,
    stop: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Waits until /readyz says ready (backbones loaded). */
export async function waitReady(url: string, timeoutMs = 300_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.status === 200) return;
    } catch { /* not yet */ }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms`);
}

/** The probe loop, run in a worker thread of its own (plain JS, so it needs no loader). */
const PROBE_LOOP = `
const { parentPort, workerData: { url, everyMs } } = require('node:worker_threads');
const times = [], startedAt = []; let failures = 0, running = true;
parentPort.once('message', () => { running = false; });
(async () => {
  // The thread's first fetch loads and compiles the HTTP client (~100 ms): not the server's time.
  await fetch(url + '/healthz').then((r) => r.text(), () => {});
  while (running) {
    const start = performance.now();
    startedAt.push(Date.now());
    try {
      const r = await fetch(url + '/healthz', { signal: AbortSignal.timeout(10000) });
      await r.text();
      if (r.status !== 200) failures++;
    } catch { failures++; }
    times.push(performance.now() - start);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  parentPort.postMessage({ times, startedAt, failures });
})();
`;

export interface HealthFigures {
  readonly probes: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly failures: number;
  /** The slowest probes, slowest first: when each started (ms since the epoch) and how long it took. */
  readonly slowest: readonly { readonly at: number; readonly ms: number }[];
}

/**
 * Probes GET /healthz every `everyMs` on its own connection until stopped; the slowest answer is
 * the figure the targets speak of (≤ 50 ms while an attack runs). The probe runs in a worker
 * thread, so the attack tool's own work (building hostile bodies, counting rows) cannot delay it:
 * what it measures is the server.
 */
export function probeHealth(url: string, everyMs = 100): { stop(): Promise<HealthFigures> } {
  const worker = new Worker(PROBE_LOOP, { eval: true, workerData: { url, everyMs } });
  const result = new Promise<{ times: number[]; startedAt: number[]; failures: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    stop: async () => {
      worker.postMessage('stop');
      const { times, startedAt, failures } = await result;
      await worker.terminate();
      const sorted = [...times].sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.floor(q * (sorted.length - 1))] ?? 0;
      const slowest = times.map((ms, i) => ({ at: startedAt[i], ms })).sort((a, b) => b.ms - a.ms).slice(0, 5);
      return { probes: times.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted.at(-1) ?? 0, failures, slowest };
    },
  };
}

/** One request line of the server's JSON log (server/request-log.ts). */
interface AccessLine { readonly time: string; readonly method: string; readonly route: string; readonly status: number; readonly ms: number }

/**
 * What the server was answering while a probe waited: the requests of its access log whose
 * span [end - ms, end] overlaps [at, at + ms], longest first, as `METHOD route status ms`.
 */
export function busyDuring(serverOutput: string, probe: { at: number; ms: number }, max = 4): string[] {
  const overlapping: AccessLine[] = [];
  for (const line of serverOutput.split('\n')) {
    if (!line.startsWith('{') || !line.includes('"msg":"request"')) continue;
    const r = JSON.parse(line) as AccessLine;
    const end = Date.parse(r.time);
    if (r.route !== '/healthz' && end >= probe.at && end - r.ms <= probe.at + probe.ms) overlapping.push(r);
  }
  return overlapping.sort((a, b) => b.ms - a.ms).slice(0, max).map((r) => `${r.method} ${r.route} ${r.status} ${r.ms} ms`);
}
