/**
 * API-key auth: when a key is configured, every route that server/access.ts does not open
 * needs `Authorization: Bearer <key>`. It runs before body parsing, so an unauthenticated client
 * cannot make the server read a large body. Keys are compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HTTP_ERROR_CODES, HttpError } from './errors.ts';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export function requireApiKey(apiKey: string | null): RequestHandler {
  if (apiKey === null) return (_req, _res, next) => next();
  const expected = digest(apiKey);
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (m && timingSafeEqual(digest(m[1].trim()), expected)) return next();
    res.set('WWW-Authenticate', 'Bearer');
    next(new HttpError(HTTP_ERROR_CODES.unauthenticated, header === ''
      ? 'missing API key: send Authorization: Bearer <key> on this route'
      : 'invalid API key in Authorization header'));
  };
}
