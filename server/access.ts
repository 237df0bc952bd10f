/**
 * Who may call what, decided in one place from the route table and the configuration.
 *
 * With an API key configured, every route needs `Authorization: Bearer <key>` except:
 * - the probes (/healthz, /readyz), always open, so orchestrators need no credentials;
 * - /metrics with `--public-metrics`, and the API description (/openapi.json, /docs) unless
 *   `--public-docs no`;
 * - every GET (those above included) with `--public-reads`, the explicit opt-out: reads show
 *   users' training data, adapter weights and ids, so they are closed by default.
 * A route's kind comes from its method (GET: read, else write) unless the table says otherwise,
 * so a new route is closed until someone decides to open it. The router enforces this and the
 * OpenAPI document declares it (`security: []` on open operations), from the same function.
 */
import type { ServerConfig } from './config.ts';
import type { Method } from './route.ts';

/** What a route is, for access control; the table sets it only for the ops routes. */
export type Access = 'probe' | 'metrics' | 'docs' | 'read' | 'write';

export type AccessPolicy = Pick<ServerConfig, 'publicReads' | 'publicMetrics' | 'publicDocs'>;

export function accessOf(route: { readonly method: Method; readonly access?: Access }): Access {
  return route.access ?? (route.method === 'get' ? 'read' : 'write');
}

/** Whether a route of this kind is open to callers without the key when the server has one. */
export function isOpen(access: Access, policy: AccessPolicy): boolean {
  switch (access) {
    case 'probe': return true;
    case 'metrics': return policy.publicMetrics || policy.publicReads;
    case 'docs': return policy.publicDocs || policy.publicReads;
    case 'read': return policy.publicReads;
    case 'write': return false;
  }
}
