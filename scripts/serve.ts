/**
 * Starts the inference server with configuration from flags and environment variables
 * (see docs/api.md). Usage: npm run serve -- [--port 8080] [--registry data/registry.sqlite] …
 * Assumes the backbones are built (npm run build:models); `npm start` also trains a default prior.
 */
import { startServer } from '../server/start.ts';
import { loadConfig } from '../server/config.ts';

try {
  await startServer(loadConfig(), { handleSignals: true });
} catch (err) {
  console.error(`serve: ${(err as Error).message}`);
  process.exit(1);
}
