/**
 * Child process of the crash loop: opens the registry at argv[2] and writes as fast as it can
 * until it is killed: tasks with examples, adapter versions (each with distinct parameters),
 * alias moves and job updates, under names of its own (argv[3]). Before each write it prints an
 * intent line `I <json>`, after the write's promise resolves (the transaction committed) an ack
 * line `A <json>`. It starts writing when a line arrives on stdin. Writes to a pipe are synchronous on Linux, so a printed ack was acknowledged.
 */
import { openRegistry } from '../../registry/open.ts';
import { CRASH_BASE_MODEL, CRASH_DIM } from './crash-loop.ts';

const [url, who] = [process.argv[2], process.argv[3]];
// Started ahead of its cycle (module loading is slow on a busy machine); it writes once told to.
await new Promise((resolve) => process.stdin.once('data', resolve));
const store = await openRegistry(url);
const say = (kind: 'I' | 'A', record: object) => process.stdout.write(`${kind} ${JSON.stringify(record)}\n`);
let version = 0;
let jobId: string | null = null;
for (let i = 0; ; i++) {
  const op = i % 4;
  if (op === 0) {
    const id = `${who}-t${i}`;
    const examples = Array.from({ length: 6 }, (_, k) => ({ label: k % 2 ? 'a' : 'b', split: (k < 4 ? 'support' : 'query') as 'support' | 'query', text: `${who} ${i} ${k}` }));
    say('I', { op: 'task', id });
    await store.createTask({ id, modality: 'text', baseModel: CRASH_BASE_MODEL, labels: ['b', 'a'], examples, metadata: { who, i } });
    say('A', { op: 'task', id, examples: examples.length });
  } else if (op === 1) {
    const fill = i + 0.5;
    say('I', { op: 'adapter', name: who, fill });
    const r = await store.createAdapterVersion({
      name: who, method: 'independent', baseModel: CRASH_BASE_MODEL, labels: ['a', 'b'], rank: 2, alpha: 2,
      parameters: { lora_A: new Float32Array(2 * CRASH_DIM).fill(fill), lora_B: new Float32Array(CRASH_DIM * 2).fill(-fill) },
      extra: { tau: 10, nWay: 2 },
    });
    version = r.value.version;
    say('A', { op: 'adapter', name: who, fill, id: r.value.id, version, contentHash: r.value.contentHash });
  } else if (op === 2 && version > 0) {
    say('I', { op: 'alias', name: who, version });
    await store.setAlias(who, 'live', version);
    say('A', { op: 'alias', name: who, version });
  } else if (op === 3) {
    if (jobId === null) {
      say('I', { op: 'job' });
      jobId = (await store.createJob({ kind: 'fit', params: { who } })).id;
      say('A', { op: 'job', id: jobId, progress: 0 });
    } else {
      const progress = (i % 100) / 100;
      say('I', { op: 'job-progress', id: jobId, progress });
      await store.updateJob(jobId, { status: 'running', progress });
      say('A', { op: 'job-progress', id: jobId, progress });
    }
  }
}
