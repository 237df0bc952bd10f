/**
 * What route handlers share: the service context and the server's own parts. Built once by
 * `createApp` and handed to each route module.
 */
import type { AdapterResolver } from '../service/adapter-refs.ts';
import type { ServerConfig } from '../service/config.ts';
import type { Retriever } from '../service/retrieve.ts';
import type { Runtime } from '../service/runtime.ts';
import type { Metrics } from './metrics.ts';
import type { PredictBatcher } from './predict-batcher.ts';

export interface ServerContext {
  readonly runtime: Runtime;
  readonly resolver: AdapterResolver;
  readonly retriever: Retriever;
  readonly batcher: PredictBatcher;
  readonly metrics: Metrics;
  readonly config: ServerConfig;
  /** Set once backbones are loaded; cleared when shutdown starts. */
  readonly state: { ready: boolean; shuttingDown: boolean };
}
