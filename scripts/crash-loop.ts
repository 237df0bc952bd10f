/**
 * Crash-safety loop (scripts/attack/crash-loop.ts): writer processes write tasks, adapter
 * versions, alias moves and job updates concurrently to one SQLite registry and are killed with
 * SIGKILL at a random moment, for many cycles; after each kill the registry must pass
 * `PRAGMA integrity_check` and hold every acknowledged write. Prints the figures; exits non-zero
 * on any integrity failure or lost write.
 * Usage: npm run crash-loop [-- --cycles 100 --writers 4 --seed 1]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { integerAtLeast } from './cli-options.ts';

const positiveInt = integerAtLeast(1);
import { crashLoop } from './attack/crash-loop.ts';

const opts = new Command().name('crash-loop').description('kill -9 during concurrent registry writes, then integrity_check and every acknowledged write verified')
  .addOption(new Option('--cycles <n>', 'kill cycles').argParser(positiveInt).default(100))
  .addOption(new Option('--writers <n>', 'concurrent writer processes').argParser(positiveInt).default(4))
  .addOption(new Option('--seed <n>', 'random seed for the kill moments').argParser(positiveInt).default(1))
  .allowExcessArguments(false)
  .parse()
  .opts<{ cycles: number; writers: number; seed: number }>();

const dir = mkdtempSync(path.join(os.tmpdir(), 'lift-crash-'));
const began = performance.now();
try {
  const report = await crashLoop({
    file: path.join(dir, 'registry.sqlite'), cycles: opts.cycles, writers: opts.writers, seed: opts.seed, killAfterMs: [0, 1500],
    progress: (cycle, r) => {
      const s = (performance.now() - began) / 1000;
      if (cycle % 5 === 0 || cycle === opts.cycles) {
        console.log(`cycle ${cycle}/${opts.cycles}: ${r.acknowledged} acknowledged writes checked, ${r.lost} lost, ${r.integrityFailures} integrity failures, ${s.toFixed(0)} s, ETA ${((s / cycle) * (opts.cycles - cycle)).toFixed(0)} s`);
      }
    },
  });
  console.log(`\n${report.cycles} kill -9 cycles, ${opts.writers} writer processes each, seed ${opts.seed}`);
  console.log(`  acknowledged writes checked: ${report.acknowledged}`);
  console.log(`  lost or different: ${report.lost} (target 0: ${report.lost === 0 ? 'met' : 'MISSED'})`);
  console.log(`  writes in flight at the kill (never acknowledged): ${report.unacknowledged.stored} stored whole, ${report.unacknowledged.absent} absent`);
  console.log(`  integrity_check failures: ${report.integrityFailures} (target 0: ${report.integrityFailures === 0 ? 'met' : 'MISSED'})`);
  for (const p of report.problems) console.log(`  problem: ${p}`);
  process.exitCode = report.lost === 0 && report.integrityFailures === 0 ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
