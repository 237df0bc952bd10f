/**
 * `npm run fit -- --file <tasks.jsonl> [--methods auto,prototypes] [--alias prod] [--zoo <name>]
 * [--replace]`: the CLI side of the task-file format. Creates each task of the file in the
 * registry (`--replace` replaces tasks of the same id), fits an adapter with the first method
 * (stored as a new version, optionally aliased and promoted into a zoo), and, when the file has
 * query lines, scores every listed method on them side by side.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { AlreadyExistsError } from '../registry/errors.ts';
import { AUTO_METHOD } from '../service/auto.ts';
import { checkMethodNames, compareMethods } from '../service/compare.ts';
import { fitAdapter } from '../service/fit.ts';
import { createTasksFromFile } from '../service/tasks.ts';
import { Runtime } from '../service/runtime.ts';

const program = new Command()
  .name('fit')
  .description('Fit adapters for the tasks of a JSONL task file (docs/task-file.md).')
  .requiredOption('--file <path>', 'task file (JSON Lines)')
  .option('--methods <list>', `comma-separated (${AUTO_METHOD}: the prior of the closest zoo, or a prior-free method); the first is fitted and stored, all are compared on the queries`, AUTO_METHOD)
  .option('--alias <alias>', 'alias to point at the stored adapter version')
  .option('--zoo <name>', 'promote the stored adapter into this zoo (created on first use)')
  .option('--replace', 'replace tasks that already exist under the same id (their examples go; fitted adapters are kept)')
  .option('--registry <url>', 'registry URL (sqlite:<path> or postgres://…); default $LIFT_REGISTRY, else data/registry.sqlite')
  .parse();
const opts = program.opts<{ file: string; methods: string; alias?: string; zoo?: string; replace?: boolean; registry?: string }>();

function readTaskFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    return program.error(`--file: cannot read '${file}': ${(err as Error).message}`);
  }
}

async function main(): Promise<void> {
  const content = readTaskFile(opts.file);
  const methods = opts.methods.split(',').map((m) => m.trim()).filter(Boolean);
  try {
    checkMethodNames(methods);
  } catch (err) {
    program.error(`--methods: ${(err as Error).message}`);
  }
  const runtime = await Runtime.open({ registryUrl: opts.registry });
  try {
    const tasks = await createTasksFromFile(runtime, content, undefined, {
      source: opts.file, baseDir: path.dirname(path.resolve(opts.file)), replace: opts.replace,
    });
    for (const task of tasks) {
      const fit = await fitAdapter(runtime, task.id, { method: methods[0], alias: opts.alias, zoo: opts.zoo });
      console.log(`task ${task.id}: ${fit.adapter.name} v${fit.adapter.version} (${fit.adapter.id}), ${fit.adapter.method}, fit ${fit.fitMs.toFixed(1)} ms, support accuracy ${(100 * fit.supportAccuracy).toFixed(1)}%`);
      if (fit.auto) console.log(`  auto: ${String(fit.auto.reason)}`);
      if (fit.zoo) console.log(`  zoo ${fit.zoo.zoo.name} v${fit.zoo.version}`);
      if ((task.exampleCounts.query ?? 0) === 0) continue;
      const { rows, querySize } = await compareMethods(runtime, task.id, { methods });
      console.log(`  ${querySize} queries:`);
      for (const r of rows) {
        const label = r.auto ? `auto (${String(r.auto.method)})` : r.method;
        console.log(r.error ? `  ${label.padEnd(24)} ${r.error}` : `  ${label.padEnd(24)} accuracy ${(100 * r.accuracy!).toFixed(1)}%  NLL ${r.nll!.toFixed(3)}  ${r.fitMs!.toFixed(1)} ms`);
      }
    }
  } finally {
    await runtime.close();
  }
}

main().catch((err: unknown) => {
  const hint = err instanceof AlreadyExistsError ? ' (re-run with --replace to replace it, or delete it: npm run tasks -- delete <id>)' : '';
  console.error(`fit: ${err instanceof Error ? err.message : String(err)}${hint}`);
  process.exit(1);
});
