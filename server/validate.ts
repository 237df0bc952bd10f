/**
 * Validation middleware: each request part (body, query, params) is parsed by its zod schema
 * before the handler runs; the parsed value is kept in `res.locals` for the handler. A failure is
 * a 400 whose message names the field, e.g. `body.examples[2].text: expected string, got number`.
 */
import type { RequestHandler, Response } from 'express';
import type { z } from 'zod';
import { ValidationError } from '../registry/errors.ts';

type Part = 'body' | 'query' | 'params';
type Schemas = Partial<Record<Part, z.ZodType>>;

function fieldPath(part: Part, path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${String(key)}`), part);
}

/** First few issues as "field: message"; zod's "Invalid input: " prefix is dropped. */
export function formatIssues(part: Part, error: z.ZodError): string {
  return error.issues.slice(0, 5)
    .map((issue) => `${fieldPath(part, issue.path)}: ${issue.message.replace(/^Invalid input: /, '')}`)
    .join('; ');
}

/** Parses one value; ValidationError naming the field on failure (for handlers that dispatch on the body). */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, part: Part): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(formatIssues(part, result.error));
  return result.data;
}

export function validate(schemas: Schemas): RequestHandler {
  return (req, res, next) => {
    for (const part of ['params', 'query', 'body'] as const) {
      const schema = schemas[part];
      if (!schema) continue;
      const value = part === 'body' && req.body === undefined ? {} : req[part];
      const result = schema.safeParse(value);
      if (!result.success) {
        next(new ValidationError(formatIssues(part, result.error)));
        return;
      }
      res.locals[part] = result.data;
    }
    next();
  };
}

/** The parsed part, typed by its schema. */
export function parsed<S extends z.ZodType>(res: Response, part: Part, _schema: S): z.infer<S> {
  return res.locals[part] as z.infer<S>;
}
