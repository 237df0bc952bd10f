/**
 * Load every benchmark suite and write `benchmarks/splits.json`: the class splits, caps, example
 * counts and the digest of the fixed training tasks. Run after changing a loader or a seed, and
 * commit the result; `test/benchmarks.test.ts` checks that loading reproduces it.
 *
 *   node --import tsx scripts/make-splits.ts
 */
import { writeFileSync } from 'node:fs';
import { recordSuite, SPLITS_PATH, type RecordedSuite } from '../benchmarks/splits.ts';
import { loadSuite, SUITE_NAMES } from '../benchmarks/suites.ts';

const record: Record<string, RecordedSuite> = {};
for (const name of SUITE_NAMES) {
  const start = performance.now();
  const suite = await loadSuite(name);
  const ms = performance.now() - start;
  record[name] = recordSuite(suite);
  const { train, val, test } = suite.split;
  console.log(
    `${name}: ${suite.classes.length} classes (train ${train.length} / val ${val.length} / test ${test.length}), ` +
      `${record[name].exampleCount} examples, ${suite.trainTasks.length} training tasks, loaded in ${ms.toFixed(0)} ms`,
  );
}
writeFileSync(SPLITS_PATH, `${JSON.stringify(record, null, 2)}\n`);
console.log(`wrote ${SPLITS_PATH.pathname}`);
