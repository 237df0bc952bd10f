/**
 * `npm run build:models`: convert every frozen backbone from its npm package to ONNX in
 * `models/` (git-ignored). Each build is deterministic and idempotent: an up-to-date model is
 * reused, and the printed sha256 is the identity the registry records for the base model.
 *
 *   npm run build:models [-- --force] [-- --models-dir DIR]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildMobileNetV2 } from '../backbone/mobilenet-v2.ts';
import { buildUseLite } from '../backbone/use-lite.ts';

export const DEFAULT_MODELS_DIR = join(import.meta.dirname, '..', 'models');

interface BackboneBuild {
  readonly onnxPath: string;
  readonly sha256: string;
  readonly built: boolean;
}

/** Every backbone the project ships. Add new ones here. */
export const BACKBONE_BUILDS = Object.freeze({
  // text
  'use-lite': (dir: string, force: boolean): Promise<BackboneBuild> => buildUseLite(dir, { force }),
  // vision
  'mobilenet-v2': async (dir: string, force: boolean): Promise<BackboneBuild> => {
    const result = buildMobileNetV2(dir, { force });
    return { onnxPath: result.onnxPath, sha256: result.sidecar.sha256, built: result.built };
  },
} as const);

/** Build all backbones into `modelsDir`, printing one line per model. */
export async function buildModels(modelsDir = DEFAULT_MODELS_DIR, force = false): Promise<Record<string, BackboneBuild>> {
  const results: Record<string, BackboneBuild> = {};
  for (const [name, build] of Object.entries(BACKBONE_BUILDS)) {
    const start = performance.now();
    const result = await build(modelsDir, force);
    const ms = (performance.now() - start).toFixed(0);
    console.log(`${name.padEnd(13)} ${result.built ? 'built ' : 'reused'} ${result.onnxPath} sha256 ${result.sha256} (${ms} ms)`);
    results[name] = result;
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { force: { type: 'boolean', default: false }, 'models-dir': { type: 'string' } },
  });
  await buildModels(values['models-dir'] ?? DEFAULT_MODELS_DIR, values.force ?? false);
}
