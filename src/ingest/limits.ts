import type { FieldIssue } from '../errors.js';

/**
 * Segment's documented limits, and the few Kizuna adds so that nothing a client sends can hurt the
 * server or fail later in a store: a message is at most 32 KB and a batch request at most 500 KB
 * (counted after gzip is undone), JSON nests at most 32 levels, and no key or string holds a NUL
 * or a lone UTF-16 surrogate (PostgreSQL's jsonb refuses both; they are never meaningful text).
 */
export const LIMITS = {
  messageBytes: 32 * 1024,
  batchBytes: 500 * 1024,
  /** requests larger than this are refused before they are read to the end. */
  rawBodyBytes: 4 * 1024 * 1024,
  depth: 32,
  /** ids (userId, anonymousId, messageId, groupId, previousId) and event names. */
  idChars: 1024,
  /** issues reported per rejected request; the first ones are what a developer needs. */
  reportedIssues: 20,
} as const;

/**
 * Checks every key and string of `value` for NUL and lone surrogates, and its nesting depth. Pushes
 * one issue per offending location into `out`, naming its path under `path`. The path of a value is
 * only spelled out when it is reported: this runs on every event, and most events are fine.
 */
export function checkJsonText(value: unknown, path: string, out: FieldIssue[]): void {
  walk(value, [], path, out);
}

function walk(value: unknown, at: (string | number)[], root: string, out: FieldIssue[]): void {
  if (out.length >= LIMITS.reportedIssues) return;
  if (typeof value === 'string') {
    const rule = badText(value);
    if (rule) out.push({ field: spell(root, at), rule });
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (at.length >= LIMITS.depth) {
    out.push({ field: spell(root, at), rule: `nests deeper than ${LIMITS.depth} levels` });
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      at.push(i);
      walk(value[i], at, root, out);
      at.pop();
    }
    return;
  }
  for (const key in value) {
    at.push(key);
    const rule = badText(key);
    if (rule) out.push({ field: spell(root, at), rule: `key ${rule}` });
    walk((value as Record<string, unknown>)[key], at, root, out);
    at.pop();
  }
}

function spell(root: string, at: readonly (string | number)[]): string {
  let s = root;
  for (const p of at) s += typeof p === 'number' ? `[${p}]` : `.${p}`;
  return s;
}

function badText(s: string): string | null {
  if (s.includes('\u0000')) return 'must not contain a NUL character (\\u0000)';
  if (!s.isWellFormed()) return 'must be valid Unicode (it contains a lone surrogate)';
  return null;
}
