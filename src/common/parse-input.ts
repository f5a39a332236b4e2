import { z } from 'zod';
import { DomainError, FieldIssue } from './domain-error';

/** Field issues of a zod error in the shape of the error body (at most 20). */
export function fieldIssues(error: z.ZodError, root = '(body)'): FieldIssue[] {
  return error.issues
    .slice(0, 20)
    .map((i) => ({ path: i.path.map(String).join('.') || root, message: i.message }));
}

/**
 * Validates untyped input (a body or query read as `unknown`) or throws a
 * VALIDATION_FAILED DomainError listing the fields, so the caller sees 400.
 */
export function parseInput<T>(
  schema: z.ZodType<T>,
  raw: unknown,
  message: string,
  root = '(body)',
): T {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  throw new DomainError('VALIDATION_FAILED', message, fieldIssues(r.error, root));
}
