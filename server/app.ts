/**
 * The express application: request id and access log, metrics timing, the Host check of a
 * server without a key (host-check.ts), the routes of the route table (each with its own
 * auth, body parsing and validation, see router.ts), the interactive API docs at /docs, the web
 * console's static files at `/`, then the 404 and the one error middleware. No state lives here;
 * it is all in the `ServerContext` the caller builds (see start.ts).
 */
import express from 'express';
import type { Socket } from 'node:net';
import { accessOf, isOpen } from './access.ts';
import { API_DOCS_PATH, apiDocs } from './api-docs.ts';
import { requireApiKey } from './auth.ts';
import { consoleRoutes } from './console.ts';
import type { ServerContext } from './context.ts';
import { errorMiddleware, HTTP_ERROR_CODES, HttpError, routeNotFound } from './errors.ts';
import { checkHost } from './host-check.ts';
import { requestLog } from './request-log.ts';
import { ROUTES } from './route-table.ts';
import { routerFor } from './router.ts';

/**
 * A request that arrives after shutdown began (on a kept-alive socket; the listener is closed)
 * gets 503 and `Connection: close`, so the client retries elsewhere instead of seeing a reset.
 */
function refuseWhileDraining(ctx: ServerContext): express.RequestHandler {
  return (_req, res, next) => {
    if (!ctx.state.shuttingDown) return next();
    res.set({ Connection: 'close', 'Retry-After': '1' });
    next(new HttpError(HTTP_ERROR_CODES.unavailable, 'the server is shutting down; retry the request on a new connection'));
  };
}

/** After an early answer, how long and how many more bytes to read before resetting the socket. */
const LINGER_MS = 1000;
const LINGER_BYTES = 1024 * 1024;

/**
 * A response written while the request body is still arriving unread (a body on a GET, an early
 * 401, 413 or 415) closes the connection. Otherwise Node would read and discard the rest of the
 * announced body to keep the socket, so an unauthenticated client could make the server read
 * gigabytes it has already refused. The close lingers: the server ends its side and reads on for
 * at most LINGER_MS / LINGER_BYTES, so the client receives the answer before the socket is reset
 * (closing a socket with unread data resets it, and a reset can discard the answer in transit).
 */
const closeIfBodyUnread: express.RequestHandler = (req, res, next) => {
  const writeHead = res.writeHead;
  res.writeHead = function (this: typeof res, ...args: unknown[]) {
    const announced = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (announced && !req.complete) {
      this.setHeader('Connection', 'close');
      lingerOnClose(req.socket);
    }
    return (writeHead as (...a: unknown[]) => typeof res).apply(this, args);
  } as typeof res.writeHead;
  next();
};

/** Node closes a `Connection: close` socket with destroySoon() once the response is written. */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = function (this: Socket) {
    this.end();
    const start = this.bytesRead, began = performance.now();
    const timer = setInterval(() => {
      if (this.bytesRead - start > LINGER_BYTES || performance.now() - began > LINGER_MS) this.destroy();
    }, 20);
    timer.unref();
    this.once('close', () => clearInterval(timer));
  };
}

export function createApp(ctx: ServerContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // No ETags on API replies: no client sends If-None-Match, and each one cost a SHA-1 of the body
  // and a copy of it into a Buffer, which Node then writes apart from the headers (a writev).
  app.set('etag', false);
  app.use(requestLog(ctx.log));
  app.use(closeIfBodyUnread);
  app.use(ctx.metrics.middleware);
  app.use(checkHost(ctx.config, ROUTES.filter((r) => accessOf(r) === 'probe').map((r) => r.path)));
  app.use(refuseWhileDraining(ctx));
  app.use(routerFor(ROUTES, ctx));
  app.use(API_DOCS_PATH, ...(isOpen('docs', ctx.config) ? [] : [requireApiKey(ctx.config.apiKey)]), apiDocs());
  app.use(consoleRoutes());
  app.use(routeNotFound);
  app.use(errorMiddleware);
  return app;
}
