/**
 * A short run of the crash-safety loop (`npm run crash-loop` is the full one): writer processes
 * killed with SIGKILL mid-write leave a registry that passes integrity_check and holds every
 * write they acknowledged.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { crashLoop } from '../scripts/attack/crash-loop.ts';

it('kill -9 during concurrent writes loses no acknowledged write and leaves an intact registry', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lift-crash-'));
  try {
    const report = await crashLoop({ file: join(dir, 'registry.sqlite'), cycles: 2, writers: 2, seed: 3, killAfterMs: [50, 400] });
    assert.equal(report.cycles, 2);
    assert.ok(report.acknowledged >= 4, `${report.acknowledged} acknowledged writes were checked`);
    assert.deepEqual(report.problems, []);
    assert.equal(report.lost, 0);
    assert.equal(report.integrityFailures, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
