/**
 * Crash safety of the registry: writer processes (crash-writer.ts) write concurrently to one
 * SQLite registry (tasks with examples, adapter versions, alias moves, job updates) and are
 * killed with SIGKILL at a random moment; then the registry must pass `PRAGMA integrity_check`
 * and hold every acknowledged write exactly as acknowledged, and the write each writer was killed
 * in must be stored whole or not at all. Repeated for many cycles on the same
 * registry, so each cycle also opens (and recovers) what the previous kill left.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { createRng } from '../../adapters/rng.ts';
import { NotFoundError } from '../../registry/errors.ts';
import { openRegistry } from '../../registry/open.ts';
import { allPages } from '../../registry/pages.ts';
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
  /**
   * Writes in flight at a kill (intent journaled, no ack): committed before the kill (`stored`) or
   * not (`absent`). Either is correct; a write stored only in part would be a problem.
   */
  unacknowledged: { stored: number; absent: number };
  /** Cycles whose integrity_check did not answer 'ok'. */
  integrityFailures: number;
  /** What went wrong, first few. */
  problems: string[];
}

type Entry = { op: string; [k: string]: unknown };

/** A killed writer's journal: its acknowledged writes, and the write it was killed in, if any. */
interface WriterLog {
  readonly acks: Entry[];
  /** The last intent when no ack followed it: written or not, the kill came first. */
  readonly inFlight: Entry | null;
}

/** Reads a journal (crash-writer.ts); each write is `I` then `A`, one at a time, so only the last intent can lack its ack. */
function readJournal(file: string): WriterLog {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  // Every line is one write(2) and so whole; a torn last line would be a tool failure, not a registry one.
  if (text !== '' && !text.endsWith('\n')) throw new Error(`${file}: last journal line is not whole`);
  const lines = text.split('\n').filter((l) => l !== '').map((l) => ({ kind: l[0], entry: JSON.parse(l.slice(2)) as Entry }));
  const last = lines.at(-1);
  return { acks: lines.filter((l) => l.kind === 'A').map((l) => l.entry), inFlight: last?.kind === 'I' ? last.entry : null };
}

/** A writer process, loading until `go()`, then writing until `kill()`, which resolves with its journal. */
function spawnWriter(file: string, who: string): { go(): void; firstAck: Promise<void>; kill(): Promise<WriterLog> } {
  const journal = `${file}.${who}.journal`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/attack/crash-writer.ts', `sqlite:${file}`, who, journal], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  let ackSeen: () => void = () => {};
  const firstAck = new Promise<void>((resolve) => { ackSeen = resolve; });
  child.stdout!.on('data', () => ackSeen());
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('close', () => { ackSeen(); resolve(); }));
  return {
    go: () => { child.stdin!.write('go\n'); },
    firstAck,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
      if (err.trim() !== '' && !/SIGKILL/.test(err)) throw new Error(`writer ${who} failed before it was killed:\n${err.slice(-2000)}`);
      const log = readJournal(journal);
      rmSync(journal, { force: true });
      return log;
    },
  };
}

/** What one writer's registry state says about its journal. */
interface Verdict {
  /** Acknowledged writes missing or different, each described. */
  readonly problems: string[];
  /** The write in flight at the kill: found stored (true), not stored (false), or none in flight. */
  readonly inFlightStored: boolean | null;
}

/** Is the write the writer was killed in stored? Throws a problem when it is stored only in part. */
async function storedInFlight(store: RegistryStore, who: string, w: Entry, acks: readonly Entry[]): Promise<boolean> {
  const missing = (err: unknown) => err instanceof NotFoundError;
  if (w.op === 'task') {
    const examples = await store.listExamples(String(w.id)).catch((err) => { if (missing(err)) return null; throw err; });
    if (examples !== null && examples.length !== w.examples) throw new Error(`task ${w.id} (in flight): ${examples.length} of ${w.examples} examples stored`);
    return examples !== null;
  }
  if (w.op === 'adapter') {
    // Only this writer creates versions of its name, so the one in flight is the next number.
    const version = Number(acks.filter((a) => a.op === 'adapter').at(-1)?.version ?? 0) + 1;
    const next = await store.getAdapterVersion(who, version).catch((err) => { if (missing(err)) return null; throw err; });
    return next !== null && next.parameters.lora_A[0] === w.fill;
  }
  if (w.op === 'alias') return (await store.listAliases(who)).some((a) => a.alias === 'live' && a.version === w.version);
  if (w.op === 'job-progress') return (await store.getJob(String(w.id))).progress === w.progress;
  // A new job: the writer learns its id only from the ack; look for it by its owner.
  return (await allPages((token, n) => store.listJobs({ kind: 'fit' }, token, n))).some((j) => (j.params as { who?: string }).who === who);
}

/** Checks every acknowledged write of one writer, and whether the write it was killed in got stored. */
async function verify(store: RegistryStore, who: string, log: WriterLog): Promise<Verdict> {
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
  // Last-writer-wins records hold the last acknowledged value, or the in-flight one when that
  // write committed before the kill (acknowledged to nobody, so either is correct).
  const inFlight = log.inFlight;
  const lastAck = (op: string) => log.acks.filter((a) => a.op === op).at(-1);
  const pending = (op: string, key: string) => (inFlight?.op === op ? ` or ${String(inFlight[key])} in flight` : '');
  const alias = lastAck('alias');
  if (alias) {
    const stored = (await store.listAliases(who)).find((x) => x.alias === 'live');
    const allowed = [alias.version, ...(inFlight?.op === 'alias' ? [inFlight.version] : [])];
    if (!stored || !allowed.includes(stored.version)) problems.push(`alias ${who}@live: stored ${stored?.version}, expected the acknowledged ${alias.version}${pending('alias', 'version')}`);
  }
  const progress = lastAck('job-progress');
  if (progress) {
    const job = await store.getJob(String(progress.id));
    const allowed = [progress.progress, ...(inFlight?.op === 'job-progress' ? [inFlight.progress] : [])];
    if (!allowed.includes(job.progress)) problems.push(`job ${progress.id}: progress ${job.progress}, expected the acknowledged ${progress.progress}${pending('job-progress', 'progress')}`);
  }
  let inFlightStored: boolean | null = null;
  if (inFlight) {
    try { inFlightStored = await storedInFlight(store, who, inFlight, log.acks); } catch (err) { problems.push((err as Error).message); }
  }
  return { problems, inFlightStored };
}

export async function crashLoop(options: CrashLoopOptions): Promise<CrashLoopReport> {
  const rng = createRng(options.seed);
  const setup = await openRegistry(`sqlite:${options.file}`);
  await setup.registerBaseModel({
    name: CRASH_BASE_MODEL, modality: 'text', sha256: createHash('sha256').update(CRASH_BASE_MODEL).digest('hex'), featureDim: CRASH_DIM,
    placement: [{ layer: 'tanh_layer_0', inDim: CRASH_DIM, outDim: CRASH_DIM, activation: 'tanh' }],
  });
  await setup.close();
  const report: CrashLoopReport = { cycles: 0, acknowledged: 0, lost: 0, unacknowledged: { stored: 0, absent: 0 }, integrityFailures: 0, problems: [] };
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
        const { problems, inFlightStored } = await verify(store, names[w], log);
        if (inFlightStored !== null) report.unacknowledged[inFlightStored ? 'stored' : 'absent']++;
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
