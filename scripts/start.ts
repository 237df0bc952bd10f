/**
 * `npm start`: the main job on the embedded defaults. Builds the backbones if missing, trains the
 * default LiFT prior (and the competitors) on the bundled WordNet benchmark if the registry has
 * none, then serves on localhost. Flags and environment variables as for the server (docs/api.md).
 */
import { startServer } from '../server/start.ts';
import { buildAllBaseModels } from '../service/backbones.ts';
import { loadConfig } from '../service/config.ts';
import { findPrior } from '../service/meta-artifacts.ts';
import { trainPrior } from '../service/train-prior.ts';
import { Runtime } from '../service/runtime.ts';

const DEFAULT_SUITE = 'wordnet';

async function main(): Promise<void> {
  const config = loadConfig();
  await buildAllBaseModels(config.modelsDir);
  const runtime = await Runtime.open(config);
  try {
    const text = await runtime.backbones.text();
    if (await findPrior(runtime.store, text.baseModel, DEFAULT_SUITE)) {
      console.log(`registry ${config.registryUrl} has a prior for ${text.baseModel.name}; skipping training`);
    } else {
      console.log(`no prior in ${config.registryUrl} yet: training LiFT and the competitors on '${DEFAULT_SUITE}' (a few minutes, once)`);
      const { prior, ms } = await trainPrior(runtime, DEFAULT_SUITE);
      console.log(`stored prior ${prior.name} v${prior.version} (${prior.id}), LiFT trained in ${(ms / 1000).toFixed(1)} s`);
    }
  } finally {
    await runtime.close();
  }
  await startServer(config, { handleSignals: true });
}

main().catch((err: unknown) => {
  console.error(`start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
