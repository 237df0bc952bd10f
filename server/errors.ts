/**
 * One place that turns errors into HTTP responses `{ error: { code, message } }`.
 *
 * Domain errors (registry/errors.ts, adapters/errors.ts) carry a `code`; `STATUS_BY_CODE` maps
 * each code to its status. The server's own conditions (auth, body size, malformed JSON, unknown
 * route) are `HttpError`s with codes in the same table. Anything else is a bug: it is logged with
 * its stack and answered with a plain 500 that never includes the stack or internal message.
 * Every error body carries the request's id.
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { ERROR_CODES } from '../registry/errors.ts';
import { logOf, requestIdOf } from './request-log.ts';

export const HTTP_ERROR_CODES = {
  unauthenticated: 'UNAUTHENTICATED',
  hostNotAllowed: 'HOST_NOT_ALLOWED',
  tooLarge: 'PAYLOAD_TOO_LARGE',
  malformedJson: 'MALFORMED_REQUEST',
  unsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  notAcceptable: 'NOT_ACCEPTABLE',
  routeNotFound: 'ENDPOINT_NOT_FOUND',
  unavailable: 'SERVICE_UNAVAILABLE',
  internal: 'INTERNAL_ERROR',
} as const;

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  [ERROR_CODES.notFound]: 404,
  [ERROR_CODES.alreadyExists]: 409,
  [ERROR_CODES.conflict]: 409,
  [ERROR_CODES.validation]: 400,
  [HTTP_ERROR_CODES.unauthenticated]: 401,
  [HTTP_ERROR_CODES.hostNotAllowed]: 403,
  [HTTP_ERROR_CODES.tooLarge]: 413,
  [HTTP_ERROR_CODES.malformedJson]: 400,
  [HTTP_ERROR_CODES.unsupportedMediaType]: 415,
  [HTTP_ERROR_CODES.notAcceptable]: 406,
  [HTTP_ERROR_CODES.routeNotFound]: 404,
  [HTTP_ERROR_CODES.unavailable]: 503,
};

/** An error the server raises itself; its code must be in the status table. */
export class HttpError extends Error {
  constructor(readonly code: (typeof HTTP_ERROR_CODES)[keyof typeof HTTP_ERROR_CODES], message: string) {
    super(message);
    this.name = 'HttpError';
  }
}

export function statusOf(code: string): number | undefined {
  return STATUS_BY_CODE[code];
}

interface LibraryError { type?: unknown; limit?: unknown; status?: unknown; statusCode?: unknown; message: string }

/**
 * Errors from express and body-parser that carry their own 4xx status -> our codes: body size,
 * charset and Content-Encoding (unsupported, or a body that does not inflate), a
 * path parameter with a bad % escape. Their messages are safe to show (`expose`).
 */
function fromLibrary(err: LibraryError): HttpError | null {
  if (err.type === 'entity.too.large') return new HttpError(HTTP_ERROR_CODES.tooLarge, `request body: expected at most ${String(err.limit)} bytes, got more`);
  if (err.type === 'charset.unsupported' || err.type === 'encoding.unsupported') return new HttpError(HTTP_ERROR_CODES.unsupportedMediaType, `request body: ${err.message}`);
  if (err instanceof URIError) return new HttpError(HTTP_ERROR_CODES.malformedJson, `path: expected valid percent-encoding, got a bad escape (${err.message})`);
  const status = typeof err.status === 'number' ? err.status : err.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const what = typeof err.type === 'string' && err.type.startsWith('entity.') ? 'request body' : 'request';
    return status === 413
      ? new HttpError(HTTP_ERROR_CODES.tooLarge, `${what}: ${err.message}`)
      : new HttpError(HTTP_ERROR_CODES.malformedJson, `${what}: ${err.message} (expected a body matching its Content-Type and Content-Encoding)`);
  }
  return null;
}

/** Answers an error now, outside the middleware chain (e.g. while a body is still arriving). */
export function sendError(err: unknown, req: Request, res: Response): void {
  errorMiddleware(err, req, res, () => {});
}

/** The error envelope, with the request's id (server/request-log.ts) so a report can be matched to the log. */
function errorBody(res: Response, code: string, message: string) {
  const id = requestIdOf(res);
  return { error: { code, message, ...(id !== undefined ? { request_id: id } : {}) } };
}

export const errorMiddleware: ErrorRequestHandler = (err, req, res, _next) => {
  const known = err instanceof Error ? (fromLibrary(err as never) ?? err) : err;
  const code = known instanceof Error && 'code' in known && typeof known.code === 'string' ? known.code : undefined;
  const status = code !== undefined ? statusOf(code) : undefined;
  if (status !== undefined && code !== undefined) {
    // Already answered (an early 413 while the body parser was still reading): nothing to add.
    if (!res.headersSent) res.status(status).json(errorBody(res, code, (known as Error).message));
    return;
  }
  // The URL is a field, never part of the message: it is the client's and may hold anything.
  logOf(res)?.error({ err, method: req.method, path: req.originalUrl }, 'unhandled error');
  if (res.headersSent) return;
  res.status(500).json(errorBody(res, HTTP_ERROR_CODES.internal, 'internal server error'));
};

export const routeNotFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(HTTP_ERROR_CODES.routeNotFound, `no route ${req.method} ${req.path}; see /openapi.json`));
};
