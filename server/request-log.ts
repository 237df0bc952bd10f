/**
 * A request id and an access log line for every request. The id is the client's `X-Request-Id`
 * when it is a plausible id (so one id can follow a request through proxies), else a new UUID;
 * it is echoed in the response's `X-Request-Id` header and in error bodies (server/errors.ts),
 * and is a field of every log line about the request. The access line is written when the
 * response closes: method, route template, the raw path as sent, status, duration, and whether the
 * client went away before the answer was complete.
 */
import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../service/log.ts';

/** Letters, digits and `._:-`, at most 128: safe in a header, a log and a JSON body. */
const PLAUSIBLE_ID = /^[\w.:-]{1,128}$/;

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** The id given to this request by `requestLog` (undefined before it ran). */
export function requestIdOf(res: Response): string | undefined {
  return res.locals.requestId as string | undefined;
}

/** The request's logger: every line carries its id. */
export function logOf(res: Response): Logger | undefined {
  return res.locals.log as Logger | undefined;
}

/** The matched route template, e.g. /v1/tasks/:id, or 'unmatched' (never the raw URL). */
export function routeTemplate(req: Request): string {
  return req.route?.path !== undefined ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
}

export function requestLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get(REQUEST_ID_HEADER);
    const id = incoming !== undefined && PLAUSIBLE_ID.test(incoming) ? incoming : randomUUID();
    const requestLogger = log.child({ request_id: id });
    res.locals.requestId = id;
    res.locals.log = requestLogger;
    res.setHeader(REQUEST_ID_HEADER, id);
    const began = performance.now();
    res.once('close', () => {
      requestLogger.info({
        method: req.method, route: routeTemplate(req), path: req.originalUrl, status: res.statusCode,
        ms: Math.round((performance.now() - began) * 10) / 10, ...(res.writableFinished ? {} : { aborted: true }),
      }, 'request');
    });
    next();
  };
}
