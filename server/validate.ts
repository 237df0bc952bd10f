/**
 * zod issues -> one message that names the fields, e.g.
 * `body.examples[2].text: expected string, received number`. For a union that matched no
 * branch, the issues of the branch the value was meant for are reported: the first branch that
 * knows all the value's keys (a body that is almost one of the accepted shapes is told what that
 * shape still needs); when every branch just wants another type, the message lists the types.
 */
import type { z } from 'zod';

type Part = 'body' | 'query' | 'params';

function fieldPath(part: Part, path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${String(key)}`), part);
}

const unknownKeys = (issues: readonly z.core.$ZodIssue[]): number =>
  issues.filter((i) => i.code === 'unrecognized_keys' && i.path.length === 0).length;
const wrongType = (issues: readonly z.core.$ZodIssue[]): boolean =>
  issues.length === 1 && issues[0].code === 'invalid_type' && issues[0].path.length === 0;

/** Replaces each union failure by the issues of the branch meant, with full paths. */
function meant(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
    if (issue.errors.every(wrongType)) {
      const types = issue.errors.map((e) => (e[0] as z.core.$ZodIssueInvalidType).expected);
      return [{ ...issue, message: `expected ${types.join(' or ')}` }];
    }
    const best = issue.errors.reduce((a, b) => (unknownKeys(b) < unknownKeys(a) ? b : a));
    return meant(best.map((sub) => ({ ...sub, path: [...issue.path, ...sub.path] })));
  });
}

/** First few issues as "field: message"; zod's "Invalid input: " prefix is dropped. */
export function formatIssues(part: Part, error: z.ZodError): string {
  return meant(error.issues).slice(0, 5)
    .map((issue) => `${fieldPath(part, issue.path)}: ${issue.message.replace(/^Invalid input: /, '')}`)
    .join('; ');
}
