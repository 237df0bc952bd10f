/**
 * Starting and stopping the server. `startServer(config)` opens the registry, loads the
 * backbones, listens, and returns a handle whose `close()` shuts down gracefully: stop accepting,
 * let in-flight requests finish (up to `shutdownTimeoutMs`), run any queued predictions, then
 * close the backbones and the registry. With `handleSignals`, SIGTERM/SIGINT trigger it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdapterResolver } from '../service/adapter-refs.ts';
import { describeConfig, type ServerConfig } from '../service/config.ts';
import { openJobRunner } from '../service/job-runners.ts';
import { Retriever } from '../service/retrieve.ts';
import { Runtime } from '../service/runtime.ts';
import { createApp } from './app.ts';
import type { ServerContext } from './context.ts';
import { Metrics } from './metrics.ts';
import { PredictBatcher } from './predict-batcher.ts';

export interface RunningServer {
  /** e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly port: number;
  readonly context: ServerContext;
  /** Graceful shutdown; safe to call more than once. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Install SIGTERM/SIGINT handlers that shut down and exit (the CLI does; tests do not). */
  readonly handleSignals?: boolean;
  readonly log?: (message: string) => void;
}

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? ((m: string) => console.log(m));
  const metrics = new Metrics(config.metricsTopAdapters);
  const runtime = await Runtime.open(config, metrics);
  const jobs = openJobRunner(runtime, config);
  const context: ServerContext = {
    runtime, metrics, config,
    resolver: new AdapterResolver(runtime.store),
    retriever: new Retriever(runtime),
    batcher: new PredictBatcher(runtime, { windowMs: config.batchWindowMs, maxInputs: config.maxBatchInputs }, metrics),
    jobs: jobs.runner,
    state: { ready: false, shuttingDown: false },
  };
  const server = http.createServer(createApp(context));
  let inFlight = 0;
  const idle: (() => void)[] = [];
  server.on('request', (_req, res) => {
    inFlight++;
    res.once('close', () => { if (--inFlight === 0) idle.splice(0).forEach((f) => f()); });
  });
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
    await context.jobs.start();
    await runtime.load();
  } catch (err) {
    server.close();
    await jobs.runner.close();
    await jobs.close();
    await runtime.close();
    throw err;
  }
  context.state.ready = true;
  log(`LiFT zoo listening on ${url} (${JSON.stringify(describeConfig(config))})`);

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => closing ??= (async () => {
    context.state.shuttingDown = true;
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const drained = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve));
    context.batcher.flush();
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs).unref());
    await Promise.race([drained, timeout]);
    server.closeAllConnections();
    await stopped;
    await context.jobs.close();
    await jobs.close();
    await runtime.close();
    log('LiFT zoo stopped');
  })();

  if (options.handleSignals) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        log(`${signal}: shutting down`);
        close().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
      });
    }
  }
  return { url, port, context, close };
}
