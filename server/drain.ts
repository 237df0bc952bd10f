/**
 * Graceful drain of the HTTP server. On shutdown:
 * 1. stop accepting connections, and mark every response still to be written `Connection: close`;
 * 2. requests that arrive after the signal on a kept-alive socket get 503 + `Connection: close`
 *    (server/app.ts), never a reset;
 * 3. after a short settle time, close the sockets that are idle: requests already on the wire to
 *    an idle socket have been read by then, so closing it resets nothing in flight;
 * 4. wait for in-flight requests up to the deadline, then destroy what is left.
 * Node's own `server.close()` closes idle sockets at once, before bytes already sent on them are
 * read, which is how keep-alive clients saw resets; hence the listener is closed on its own.
 */
import http from 'node:http';
import net from 'node:net';

export interface DrainOptions {
  /** How long to keep reading requests already on the wire before closing idle sockets, in ms. */
  readonly settleMs: number;
  /** Deadline for in-flight requests, in ms from the start of the drain. */
  readonly deadlineMs: number;
}

export interface DrainResult {
  /** Requests still running at the deadline, whose sockets were destroyed. */
  readonly abandoned: number;
}

export class ConnectionDrain {
  private readonly pending = new Set<http.ServerResponse>();
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly server: http.Server) {
    server.on('request', (_req, res: http.ServerResponse) => {
      this.pending.add(res);
      res.once('close', () => {
        this.pending.delete(res);
        if (this.pending.size === 0) this.waiters.splice(0).forEach((f) => f());
      });
    });
  }

  get inFlight(): number {
    return this.pending.size;
  }

  async drain(options: DrainOptions): Promise<DrainResult> {
    const deadline = performance.now() + options.deadlineMs;
    const stopped = new Promise<void>((resolve) => net.Server.prototype.close.call(this.server, () => resolve()));
    for (const res of this.pending) if (!res.headersSent) res.setHeader('Connection', 'close');
    await sleep(Math.min(options.settleMs, options.deadlineMs));
    this.server.closeIdleConnections();
    // Sockets that finish their response after this close themselves (Connection: close).
    const drained = this.pending.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.waiters.push(resolve));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise<void>((resolve) => { timer = setTimeout(resolve, Math.max(0, deadline - performance.now())); })]);
    clearTimeout(timer);
    const abandoned = this.pending.size;
    this.server.closeAllConnections();
    await stopped;
    return { abandoned };
  }
}

// Not unref'd: a shutdown in progress must keep the process alive until it has finished.
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
