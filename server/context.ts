/**
 * What route handlers share: the service context and the server's own parts. Built once by
 * `createApp` and handed to each route module.
 */
import type { AdapterResolver } from '../service/adapter-refs.ts';
import type { ServerConfig } from './config.ts';
import type { JobRunner } from '../service/jobs.ts';
import type { Predictor } from '../service/predict.ts';
import type { Retriever } from '../service/retrieve.ts';
import type { Runtime } from '../service/runtime.ts';
import type { Logger } from '../service/log.ts';
import type { Metrics } from './metrics.ts';

export interface ServerContext {
  readonly runtime: Runtime;
  readonly resolver: AdapterResolver;
  readonly retriever: Retriever;
  /** Batched prediction. */
  readonly predictor: Predictor;
  /** Runs long work (training priors, …) as jobs stored in the registry. */
  readonly jobs: JobRunner;
  readonly metrics: Metrics;
  /** JSON lines; each request has a child logger with its id (server/request-log.ts). */
  readonly log: Logger;
  readonly config: ServerConfig;
  /** Set once backbones are loaded; cleared when shutdown starts. */
  readonly state: { ready: boolean; shuttingDown: boolean };
}
