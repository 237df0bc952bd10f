/**
 * The web console (web/, built by `npm run build` into web/dist) served at `/` from the same
 * origin as the API, so it needs no CORS and uses the same API key. Hashed assets are cached for
 * good; index.html is revalidated so a new build shows at once. Pages are hash-routed, so only
 * `/` and `/assets/*` are served; every other path stays the API's (or its JSON 404).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type RequestHandler } from 'express';
import { HTTP_ERROR_CODES, HttpError } from './errors.ts';

export const CONSOLE_DIR = path.resolve(import.meta.dirname, '..', 'web', 'dist');

export function consoleRoutes(dir: string = CONSOLE_DIR): express.Router {
  const router = express.Router();
  const index = path.join(dir, 'index.html');
  const page: RequestHandler = (_req, res, next) => {
    if (!existsSync(index)) {
      next(new HttpError(HTTP_ERROR_CODES.routeNotFound, 'the web console is not built: run `npm run build` (npm start builds it too)'));
      return;
    }
    res.set({ 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' });
    res.sendFile(index);
  };
  router.get(['/', '/index.html'], page);
  router.use('/assets', express.static(path.join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false, fallthrough: true }));
  return router;
}
