/**
 * JSON request bodies: read as bytes (express.raw: Content-Encoding inflated, the size limit
 * enforced while reading), then parsed by json-parse.ts, on the event loop when small and in a
 * worker thread from OFF_LOOP_BYTES on. Decoding, shape-checking and parsing 10 MB costs the
 * thread that does it 20–40 ms; on the event loop that is 20–40 ms in which /healthz and every
 * other request wait. The parsed value comes back by structured clone, which for such a body
 * (a few long strings: base64 weights or images) is a copy.
 */
import express, { type RequestHandler } from 'express';
import { Piscina } from 'piscina';
import { HTTP_ERROR_CODES, HttpError } from './errors.ts';
import { parseJsonBytes, type ParseOutcome } from './json-parse.ts';

/** Bodies from this size on are parsed in the worker thread; below it the hop costs more than it saves. */
export const OFF_LOOP_BYTES = 256 * 1024;

/**
 * Large bodies that may wait for the thread. Each is already in memory and each waits for all
 * before it, so past this many a body is refused at once (503, retry) rather than held.
 */
export const PARSE_QUEUE_LIMIT = 16;

let pool: Piscina | undefined;

/** One thread, kept; an idle thread does not keep the process alive. */
const parser = (): Piscina => (pool ??= new Piscina({
  filename: new URL('./json-parse-thread.ts', import.meta.url).href, name: 'parse', minThreads: 1, maxThreads: 1,
  maxQueue: PARSE_QUEUE_LIMIT,
}));

/** Starts the thread and loads its modules (~0.5 s), so the first large body does not wait for that. */
export async function startJsonParser(): Promise<void> {
  await parser().run(new Uint8Array([0x7b, 0x7d]));
}

/** Bodies the worker thread has parsed so far (tests and diagnostics). */
export function parsedOffLoop(): number {
  return pool?.completed ?? 0;
}

/** The bytes as a buffer of their own, which can move to the thread without a copy. */
function owned(bytes: Buffer): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

/**
 * Parses `bytes`, in the thread from OFF_LOOP_BYTES on. A full queue or a thread that died is the
 * server's state, not the body's fault: both reject with 503 (retry).
 */
export async function parseBody(bytes: Buffer): Promise<ParseOutcome> {
  if (bytes.length < OFF_LOOP_BYTES) return parseJsonBytes(bytes);
  const moved = owned(bytes);
  try {
    return await (parser().run(moved, { transferList: [moved.buffer as ArrayBuffer] }) as Promise<ParseOutcome>);
  } catch (err) {
    const why = pool && pool.queueSize >= PARSE_QUEUE_LIMIT
      ? `${PARSE_QUEUE_LIMIT} large bodies are already waiting to be parsed`
      : `the parse thread failed (${err instanceof Error ? err.message : String(err)})`;
    throw new HttpError(HTTP_ERROR_CODES.unavailable, `request body: not parsed, ${why}; retry shortly`);
  }
}

/** JSON is UTF-8 (RFC 8259); a body that says otherwise gets 415. */
function charsetProblem(contentType: string | undefined): string | null {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1];
  return charset === undefined || /^utf-?8$/i.test(charset) ? null : `request body: unsupported charset "${charset.toUpperCase()}"; JSON must be UTF-8`;
}

/** Reads and parses a JSON body of one of `types` into `req.body`; no body leaves it undefined. */
export function jsonBody(types: readonly string[], limit: number): RequestHandler[] {
  const read = express.raw({ type: [...types], limit });
  const decode: RequestHandler = (req, _res, next) => {
    if (!Buffer.isBuffer(req.body)) return next();
    const charset = charsetProblem(req.get('content-type'));
    if (charset) return next(new HttpError(HTTP_ERROR_CODES.unsupportedMediaType, charset));
    const bytes = req.body;
    req.body = undefined;
    if (bytes.length === 0) return next();
    parseBody(bytes).then((outcome) => {
      if ('problem' in outcome) return next(new HttpError(HTTP_ERROR_CODES.malformedJson, outcome.problem));
      req.body = outcome.value;
      next();
    }, next);
  };
  return [read, decode];
}
