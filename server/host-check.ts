/**
 * DNS-rebinding protection for a server without an API key. A web page on evil.example can make
 * its own name resolve to 127.0.0.1 and then call this server from the user's browser as a
 * same-origin page; the only trace is the `Host` header, which still says evil.example. So
 * without a key every request must name this server: localhost, 127.0.0.1, [::1], the bound host,
 * or a name the operator allows (`--allowed-hosts`). The probes stay open (an orchestrator may
 * call them by pod IP) and with a key there is no check (the key is what a rebinding page lacks).
 */
import type { RequestHandler } from 'express';
import type { ServerConfig } from './config.ts';
import { HTTP_ERROR_CODES, HttpError } from './errors.ts';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** `[::1]:8080` -> `[::1]`, `Example.com:80` -> `example.com`; undefined for a malformed value. */
export function hostName(header: string): string | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(:\d*)?$/.exec(header.trim());
  return m?.[1].replace(/\.$/, '').toLowerCase();
}

/** A bare IPv6 address is written in brackets in a Host header. */
const asHostName = (host: string): string => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host).toLowerCase();

/** Whether `host` (as given to --host) is a loopback address, reachable only from this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === '[::1]';
}

export function checkHost(config: Pick<ServerConfig, 'apiKey' | 'host' | 'allowedHosts'>, openPaths: readonly string[]): RequestHandler {
  const allowed = new Set([...LOOPBACK_NAMES, asHostName(config.host), ...config.allowedHosts]);
  if (config.apiKey !== null || allowed.has('*')) return (_req, _res, next) => next();
  const list = [...allowed].join(', ');
  return (req, _res, next) => {
    if (openPaths.includes(req.path)) return next();
    const header = req.headers.host;
    const name = header === undefined ? undefined : hostName(header);
    if (name !== undefined && allowed.has(name)) return next();
    next(new HttpError(HTTP_ERROR_CODES.hostNotAllowed,
      `Host: expected one of ${list}, got '${(header ?? 'none').slice(0, 100)}'; a server without an API key answers only requests addressed to it by those names (add yours with --allowed-hosts, or set an API key)`));
  };
}
