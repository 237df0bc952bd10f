/**
 * The route table -> express routing. Each route becomes one chain: content negotiation (406
 * when the Accept header rules out the route's response type), API key (unless server/access.ts
 * opens the route), body parsing for the media types it declares (415 for any other), validation of params, query
 * and body by their schemas (400 naming the field), the handler, and the reply. Under the test
 * runner every reply is also checked against the schema documented for its status, so the
 * OpenAPI document cannot drift from what the server sends.
 */
import express, { type RequestHandler, type Response } from 'express';
import type { z } from 'zod';
import { ValidationError } from '../registry/errors.ts';
import { requireJsonDepth } from '../registry/validate.ts';
import { accessOf, isOpen } from './access.ts';
import { requireApiKey } from './auth.ts';
import type { ServerContext } from './context.ts';
import { HTTP_ERROR_CODES, HttpError, sendError } from './errors.ts';
import type { BodyContent, Reply, ResponseSpec, Route } from './route.ts';
import { jsonBody } from './json-body.ts';
import { formatIssues } from './validate.ts';

const CHECK_RESPONSES = process.env.NODE_TEST_CONTEXT !== undefined;

/** `/v1/adapter-names/{name*}/-/aliases` -> `/v1/adapter-names/*name/-/aliases`. */
export function expressPath(openApiPath: string): string {
  return openApiPath.replace(/\{(\w+)\*\}/g, '*$1').replace(/\{(\w+)\}/g, ':$1');
}

/** Multi-segment parameters arrive as arrays of segments; handlers and schemas see one string. */
function joinSegments(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v.join('/') : v]));
}

const isJsonType = (type: string): boolean => type === 'application/json' || type.endsWith('+json');
const hasBody = (req: express.Request): boolean =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

/** Parsers for the declared media types, then 415 for a body of any other type. */
function bodyParsers(content: BodyContent, limit: number): RequestHandler[] {
  const types = Object.keys(content);
  const jsonTypes = types.filter(isJsonType);
  const textTypes = types.filter((t) => !isJsonType(t));
  const accepts: RequestHandler = (req, _res, next) => {
    if (!hasBody(req) || req.is(types)) return next();
    next(new HttpError(HTTP_ERROR_CODES.unsupportedMediaType,
      `request body: expected Content-Type ${types.join(' or ')}, got ${req.get('content-type') ?? 'none'}`));
  };
  // Deeply nested JSON would overflow the stack of schema validation; refuse it first.
  const shallow: RequestHandler = (req, _res, next) => {
    if (typeof req.body === 'object') requireJsonDepth(req.body, 'request body');
    next();
  };
  const parsers = [
    ...(jsonTypes.length ? jsonBody(jsonTypes, limit) : []),
    ...(textTypes.length ? [express.text({ type: textTypes, limit })] : []),
  ];
  // The byte count starts in the same tick as the parsers, so both see every chunk.
  const parse: RequestHandler = (req, res, next) => {
    if (hasBody(req) && !refuseOversizedBody(req, res, limit)) return;
    let i = 0;
    const step = (err?: unknown): void => {
      if (err !== undefined || i === parsers.length) next(err);
      else void parsers[i++](req, res, step);
    };
    step();
  };
  return [accepts, parse, ...(jsonTypes.length ? [shallow] : [])];
}

/**
 * Answers 413 at once, without reading the body, when the announced Content-Length is over the
 * limit (false: answered); otherwise counts the bytes of a chunked body on the wire and answers
 * 413 as soon as they pass the limit. The body parser alone would read such a body to its end
 * before answering (to keep the connection), so a client could make the server read gigabytes;
 * the early answer carries `Connection: close` instead (server/app.ts).
 */
function refuseOversizedBody(req: express.Request, res: Response, limit: number): boolean {
  const tooLarge = () => new HttpError(HTTP_ERROR_CODES.tooLarge, `request body: expected at most ${limit} bytes, got more`);
  const announced = req.headers['content-length'];
  if (announced !== undefined && Number(announced) > limit) {
    sendError(tooLarge(), req, res);
    return false;
  }
  let seen = 0;
  const count = (chunk: Buffer): void => {
    seen += chunk.length;
    if (seen <= limit) return;
    req.off('data', count);
    if (!res.headersSent) sendError(tooLarge(), req, res);
  };
  req.on('data', count);
  return true;
}

