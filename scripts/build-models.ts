/**
 * `npm run build:models`: convert every frozen backbone (service/backbones.ts) from its npm
 * package to ONNX in `models/` (git-ignored). Each build is deterministic and idempotent: an
 * up-to-date model is reused, and the printed sha256 is the identity the registry records.
 *
 *   npm run build:models -- [--force] [--models-dir DIR]
 */
import { Command } from 'commander';
import { buildAllBaseModels, DEFAULT_MODELS_DIR } from '../service/backbones.ts';

const program = new Command('build:models')
  .description('Convert the frozen backbones (USE-lite, MobileNetV2) from their npm packages to ONNX.')
  .option('--force', 'rebuild even when an up-to-date model exists', false)
  .option('--models-dir <dir>', 'where the .onnx files go', DEFAULT_MODELS_DIR)
  .parse();
const opts = program.opts<{ force: boolean; modelsDir: string }>();
await buildAllBaseModels(opts.modelsDir, opts.force);
