/**
 * `npm run tasks -- list | show <id> | delete <id...>`: the registry's tasks from the command line.
 * Deleting a task deletes its examples; adapters fitted on it are kept and keep predicting (as
 * DELETE /v1/tasks/:id).
 */
import { Command } from 'commander';
import { NotFoundError } from '../registry/errors.ts';
import type { Task } from '../registry/types.ts';
import { Runtime } from '../service/runtime.ts';
import { allPages } from '../registry/pages.ts';

const program = new Command()
  .name('tasks')
  .description('List, show and delete the tasks in the registry.')
  .option('--registry <url>', 'registry URL (sqlite:<path> or postgres://…); default $LIFT_REGISTRY, else data/registry.sqlite');

async function withRuntime<T>(work: (rt: Runtime) => Promise<T>): Promise<T> {
  const rt = await Runtime.open({ registryUrl: program.opts<{ registry?: string }>().registry });
  try {
    return await work(rt);
  } finally {
    await rt.close();
  }
}

const line = (t: Task) => `${t.id}\t${t.modality}\t${t.labels.length} labels\t${Object.entries(t.exampleCounts).map(([s, n]) => `${s} ${n}`).join(', ')}`;

program.command('list').description('every task, one a line: id, modality, labels, examples per split').action(() => withRuntime(async (rt) => {
  for (const t of await allPages((token, size) => rt.store.listTasks({}, token, size))) console.log(line(t));
}));

program.command('show <id>').description('one task as JSON').action((id: string) => withRuntime(async (rt) => {
  console.log(JSON.stringify(await rt.store.getTask(id), null, 2));
}));

program.command('delete <ids...>').description('delete tasks and their examples (fitted adapters are kept)').action((ids: string[]) => withRuntime(async (rt) => {
  // All must exist before any is deleted, so a typo deletes nothing.
  for (const id of ids) await rt.store.getTask(id);
  for (const id of ids) {
    await rt.store.deleteTask(id);
    console.log(`deleted task ${id}`);
  }
}));

program.parseAsync().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  console.error(`tasks: ${err instanceof NotFoundError ? `${message}; list them with: npm run tasks -- list` : message}`);
  process.exit(1);
});