/** A response's media types; JSON unless it says otherwise. */
export const mediaTypes = (r: ResponseSpec): readonly string[] => (r.type === undefined ? ['application/json'] : typeof r.type === 'string' ? [r.type] : r.type);

/** The media types of the route's success responses. */
export function successTypes(route: Route): string[] {
  const types = Object.entries(route.responses).filter(([status]) => status.startsWith('2')).flatMap(([, r]) => mediaTypes(r));
  return [...new Set(types.length ? types : ['application/json'])];
}

/** 406 when the request's Accept header rules out every type the route answers with. */
function acceptable(route: Route): RequestHandler {
  const types = successTypes(route);
  return (req, _res, next) => {
    if (req.headers.accept === undefined || req.accepts(types)) return next();
    next(new HttpError(HTTP_ERROR_CODES.notAcceptable, `Accept: expected ${types.join(' or ')} to be acceptable, got '${req.headers.accept}'`));
  };
}

function parsePart(part: 'params' | 'query' | 'body', schema: z.ZodType, value: unknown): unknown {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(formatIssues(part, result.error));
  return result.data;
}

/** The schema for the body the request carried: by its media type, else the first declared. */
function bodySchema(req: express.Request, content: BodyContent): z.ZodType {
  const types = Object.keys(content);
  const type = hasBody(req) ? types.find((t) => req.is(t)) : undefined;
  return content[type ?? types[0]];
}

function checkReply(route: Route, reply: Reply): void {
  const spec = route.responses[reply.status];
  if (!spec) throw new Error(`${route.operationId}: status ${reply.status} is not among its documented responses`);
  if (!spec.schema) return;
  const result = spec.schema.safeParse(reply.body);
  if (!result.success) throw new Error(`${route.operationId} ${reply.status}: reply does not match its schema: ${formatIssues('body', result.error)}`);
}

function send(res: Response, route: Route, reply: Reply): void {
  if (CHECK_RESPONSES) checkReply(route, reply);
  res.status(reply.status);
  if (reply.headers) res.set(reply.headers);
  const spec = route.responses[reply.status];
  const type = spec?.type === undefined ? undefined : mediaTypes(spec)[0];
  if (reply.body === undefined) res.end();
  else if (type === undefined || isJsonType(type)) res.json(reply.body);
  else {
    if (!res.get('content-type')) res.type(type);
    res.send(reply.body);
  }
}

function chain(route: Route, ctx: ServerContext): RequestHandler[] {
  const { request = {} } = route;
  const handle: RequestHandler = async (req, res) => {
    const input = {
      params: request.params ? parsePart('params', request.params, joinSegments(req.params)) : undefined,
      query: request.query ? parsePart('query', request.query, req.query) : undefined,
      body: request.body ? parsePart('body', bodySchema(req, request.body), req.body ?? {}) : undefined,
    };
    const reply = await route.handler(input as never, ctx, { req, res });
    if (reply !== undefined) send(res, route, reply);
  };
  return [
    acceptable(route),
    ...(isOpen(accessOf(route), ctx.config) ? [] : [requireApiKey(ctx.config.apiKey)]),
    ...(request.body ? bodyParsers(request.body, ctx.config.bodyLimitBytes) : []),
    handle,
  ];
}

/** Literal segments after the first multi-segment parameter; -1 when there is none. */
function tailAfterWildcard(path: string): number {
  const at = path.indexOf('*}');
  return at < 0 ? -1 : path.slice(at).split('/').length - 1;
}

/**
 * Routes in table order, except that a multi-segment parameter would swallow the suffix of a
 * longer route (`{name*}` vs `{name*}/-/aliases`), so those go last, longest suffix first.
 */
export function routingOrder(routes: readonly Route[]): Route[] {
  return [...routes].sort((a, b) => {
    const ta = tailAfterWildcard(a.path);
    const tb = tailAfterWildcard(b.path);
    return ta === tb ? 0 : ta < 0 ? -1 : tb < 0 ? 1 : tb - ta;
  });
}

export function routerFor(routes: readonly Route[], ctx: ServerContext): express.Router {
  const router = express.Router();
  for (const route of routingOrder(routes)) router[route.method](expressPath(route.path), ...chain(route, ctx));
  return router;
}
