/**
 * Crash safety of the registry: writer processes (crash-writer.ts) write concurrently to one
 * SQLite registry (tasks with examples, adapter versions, alias moves, job updates) and are
 * killed with SIGKILL at a random moment; then the registry must pass `PRAGMA integrity_check`
 * and hold every acknowledged write exactly as acknowledged. Repeated for many cycles on the same
 * registry, so each cycle also opens (and recovers) what the previous kill left.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createRng } from '../../adapters/rng.ts';
import { openRegistry } from '../../registry/open.ts';
import type { RegistryStore } from '../../registry/store.ts';

export const CRASH_BASE_MODEL = 'crash-base';
export const CRASH_DIM = 8;
const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface CrashLoopOptions {
  /** SQLite file (created if absent). */
  readonly file: string;
  readonly cycles: number;
  readonly writers: number;
  readonly seed: number;
  /** The kill comes uniformly between these times after the writers' first ack, in ms. */
  readonly killAfterMs: readonly [number, number];
  readonly progress?: (cycle: number, summary: CrashLoopReport) => void;
}

export interface CrashLoopReport {
  cycles: number;
  /** Acknowledged writes checked after the kills. */
  acknowledged: number;
  /** Acknowledged writes missing or different after a kill. */
  lost: number;
  /** Cycles whose integrity_check did not answer 'ok'. */
  integrityFailures: number;
  /** What went wrong, first few. */
  problems: string[];
}

type Record_ = { op: string; [k: string]: unknown };

interface WriterLog {
  readonly intents: Record_[];
  readonly acks: Record_[];
}

/** A writer process, loading until `go()`, then writing until `kill()`, which resolves with what it printed. */
function spawnWriter(file: string, who: string): { go(): void; firstAck: Promise<void>; kill(): Promise<WriterLog> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/attack/crash-writer.ts', `sqlite:${file}`, who], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '', err = '';
  let ackSeen: () => void = () => {};
  const firstAck = new Promise<void>((resolve) => { ackSeen = resolve; });
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('\nA ') || out.startsWith('A ')) ackSeen(); });
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  // 'close', not 'exit': only then has all the output still in the pipe been read.
  const exited = new Promise<void>((resolve) => child.once('close', () => { ackSeen(); resolve(); }));
  return {
    go: () => { child.stdin!.write('go\n'); },
    firstAck,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
      if (err.trim() !== '' && !/SIGKILL/.test(err)) throw new Error(`writer ${who} failed before it was killed:\n${err.slice(-2000)}`);
      const lines = out.split('\n');
      // The last line may be cut by the kill: only whole lines count.
      if (!out.endsWith('\n')) lines.pop();
      const parse = (prefix: string) => lines.filter((l) => l.startsWith(prefix)).map((l) => JSON.parse(l.slice(2)) as Record_);
      return { intents: parse('I '), acks: parse('A ') };
    },
  };
}

/** Checks every acknowledged write of one writer; returns the problems. */
async function verify(store: RegistryStore, who: string, log: WriterLog): Promise<string[]> {
  const problems: string[] = [];
  for (const a of log.acks) {
    try {
      if (a.op === 'task') {
        const examples = await store.listExamples(String(a.id));
        if (examples.length !== a.examples) problems.push(`task ${a.id}: ${examples.length} examples, acknowledged ${a.examples}`);
      } else if (a.op === 'adapter') {
        const stored = await store.getAdapter(String(a.id));
        if (stored.version !== a.version || stored.contentHash !== a.contentHash || stored.parameters.lora_A[0] !== a.fill) {
          problems.push(`adapter ${a.id}: stored v${stored.version} ${stored.contentHash}, acknowledged v${a.version} ${a.contentHash}`);
        }
      } else if (a.op === 'job') await store.getJob(String(a.id));
    } catch (err) {
      problems.push(`${a.op} ${JSON.stringify(a)}: ${(err as Error).message}`);
    }
  }
  // Last-writer-wins records: the stored value is the last acknowledged one or a later intent
  // (written, then killed before the ack was printed).
  const lastAck = (op: string) => log.acks.filter((a) => a.op === op).at(-1);
  const laterIntents = (op: string, after: Record_ | undefined) => {
    const ops = log.intents.filter((i) => i.op === op);
    const key = JSON.stringify(after);
    const at = ops.map((i) => JSON.stringify(i)).lastIndexOf(key);
    return after === undefined ? ops : ops.slice(at);
  };
  const alias = lastAck('alias');
  if (alias) {
    const stored = (await store.listAliases(who)).find((x) => x.alias === 'live');
    const allowed = new Set([alias.version, ...laterIntents('alias', alias).map((i) => i.version)]);
    if (!stored || !allowed.has(stored.version)) problems.push(`alias ${who}@live: stored ${stored?.version}, acknowledged ${alias.version}`);
  }
  const progress = lastAck('job-progress');
  if (progress) {
    const job = await store.getJob(String(progress.id));
    const allowed = new Set([progress.progress, ...laterIntents('job-progress', progress).map((i) => i.progress)]);
    if (!allowed.has(job.progress)) problems.push(`job ${progress.id}: progress ${job.progress}, acknowledged ${progress.progress}`);
  }
  return problems;
}

export async function crashLoop(options: CrashLoopOptions): Promise<CrashLoopReport> {
  const rng = createRng(options.seed);
  const setup = await openRegistry(`sqlite:${options.file}`);
  await setup.registerBaseModel({
    name: CRASH_BASE_MODEL, modality: 'text', sha256: createHash('sha256').update(CRASH_BASE_MODEL).digest('hex'), featureDim: CRASH_DIM,
    placement: [{ layer: 'tanh_layer_0', inDim: CRASH_DIM, outDim: CRASH_DIM, activation: 'tanh' }],
  });
  await setup.close();
  const report: CrashLoopReport = { cycles: 0, acknowledged: 0, lost: 0, integrityFailures: 0, problems: [] };
  const stamp = Date.now().toString(36);
  const batch = (cycle: number) => {
    const names = Array.from({ length: options.writers }, (_, w) => `c${stamp}-${cycle}-w${w}`);
    return { names, writers: names.map((who) => spawnWriter(options.file, who)) };
  };
  let next = batch(1);
  for (let cycle = 1; cycle <= options.cycles; cycle++) {
    const { names, writers } = next;
    writers.forEach((w) => w.go());
    await Promise.all(writers.map((w) => w.firstAck));
    // The next cycle's writers load their modules meanwhile; they touch the registry only after go().
    if (cycle < options.cycles) next = batch(cycle + 1);
    const [lo, hi] = options.killAfterMs;
    await new Promise((resolve) => setTimeout(resolve, lo + rng.uniform() * (hi - lo)));
    const logs = await Promise.all(writers.map((w) => w.kill()));

    const db = new Database(options.file);
    const integrity = db.pragma('integrity_check', { simple: true });
    db.close();
    if (integrity !== 'ok') {
      report.integrityFailures++;
      report.problems.push(`cycle ${cycle}: integrity_check: ${String(integrity)}`);
    }
    const store = await openRegistry(`sqlite:${options.file}`);
    try {
      for (const [w, log] of logs.entries()) {
        report.acknowledged += log.acks.length;
        const problems = await verify(store, names[w], log);
        report.lost += problems.length;
        report.problems.push(...problems.slice(0, Math.max(0, 20 - report.problems.length)));
      }
    } finally {
      await store.close();
    }
    report.cycles = cycle;
    options.progress?.(cycle, report);
  }
  return report;
}
