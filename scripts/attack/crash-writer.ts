/**
 * Child process of the crash loop: opens the registry at argv[2] and writes as fast as it can
 * until it is killed: tasks with examples, adapter versions (each with distinct parameters),
 * alias moves and job updates, under names of its own (argv[3]). Its journal (argv[4]) gets an
 * intent line `I <json>` before each write and an ack line `A <json>` after the write's promise
 * resolved (the transaction committed). Each line is one `write(2)` to a file opened for append:
 * once the call returns the line is in the kernel's page cache, which a SIGKILL of this process
 * cannot undo, so the journal holds every intent and every ack the writer reached (no pipe or
 * stream buffer in between). It starts writing when a line arrives on stdin and prints `acked`
 * once, after its first ack, so the loop knows when to start the kill timer.
 */
import { openSync, writeSync } from 'node:fs';
import { openRegistry } from '../../registry/open.ts';
import { CRASH_BASE_MODEL, CRASH_DIM } from './crash-loop.ts';

const [url, who, journalPath] = [process.argv[2], process.argv[3], process.argv[4]];
// Started ahead of its cycle (module loading is slow on a busy machine); it writes once told to.
await new Promise((resolve) => process.stdin.once('data', resolve));
const store = await openRegistry(url);
const journal = openSync(journalPath, 'a');
let acked = false;
const record = (kind: 'I' | 'A', entry: object) => {
  writeSync(journal, `${kind} ${JSON.stringify(entry)}\n`);
  if (kind === 'A' && !acked) { acked = true; process.stdout.write('acked\n'); }
};
let version = 0;
let jobId: string | null = null;
for (let i = 0; ; i++) {
  const op = i % 4;
  if (op === 0) {
    const id = `${who}-t${i}`;
    const examples = Array.from({ length: 6 }, (_, k) => ({ label: k % 2 ? 'a' : 'b', split: (k < 4 ? 'support' : 'query') as 'support' | 'query', text: `${who} ${i} ${k}` }));
    record('I', { op: 'task', id, examples: examples.length });
    await store.createTask({ id, modality: 'text', baseModel: CRASH_BASE_MODEL, labels: ['b', 'a'], examples, metadata: { who, i } });
    record('A', { op: 'task', id, examples: examples.length });
  } else if (op === 1) {
    const fill = i + 0.5;
    record('I', { op: 'adapter', name: who, fill });
    const r = await store.createAdapterVersion({
      name: who, method: 'independent', baseModel: CRASH_BASE_MODEL, labels: ['a', 'b'], rank: 2, alpha: 2,
      parameters: { lora_A: new Float32Array(2 * CRASH_DIM).fill(fill), lora_B: new Float32Array(CRASH_DIM * 2).fill(-fill) },
      extra: { tau: 10, nWay: 2 },
    });
    version = r.value.version;
    record('A', { op: 'adapter', name: who, fill, id: r.value.id, version, contentHash: r.value.contentHash });
  } else if (op === 2 && version > 0) {
    record('I', { op: 'alias', name: who, version });
    await store.setAlias(who, 'live', version);
    record('A', { op: 'alias', name: who, version });
  } else if (op === 3) {
    if (jobId === null) {
      record('I', { op: 'job' });
      jobId = (await store.createJob({ kind: 'fit', params: { who } })).id;
      record('A', { op: 'job', id: jobId, progress: 0 });
    } else {
      const progress = (i % 100) / 100;
      record('I', { op: 'job-progress', id: jobId, progress });
      await store.updateJob(jobId, { status: 'running', progress });
      record('A', { op: 'job-progress', id: jobId, progress });
    }
  }
}
