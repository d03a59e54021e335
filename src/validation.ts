import type { z } from 'zod';
import { ValidationError } from './errors.js';

/** Parses with zod and reports failures as a ValidationError naming the field. */
export function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw new ValidationError(
    r.error.issues.map((i) => ({ field: i.path.map(String).join('.') || 'query', rule: i.message })),
  );
}
