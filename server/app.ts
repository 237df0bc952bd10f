/**
 * The express application: metrics timing, the routes of the route table (each with its own
 * auth, body parsing and validation, see router.ts), the interactive API docs at /docs, the web
 * console's static files at `/`, then the 404 and the one error middleware. No state lives here;
 * it is all in the `ServerContext` the caller builds (see start.ts).
 */
import express from 'express';
import { API_DOCS_PATH, apiDocs } from './api-docs.ts';
import { consoleRoutes } from './console.ts';
import type { ServerContext } from './context.ts';
import { errorMiddleware, HTTP_ERROR_CODES, HttpError, routeNotFound } from './errors.ts';
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

export function createApp(ctx: ServerContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(ctx.metrics.middleware);
  app.use(refuseWhileDraining(ctx));
  app.use(routerFor(ROUTES, ctx));
  app.use(API_DOCS_PATH, apiDocs());
  app.use(consoleRoutes());
  app.use(routeNotFound);
  app.use(errorMiddleware);
  return app;
}
