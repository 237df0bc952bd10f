/**
 * Load every benchmark suite and write `benchmarks/splits.json`: the class splits, caps, example
 * counts and the digest of the fixed training tasks. Run after changing a loader or a seed, and
 * commit the result; `test/benchmarks.test.ts` checks that loading reproduces it.
 *
 *   npm run make:splits
 */
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { recordSuite, SPLITS_PATH, type RecordedSuite } from '../benchmarks/splits.ts';
import { loadSuite, SUITE_NAMES } from '../benchmarks/suites.ts';

new Command('make-splits')
  .description('Load every benchmark suite and rewrite benchmarks/splits.json (class splits, caps, counts, training-task digest).')
  .parse();

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
