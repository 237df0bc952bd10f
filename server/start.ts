/**
 * Starting and stopping the server. `startServer(config)` opens the registry, loads the
 * backbones, listens, and returns a handle whose `close()` shuts down gracefully: run any queued
 * predictions, drain connections (server/drain.ts: `Connection: close`, 503 for late requests,
 * sockets idle for a second closed, in-flight requests finished up to `shutdownTimeoutMs`), cancel running
 * jobs, then close the backbones and the registry. With `handleSignals`, SIGTERM/SIGINT trigger it.
 */
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { AdapterResolver } from '../service/adapter-refs.ts';
import { describeConfig, type ServerConfig } from './config.ts';
import { openJobRunner } from '../service/job-runners.ts';
import { Predictor } from '../service/predict.ts';
import { Retriever } from '../service/retrieve.ts';
import { Runtime } from '../service/runtime.ts';
import { codeVersion } from '../service/runs.ts';
import { createApp } from './app.ts';
import { startJsonParser } from './json-body.ts';
import { openApiDocument } from './openapi.ts';
import { isLoopback } from './host-check.ts';
import { createLogger, type Logger } from '../service/log.ts';
import { ConnectionDrain } from './drain.ts';
import type { ServerContext } from './context.ts';
import { Metrics } from './metrics.ts';

/** How long cancelled jobs get to stop after the HTTP drain. */
const JOB_STOP_MS = 2000;

export interface RunningServer {
  /** e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly port: number;
  readonly context: ServerContext;
  /** Requests whose response is not finished yet. */
  inFlight(): number;
  /** Graceful shutdown; safe to call more than once. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Install SIGTERM/SIGINT handlers that shut down and exit (the CLI does; tests do not). */
  readonly handleSignals?: boolean;
  /** Default: JSON lines on stdout at `config.logLevel`. */
  readonly logger?: Logger;
}

/**
 * How often Node looks for requests past their header or request timeout. Its default, 30 s, lets
 * a slow client hold a socket up to 30 s beyond either timeout; a quarter of the shorter one (at
 * most 1 s) keeps the overrun small for the cost of a pass over the open connections.
 */
function timeoutCheckMs(config: ServerConfig): number {
  return Math.max(10, Math.min(1000, Math.floor(Math.min(config.headersTimeoutMs, config.requestTimeoutMs) / 4)));
}

/**
 * What is built once on first use is built before the server reports ready, so no request (and
 * no /healthz waiting behind it) pays for it: the OpenAPI document (~200 ms of schema
 * conversion), the code version that runs record (two `git` processes), the thread that parses
 * large JSON bodies, and each backbone's first run (lazily compiled code on the JavaScript side,
 * ~70 ms).
 */
async function warmUp(config: ServerConfig, runtime: Runtime): Promise<void> {
  openApiDocument(config);
  await Promise.all([codeVersion(), startJsonParser()]);
  const [text, image] = await Promise.all([runtime.forModality('text'), runtime.forModality('image')]);
  await text.encoder.embedFeatures(['warm-up']);
  await image.encoder.embedFeatures([{ width: 1, height: 1, data: new Uint8Array(3) }]);
}

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.logger ?? createLogger(config.logLevel);
  const metrics = new Metrics(config.metricsTopAdapters);
  const runtime = await Runtime.open(config, metrics);
  const jobs = openJobRunner(runtime, config, log);
  const resolver = new AdapterResolver(runtime.store);
  const context: ServerContext = {
    runtime, metrics, config, log,
    resolver,
    retriever: new Retriever(runtime),
    predictor: new Predictor(runtime, resolver, { windowMs: config.batchWindowMs, maxInputs: config.maxBatchInputs }, metrics),
    jobs: jobs.runner,
    state: { ready: false, shuttingDown: false },
  };
  const server = http.createServer({
    requestTimeout: config.requestTimeoutMs, headersTimeout: config.headersTimeoutMs, keepAliveTimeout: config.keepAliveTimeoutMs,
    connectionsCheckingInterval: timeoutCheckMs(config),
  }, createApp(context));
  server.maxConnections = config.maxConnections;
  const drain = new ConnectionDrain(server);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => { server.off('error', reject); resolve(); });
    });
  } catch (err) {
    await jobs.runner.close();
    await jobs.close();
    await runtime.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  try {
    await context.jobs.start(`${os.hostname()}:${port}`);
    await runtime.load();
    await warmUp(config, runtime);
  } catch (err) {
    server.close();
    await jobs.runner.close();
    await jobs.close();
    await runtime.close();
    throw err;
  }
  context.state.ready = true;
  log.info({ url, config: describeConfig(config) }, `LiFT zoo listening on ${url}`);
  if (config.apiKey === null && !isLoopback(config.host)) {
    log.warn({ host: config.host }, `no API key on ${config.host}, which is not a loopback address: anyone who reaches it can read and change the registry; set --api-key (LIFT_API_KEY)`);
  }

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => closing ??= (async () => {
    context.state.shuttingDown = true;
    context.predictor.flush();
    const { abandoned } = await drain.drain({ deadlineMs: config.shutdownTimeoutMs });
    if (abandoned > 0) log.warn({ abandoned }, 'shutdown deadline: requests still running were closed');
    // Running jobs are cancelled (their state says so); a job that ignores its signal is left behind.
    const stopJobs = async () => { await context.jobs.close(); await jobs.close(); };
    await Promise.race([stopJobs(), new Promise((resolve) => setTimeout(resolve, JOB_STOP_MS).unref())]);
    await runtime.close();
    log.info('LiFT zoo stopped');
  })();

  if (options.handleSignals) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        log.info({ signal }, 'shutting down');
        close().then(() => process.exit(0), (err: unknown) => { log.fatal({ err }, 'shutdown failed'); process.exit(1); });
      });
    }
  }
  return { url, port, context, inFlight: () => drain.inFlight, close };
}
