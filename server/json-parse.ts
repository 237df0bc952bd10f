/**
 * One JSON request body, from its bytes to a value: the shape check (json-shape.ts), UTF-8
 * decoding (a byte-order mark is dropped), a top-level object or array only, then `JSON.parse`.
 * Pure, so it runs the same on the event loop (small bodies) and in a worker thread (large
 * ones, json-body.ts). Failures come back as messages, which cross a thread as plain data.
 */
import { checkJsonShape } from './json-shape.ts';

export type ParseOutcome = { readonly value: unknown } | { readonly problem: string };

/** Whitespace JSON allows before the first value. */
const LEADING_SPACE = /^[\x20\x09\x0a\x0d]*/;

export function parseJsonBytes(bytes: Uint8Array): ParseOutcome {
  try {
    checkJsonShape(bytes);
  } catch (err) {
    return { problem: (err as Error).message };
  }
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const first = text.charAt(LEADING_SPACE.exec(text)![0].length);
  if (first !== '{' && first !== '[') {
    return { problem: `request body: malformed JSON (expected an object or an array, got ${first === '' ? 'nothing' : `'${first}'`})` };
  }
  try {
    return { value: JSON.parse(text) };
  } catch (err) {
    return { problem: `request body: malformed JSON (${(err as Error).message})` };
  }
}
