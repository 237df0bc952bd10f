/**
 * `npm start`: the main job on the embedded defaults. Builds the backbones if missing, seeds a
 * text zoo (WordNet) and an image zoo (emoji) when the registry lacks them: LiFT and the
 * competitors trained on each suite's training tasks, the per-task adapters as the zoo's members
 * (service/seed-zoos.ts); then serves on localhost. Each step is a phase "k of n" with progress
 * and an ETA. Flags and environment variables as for the server (docs/api.md).
 */
import { startServer } from '../server/start.ts';
import { buildAllBaseModels } from '../service/backbones.ts';
import { loadConfig } from '../server/config.ts';
import { formatDuration, startPhases } from '../service/progress.ts';
import { SEED_SUITES, seedZoo } from '../service/seed-zoos.ts';
import { Runtime } from '../service/runtime.ts';

async function main(): Promise<void> {
  const config = loadConfig(process.argv, process.env, {
    name: 'npm start --',
    description: 'The main job: build the backbones, seed the text and image zoos once per registry, then serve.',
  });
  const phases = startPhases('start', SEED_SUITES.length + 2);
  phases.next('backbones: convert USE-lite and MobileNetV2 to ONNX if missing');
  await buildAllBaseModels(config.modelsDir);
  const runtime = await Runtime.open(config);
  try {
    for (const { suite, modality } of SEED_SUITES) {
      phases.next(`${modality} zoo '${suite}': LiFT and the competitors on the suite's training tasks, once per registry`);
      const r = await seedZoo(runtime, suite);
      const what = r.trained ? `trained prior ${r.prior.name} v${r.prior.version} in ${formatDuration(r.ms)}` : `prior ${r.prior.name} v${r.prior.version} already in ${config.registryUrl}`;
      console.log(`${what}; zoo '${suite}' v${r.zoo.version} has ${r.zoo.zoo.memberCount} members`);
    }
  } finally {
    await runtime.close();
  }
  phases.next(`serve (set-up took ${formatDuration(phases.done())})`);
  await startServer(config, { handleSignals: true });
}

main().catch((err: unknown) => {
  console.error(`start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
