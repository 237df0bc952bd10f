/**
 * `npm run report:readme`: regenerates the README results table from the committed reports
 * (reports/<suite>.json), between its markers. `--check` only compares and exits 1 on a difference.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { readReports, resultsTable, withResultsTable } from '../benchmarks/readme-results.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

const program = new Command()
  .name('report:readme')
  .description('Write the README results table from reports/<suite>.json.')
  .option('--check', 'exit 1 when README.md differs from the generated table, writing nothing')
  .parse();
const opts = program.opts<{ check?: boolean }>();

try {
  const file = path.join(ROOT, 'README.md');
  const readme = readFileSync(file, 'utf8');
  const next = withResultsTable(readme, resultsTable(readReports(path.join(ROOT, 'reports'))));
  if (opts.check) {
    if (next !== readme) {
      console.error('report:readme: README.md results table differs from reports/*.json; run npm run report:readme');
      process.exit(1);
    }
    console.log('README.md results table matches reports/*.json');
  } else {
    writeFileSync(file, next);
    console.log(next === readme ? 'README.md results table already up to date' : 'wrote the README.md results table');
  }
} catch (err) {
  console.error(`report:readme: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
