/**
 * THE route table: every HTTP route of the server, from which express routing (router.ts) and
 * /openapi.json (openapi.ts) are both generated.
 * To add a route: declare it with `route({...})` in the module of its area under server/routes/
 * (copy a neighbour: method, path, operationId, summary, tags, request schemas, responses per
 * status, handler), and list that module's array here once. With an API key set, the new route
 * needs it (server/access.ts).
 */
import type { Route } from './route.ts';
import { adapterRoutes } from './routes/adapters.ts';
import { opsRoutes } from './routes/ops.ts';
import { predictRoutes } from './routes/predict.ts';
import { registryRoutes } from './routes/registry.ts';
import { taskRoutes } from './routes/tasks.ts';
import { jobRoutes } from './routes/jobs.ts';
import { zooRoutes } from './routes/zoos.ts';

export const ROUTES: readonly Route[] = [
  ...opsRoutes,
  ...taskRoutes,
  ...predictRoutes,
  ...adapterRoutes,
  ...zooRoutes,
  ...jobRoutes,
  ...registryRoutes,
];
