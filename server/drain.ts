/**
 * Graceful drain of the HTTP server. On shutdown:
 * 1. stop accepting connections, and mark every response still to be written `Connection: close`;
 * 2. requests that arrive after the signal on a kept-alive socket get 503 + `Connection: close`
 *    (server/app.ts), never a reset, so each busy socket closes after its next answer;
 * 3. close a socket only once it has been idle for IDLE_CLOSE_MS: the server cannot see a request
 *    a client has already sent but the event loop has not read yet (on a loaded machine, up to
 *    seconds), and closing such a socket resets that request; a socket in use is never closed
 *    early, it closes after its next answer;
 * 4. at the deadline, destroy what is left.
 * Node's own `server.close()` closes idle sockets at once, which is how keep-alive clients saw
 * resets; hence the listener is closed on its own.
 */
import http from 'node:http';
import net from 'node:net';

export interface DrainOptions {
  /** Deadline for open connections, in ms from the start of the drain. */
  readonly deadlineMs: number;
}

export interface DrainResult {
  /** Requests still running at the deadline, whose sockets were destroyed. */
  readonly abandoned: number;
}

/** How long a socket must have been idle before the drain closes it. */
const IDLE_CLOSE_MS = 1000;

export class ConnectionDrain {
  private readonly pending = new Set<http.ServerResponse>();
  /** Open sockets -> when their last response finished (or they connected); busy ones are absent. */
  private readonly idleSince = new Map<net.Socket, number>();
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly server: http.Server) {
    server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      this.idleSince.set(socket, performance.now());
      socket.once('close', () => { this.sockets.delete(socket); this.idleSince.delete(socket); });
    });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.pending.add(res);
      this.idleSince.delete(req.socket);
      res.once('close', () => {
        this.pending.delete(res);
        if (this.sockets.has(req.socket)) this.idleSince.set(req.socket, performance.now());
      });
    });
  }

  get inFlight(): number {
    return this.pending.size;
  }

  async drain(options: DrainOptions): Promise<DrainResult> {
    let closed = false;
    const stopped = new Promise<void>((resolve) => net.Server.prototype.close.call(this.server, () => { closed = true; resolve(); }));
    for (const res of this.pending) if (!res.headersSent) res.setHeader('Connection', 'close');
    const closeIdle = () => {
      const now = performance.now();
      for (const [socket, since] of this.idleSince) if (now - since >= IDLE_CLOSE_MS) socket.destroy();
    };
    closeIdle();
    // Not unref'd: a shutdown in progress must keep the process alive until it has finished.
    const sweeper = setInterval(closeIdle, 100);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([stopped, new Promise<void>((resolve) => { timer = setTimeout(resolve, options.deadlineMs); })]);
    clearTimeout(timer);
    clearInterval(sweeper);
    const abandoned = closed ? 0 : this.pending.size;
    this.server.closeAllConnections();
    await stopped;
    return { abandoned };
  }
}
