/**
 * Typed domain errors raised by the registry (and usable by `adapters/`).
 *
 * Why typed: the server maps each class to one HTTP status through a single table
 * (NotFound -> 404, AlreadyExists/Conflict -> 409, Validation -> 400), and callers can branch on
 * `code` without parsing messages. Messages always say what was expected and what was got.
 */

/** Stable machine-readable codes; the server exposes them as `{ error: { code, message } }`. */
export const ERROR_CODES = {
  notFound: 'RESOURCE_DOES_NOT_EXIST',
  alreadyExists: 'RESOURCE_ALREADY_EXISTS',
  validation: 'INVALID_PARAMETER_VALUE',
  conflict: 'RESOURCE_CONFLICT',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** Base class so one `instanceof RegistryError` check catches every domain error. */
export abstract class RegistryError extends Error {
  abstract readonly code: ErrorCode;
}

/** A looked-up entity does not exist. */
export class NotFoundError extends RegistryError {
  readonly code = ERROR_CODES.notFound;
  constructor(what: string, key: string) {
    super(`${what} '${key}' not found`);
    this.name = 'NotFoundError';
  }
}

/** Creating an entity whose key is taken by a different entity. */
export class AlreadyExistsError extends RegistryError {
  readonly code = ERROR_CODES.alreadyExists;
  constructor(what: string, key: string, detail?: string) {
    super(`${what} '${key}' already exists${detail ? `: ${detail}` : ''}`);
    this.name = 'AlreadyExistsError';
  }
}

/** Input is malformed: the message names the field, the expectation and what was received. */
export class ValidationError extends RegistryError {
  readonly code = ERROR_CODES.validation;
  constructor(message: string) {
    super(message);
    this.name = 'ValidationError';
  }
}

/** The request is well-formed but contradicts stored state (e.g. finishing a finished run). */
export class ConflictError extends RegistryError {
  readonly code = ERROR_CODES.conflict;
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** Short description of a value for "expected X, got Y" messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array(${value.length})`;
  if (value instanceof Float32Array) return `Float32Array(${value.length})`;
  if (value instanceof Uint8Array) return `bytes(${value.length})`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'object';
  return `${typeof value} ${String(value)}`;
}

/** The value of `lookup`, or null when what it looks up does not exist (other errors propagate). */
export async function orNull<T>(lookup: Promise<T>): Promise<T | null> {
  try {
    return await lookup;
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}
