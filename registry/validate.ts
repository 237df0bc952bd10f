/**
 * Input checks shared by the store and the PEFT importer. Each throws a ValidationError that
 * names the field and says what was expected and what was got, so the server can pass the
 * message straight to the client as a 400.
 */
import { ValidationError, describeValue } from './errors.ts';
import type { JsonObject } from './types.ts';

export const SLUG_PATTERN = /^[a-z0-9][a-z0-9._-]{0,127}$/;
/**
 * Adapter/prior names: like slugs but may carry case, '@' and '/'-separated segments (e.g.
 * 'zoo/wordnet/nouns@k5'). Every segment starts with a letter or digit, so a path segment that
 * does not (the `-` in `/v1/adapter-names/{name}/-/aliases`) always ends the name.
 */
export const NAME_PATTERN = /^(?=.{1,128}$)[A-Za-z0-9][A-Za-z0-9._@-]*(?:\/[A-Za-z0-9][A-Za-z0-9._@-]*)*$/;
/** Aliases start with a letter so they never read as a version number. */
export const ALIAS_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
export const SHA256_PATTERN = /^[0-9a-f]{64}$/;

export function requireString(value: unknown, field: string, pattern?: RegExp): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError(`${field}: expected a non-empty string, got ${describeValue(value)}`);
  }
  if (pattern && !pattern.test(value)) {
    throw new ValidationError(`${field}: expected to match ${pattern}, got ${describeValue(value)}`);
  }
  return value;
}

export function requireOneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ValidationError(`${field}: expected one of ${allowed.join(', ')}, got ${describeValue(value)}`);
  }
  return value as T;
}

export function requireInt(value: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ValidationError(`${field}: expected an integer in [${min}, ${max}], got ${describeValue(value)}`);
  }
  return value;
}

/** A finite number read from stored JSON, or undefined when it is anything else. */
export const finiteOrUndefined = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function requireFinite(value: unknown, field: string, { positive = false } = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (positive && value <= 0)) {
    throw new ValidationError(`${field}: expected a finite${positive ? ' positive' : ''} number, got ${describeValue(value)}`);
  }
  return value;
}

/** A non-empty ordered list of distinct non-empty strings. */
export function requireLabels(value: unknown, field = 'labels'): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ValidationError(`${field}: expected a non-empty array of strings, got ${describeValue(value)}`);
  }
  const seen = new Set<string>();
  value.forEach((label, i) => {
    requireString(label, `${field}[${i}]`);
    if (seen.has(label)) throw new ValidationError(`${field}: expected distinct labels, got '${label}' twice`);
    seen.add(label);
  });
  return [...value] as string[];
}

export function requireStringArray(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw new ValidationError(`${field}: expected an array of strings, got ${describeValue(value)}`);
  value.forEach((s, i) => requireString(s, `${field}[${i}]`));
  return [...value] as string[];
}

export function requireFloat32(value: unknown, field: string, length?: number): Float32Array {
  if (!(value instanceof Float32Array)) {
    throw new ValidationError(`${field}: expected a Float32Array, got ${describeValue(value)}`);
  }
  if (length !== undefined && value.length !== length) {
    throw new ValidationError(`${field}: expected ${length} values, got ${value.length}`);
  }
  return value;
}

/** Deepest accepted nesting of objects and arrays in client JSON (metadata, configs, bodies). */
export const MAX_JSON_DEPTH = 64;

/**
 * Throws a ValidationError when `value` nests objects/arrays deeper than `max`. Walks with an
 * explicit stack: recursive validation or JSON.stringify of 5,000 levels overflows the call stack.
 */
export function requireJsonDepth(value: unknown, field: string, max = MAX_JSON_DEPTH): void {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > max) throw new ValidationError(`${field}: expected JSON nested at most ${max} levels deep, got deeper`);
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
}

/**
 * A plain JSON object (nested plain objects, arrays, strings, finite numbers, booleans, null).
 * Returns its JSON text. Rejecting non-JSON values here means what is stored reads back equal.
 */
export function toJsonText(value: unknown, field: string): string {
  if (value === undefined) return '{}';
  if (!isPlainObject(value)) throw new ValidationError(`${field}: expected a JSON object, got ${describeValue(value)}`);
  requireJsonDepth(value, field);
  checkJson(value, field);
  return JSON.stringify(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function checkJson(value: unknown, path: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ValidationError(`${path}: expected a finite number, got ${value}`);
    return;
  }
  if (Array.isArray(value)) { value.forEach((v, i) => checkJson(v, `${path}[${i}]`)); return; }
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) if (v !== undefined) checkJson(v, `${path}.${k}`);
    return;
  }
  throw new ValidationError(`${path}: expected JSON data, got ${describeValue(value)}`);
}

export function parseJsonObject(text: string): JsonObject {
  return JSON.parse(text) as JsonObject;
}

/** Opaque page tokens: base64url of a JSON cursor. */
export function encodePageToken(cursor: unknown): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

export function decodePageToken<T>(token: string | undefined, check: (cursor: unknown) => cursor is T): T | undefined {
  if (token === undefined || token === '') return undefined;
  let cursor: unknown;
  try {
    cursor = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new ValidationError(`page_token: expected a token returned by a previous page, got ${describeValue(token)}`);
  }
  if (!check(cursor)) throw new ValidationError(`page_token: expected a token returned by a previous page, got ${describeValue(token)}`);
  return cursor;
}

export function requireMaxResults(value: number | undefined): number {
  return value === undefined ? 100 : requireInt(value, 'maxResults', 1, 1000);
}
