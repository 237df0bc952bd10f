/**
 * The express application: metrics timing, the routes of the route table (each with its own
 * auth, body parsing and validation, see router.ts), the web console's static files at `/`,
 * then the 404 and the one error middleware. No state lives here; it is all in the
 * `ServerContext` the caller builds (see start.ts).
 */
import express from 'express';
import { consoleRoutes } from './console.ts';
import type { ServerContext } from './context.ts';
import { errorMiddleware, routeNotFound } from './errors.ts';
import { ROUTES } from './route-table.ts';
import { routerFor } from './router.ts';

export function createApp(ctx: ServerContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(ctx.metrics.middleware);
  app.use(routerFor(ROUTES, ctx));
  app.use(consoleRoutes());
  app.use(routeNotFound);
  app.use(errorMiddleware);
  return app;
}
