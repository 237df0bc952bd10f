/**
 * The one domain error `adapters/` raises. Its `code` is the string the registry's
 * ValidationError uses ('INVALID_PARAMETER_VALUE'), so the server maps both to a 400 by code.
 * Messages say what was expected and what was got.
 */
export class AdapterValidationError extends Error {
  readonly code = 'INVALID_PARAMETER_VALUE' as const;
  constructor(message: string) {
    super(message);
    this.name = 'AdapterValidationError';
  }
}

/** Throws unless `cond`; `message` is built only on failure. */
export function check(cond: boolean, message: () => string): asserts cond {
  if (!cond) throw new AdapterValidationError(message());
}
