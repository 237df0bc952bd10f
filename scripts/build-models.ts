/**
 * `npm run build:models`: convert every frozen backbone (service/backbones.ts) from its npm
 * package to ONNX in `models/` (git-ignored). Each build is deterministic and idempotent: an
 * up-to-date model is reused, and the printed sha256 is the identity the registry records.
 *
 *   npm run build:models [-- --force] [-- --models-dir DIR]
 */
import { parseArgs } from 'node:util';
import { buildAllBaseModels, DEFAULT_MODELS_DIR } from '../service/backbones.ts';

const { values } = parseArgs({
  options: { force: { type: 'boolean', default: false }, 'models-dir': { type: 'string' } },
});
await buildAllBaseModels(values['models-dir'] ?? DEFAULT_MODELS_DIR, values.force ?? false);
