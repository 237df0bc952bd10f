/**
 * The express application: metrics timing, auth, body parsing with size limits, the route
 * modules, then the 404 and the one error middleware. No state lives here; it is all in the
 * `ServerContext` the caller builds (see start.ts).
 */
import express from 'express';
import { requireApiKey } from './auth.ts';
import type { ServerContext } from './context.ts';
import { errorMiddleware, routeNotFound } from './errors.ts';
import { adapterRoutes } from './routes/adapters.ts';
import { opsRoutes } from './routes/ops.ts';
import { predictRoutes } from './routes/predict.ts';
import { registryRoutes } from './routes/registry.ts';
import { JSONL_TYPES, taskRoutes } from './routes/tasks.ts';
import { jobRoutes } from './routes/jobs.ts';
import { zooRoutes } from './routes/zoos.ts';

export function createApp(ctx: ServerContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(ctx.metrics.middleware);
  app.use(requireApiKey(ctx.config.apiKey));
  app.use(express.json({ limit: ctx.config.bodyLimitBytes }));
  app.use(express.text({ type: JSONL_TYPES, limit: ctx.config.bodyLimitBytes }));
  app.use(opsRoutes(ctx), taskRoutes(ctx), predictRoutes(ctx), adapterRoutes(ctx), zooRoutes(ctx), jobRoutes(ctx), registryRoutes(ctx));
  app.use(routeNotFound);
  app.use(errorMiddleware);
  return app;
}
