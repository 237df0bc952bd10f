import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { openRegistry } from '../registry/open.ts';
import { ENGINES, registryUrlFor } from './store-engines.ts';

const run = promisify(execFile);
const PROCESSES = 8, PER_PROCESS = 6;

for (const engine of ENGINES) {
  test(`${PROCESSES} processes creating versions of one adapter name at once get 1..N, no gap or duplicate [${engine}]`, async (t) => {
    const url = await registryUrlFor(engine, t, { serverOnly: true });
    if (!url) return;
    const store = await openRegistry(url);
    await store.registerBaseModel({
      name: 'concurrency-base', modality: 'text', sha256: createHash('sha256').update('concurrency').digest('hex'), featureDim: 4,
      placement: [{ layer: 'tanh_layer_0', inDim: 4, outDim: 4, activation: 'tanh' }],
    });
    const outputs = await Promise.all(Array.from({ length: PROCESSES }, (_, who) =>
      run(process.execPath, ['--import', 'tsx', 'test/concurrent-writer.ts', url, String(who), String(PER_PROCESS)], { timeout: 120_000 })));
    const results = outputs.flatMap((o) => JSON.parse(o.stdout) as { version: number; created: boolean; shared: boolean }[]);

    const distinct = PROCESSES * PER_PROCESS + 1;
    const stored = [];
    for (let v = 1; ; v++) {
      try { stored.push(await store.getAdapterVersion('shared-name', v)); } catch { break; }
    }
    assert.deepEqual(stored.map((a) => a.version), Array.from({ length: distinct }, (_, i) => i + 1), 'versions 1..N, each once');
    assert.equal(new Set(stored.map((a) => a.contentHash)).size, distinct, 'each content stored once');
    const shared = results.filter((r) => r.shared);
    assert.equal(shared.length, PROCESSES);
    assert.equal(shared.filter((r) => r.created).length, 1, 'the content every process sent was created by exactly one');
    assert.equal(new Set(shared.map((r) => r.version)).size, 1, 'and every process got that same version back');
    assert.equal((await store.getLatestAdapterVersion('shared-name')).version, distinct);
    await store.close();
  });
}
