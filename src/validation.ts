import type { z } from 'zod';
import { fieldPath, ValidationError, type FieldIssue } from './errors.js';
import { checkJsonText } from './ingest/limits.js';

/**
 * Parses with zod and reports failures as a ValidationError naming the field. Text that no store can
 * hold (a NUL character, a lone surrogate: PostgreSQL refuses both, SQLite would keep them) is refused
 * here too, for every admin API body, with the field named, instead of failing in the store.
 */
export function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) {
    throw new ValidationError(
      r.error.issues.map((i) => ({ field: fieldPath(i.path) || 'query', rule: i.message })),
    );
  }
  const bad: FieldIssue[] = [];
  checkJsonText(r.data, '', bad);
  if (bad.length > 0)
    throw new ValidationError(bad.map((b) => ({ ...b, field: b.field.replace(/^\./, '') || 'body' })));
  return r.data;
}
