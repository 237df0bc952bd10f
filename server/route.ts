/**
 * The shape of one HTTP route. A route is data: method, path, documentation, the zod schemas of
 * its request parts and of its responses per status, what it is for access control, and the
 * handler. server/routes.ts lists them all; server/router.ts turns the list into express routing
 * and server/openapi.ts into /openapi.json, so what is documented is what is enforced.
 */
import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { Access } from './access.ts';
import type { ServerContext } from './context.ts';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Media types a request body may have, each with the schema its parsed body must satisfy. */
export type BodyContent = Readonly<Record<string, z.ZodType>>;

export interface RequestSpec {
  /** Path parameters; a `{name*}` segment in the path may span several `/`-separated segments. */
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  /** By media type, e.g. `{ 'application/json': Schema }`; other types answer 415. */
  readonly body?: BodyContent;
}

export interface ResponseSpec {
  readonly description: string;
  /** Omitted: no body (204), or a body the `type` describes (e.g. raw bytes). */
  readonly schema?: z.ZodType;
  /** Media type of the body, or the types the handler chooses among; default application/json. */
  readonly type?: string | readonly [string, ...string[]];
}

type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;
type BodyOf<B> = B extends BodyContent ? { [K in keyof B]: z.infer<B[K]> }[keyof B] : undefined;

/** What a handler receives: the parsed request parts, typed by the route's schemas. */
export interface Input<R extends RequestSpec> {
  readonly params: Infer<R['params']>;
  readonly query: Infer<R['query']>;
  readonly body: BodyOf<R['body']>;
}

/** What a handler answers: a status from its `responses`, a body, optional headers. */
export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The raw request and response, for the few handlers that stream. */
export interface Http {
  readonly req: Request;
  readonly res: Response;
}

export interface RouteSpec<R extends RequestSpec> {
  readonly method: Method;
  /** OpenAPI form: `/v1/tasks/{id}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly [string, ...string[]];
  /** For access control (server/access.ts); omitted: a GET is a read, anything else a write. */
  readonly access?: Access;
  readonly request?: R;
  /** Every status the route can answer, 4xx included. */
  readonly responses: Readonly<Record<number, ResponseSpec>>;
  /** Returns the reply, or `undefined` when it wrote the response itself through `http.res`. */
  readonly handler: (input: Input<R>, ctx: ServerContext, http: Http) => Reply | undefined | Promise<Reply | undefined>;
}

export type Route = RouteSpec<RequestSpec>;

/** Declares a route; the helper exists so the handler's input is typed from the schemas. */
export function route<R extends RequestSpec = Record<never, never>>(spec: RouteSpec<R>): Route {
  return spec as unknown as Route;
}

export const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({ status, body, headers });
export const ok = (body: unknown, headers?: Record<string, string>): Reply => json(200, body, headers);
export const noContent = (): Reply => ({ status: 204 });
