/**
 * Entry point of the worker thread that parses large JSON bodies (json-body.ts), so decoding
 * and parsing megabytes never holds the event loop.
 */
import { parseJsonBytes, type ParseOutcome } from './json-parse.ts';

export function parse(bytes: Uint8Array): ParseOutcome {
  return parseJsonBytes(bytes);
}
