/**
 * The server as a separate process for the attack tools (`node --import tsx scripts/serve.ts`,
 * as `npm run serve` runs it): started on a free port with a given registry and flags, its URL
 * read from its start-up line, its resident memory read from /proc, and stopped by signal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

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

/**
 * Probes GET /healthz every `everyMs` on its own connection until stopped; the slowest answer is
 * the figure the targets speak of (≤ 50 ms while an attack runs).
 */
export function probeHealth(url: string, everyMs = 100): { stop(): Promise<{ probes: number; maxMs: number; p99Ms: number; failures: number }> } {
  const times: number[] = [];
  let failures = 0, running = true;
  const loop = (async () => {
    while (running) {
      const start = performance.now();
      try {
        const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) });
        await r.text();
        if (r.status !== 200) failures++;
      } catch { failures++; }
      times.push(performance.now() - start);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      const sorted = [...times].sort((a, b) => a - b);
      return { probes: times.length, maxMs: sorted.at(-1) ?? 0, p99Ms: sorted[Math.floor(0.99 * (sorted.length - 1))] ?? 0, failures };
    },
  };
}
