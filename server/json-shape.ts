/**
 * A bound on the shape of a JSON body, checked on its bytes before `JSON.parse`. Size alone does
 * not bound the cost of a body: 10 MB of `{},{},…` parses into 3.5 million objects (≈ 700 MB of
 * heap and half a minute on the event loop), and 10 MB of `[[[[…` nests 5 million deep. One pass
 * over the bytes counts values and nesting outside strings; a body over either limit is refused
 * before it is parsed.
 */
import { MAX_JSON_DEPTH } from '../registry/validate.ts';
import { HTTP_ERROR_CODES, HttpError } from './errors.ts';

/**
 * Most values one JSON body may hold, counted as containers plus separators (`[0,0]` is 2, `[{},{}]`
 * is 4); requests need far fewer (256 inputs of a few fields, 1,000 zoo members).
 */
export const MAX_JSON_VALUES = 100_000;

const QUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c, OPEN_OBJECT = 0x7b, OPEN_ARRAY = 0x5b, CLOSE_OBJECT = 0x7d, CLOSE_ARRAY = 0x5d;

/**
 * Index of the quote that closes the string opened at `open`, or `buf.length` when it is not
 * closed. Jumps from quote to quote with `indexOf` (native, much faster than a byte loop over
 * a multi-megabyte base64 string); a quote preceded by an odd number of backslashes is escaped.
 */
function stringEnd(buf: Uint8Array, open: number): number {
  for (let from = open + 1; ;) {
    const quote = buf.indexOf(QUOTE, from);
    if (quote < 0) return buf.length;
    let backslashes = 0;
    while (buf[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

const STRUCTURAL = [QUOTE, COMMA, OPEN_OBJECT, OPEN_ARRAY, CLOSE_OBJECT, CLOSE_ARRAY] as const;

/** After this many bytes in a row that change nothing (whitespace, digits, literals), jump ahead. */
const FILLER_RUN = 16;

/**
 * The position of the next structural byte at or after `from` (`buf.length` when none). `next`
 * caches, per structural byte, where it occurs next; `from` only grows, so each entry is looked
 * up again only once it falls behind, and each byte value is scanned (by memchr) once in all.
 */
function nextStructural(buf: Uint8Array, next: number[], from: number): number {
  let nearest = buf.length;
  for (let j = 0; j < STRUCTURAL.length; j++) {
    if (next[j] < from) {
      const at = buf.indexOf(STRUCTURAL[j], from);
      next[j] = at < 0 ? buf.length : at;
    }
    if (next[j] < nearest) nearest = next[j];
  }
  return nearest;
}

/**
 * Throws a 400 HttpError when the JSON text in `buf` nests deeper or holds more values than allowed.
 * Structure is counted byte by byte; strings and long runs of other bytes are jumped over with
 * `indexOf`, so a body of 10 MB of whitespace or of one long string costs a few ms, not ~40.
 */
export function checkJsonShape(buf: Uint8Array, maxDepth = MAX_JSON_DEPTH, maxValues = MAX_JSON_VALUES): void {
  const next = STRUCTURAL.map(() => -1);
  let depth = 0, values = 0, filler = 0;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c === QUOTE) i = stringEnd(buf, i);
    else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY || c === COMMA) {
      if (c !== COMMA && ++depth > maxDepth) throw new HttpError(HTTP_ERROR_CODES.malformedJson, `request body: expected JSON nested at most ${maxDepth} levels, got deeper`);
      if (++values > maxValues) {
        throw new HttpError(HTTP_ERROR_CODES.malformedJson, `request body: expected at most ${maxValues.toLocaleString('en-US')} JSON values (containers and separated members), got more`);
      }
    } else if (++filler === FILLER_RUN) i = nextStructural(buf, next, i + 1) - 1;
    else continue;
    filler = 0;
  }
}
