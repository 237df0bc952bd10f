/**
 * Starts the inference server with configuration from flags and environment variables
 * (see docs/api.md). Usage: npm run serve -- [--port 8080] [--registry data/registry.sqlite] …
 * Assumes the backbones are built (npm run build:models); `npm start` also trains a default prior.
 * A bad setting is reported as plain text (there is no log level yet); anything after, as JSON.
 */
import { startServer } from '../server/start.ts';
import { loadConfig, type ServerConfig } from '../server/config.ts';
import { createLogger } from '../service/log.ts';

let config: ServerConfig;
try {
  config = loadConfig();
} catch (err) {
  console.error(`serve: ${(err as Error).message}`);
  process.exit(1);
}
const log = createLogger(config.logLevel);
try {
  await startServer(config, { handleSignals: true, logger: log });
} catch (err) {
  log.fatal({ err }, 'server not started');
  process.exit(1);
}
