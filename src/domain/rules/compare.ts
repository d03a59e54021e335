/**
 * Comparisons shared by every place a rule looks at a value: profile traits, computed traits and event
 * property filters. Inputs have been validated (`rules/schema.ts`), so `value` has the shape its
 * operator needs; `actual` is whatever the customer's data holds and is never trusted.
 */
import type { SafeRegex } from './regex.js';

export const COMPARISON_OPS = [
  'eq',
  'neq',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'not_in',
  'contains',
  'not_contains',
  'starts_with',
  'ends_with',
  'matches',
  'exists',
  'not_exists',
  'before',
  'after',
  'within_last_days',
  'more_than_days_ago',
] as const;
export type ComparisonOp = (typeof COMPARISON_OPS)[number];

/** A validated comparison. Dates in `before`/`after` are epoch ms; `matches` carries a compiled regex. */
export type Comparison =
  | { op: 'eq' | 'neq'; value: string | number | boolean | null }
  | { op: 'gt' | 'gte' | 'lt' | 'lte'; value: number }
  | { op: 'in' | 'not_in'; value: readonly (string | number | boolean | null)[] }
  | { op: 'contains' | 'not_contains' | 'starts_with' | 'ends_with'; value: string }
  | { op: 'matches'; value: string; regex: SafeRegex }
  | { op: 'exists' | 'not_exists' }
  | { op: 'before' | 'after'; value: number }
  | { op: 'within_last_days' | 'more_than_days_ago'; value: number };

const DAY = 86_400_000;

/** Reads `a.b.c` from a JSON object; undefined when any step is missing or not an object. */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** A number, or a numeric string ("12.5"); anything else is not a number. */
export function asNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** Epoch ms from a number (ms) or an ISO-8601 string; null otherwise. */
export function asTime(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v)) {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

function scalarEquals(actual: unknown, expected: string | number | boolean | null): boolean {
  if (typeof expected === 'number') return asNumber(actual) === expected;
  if (expected === null) return actual === null;
  return actual === expected;
}

/** Does `actual` pass `cmp` at time `now`? Missing values (undefined) fail every op but `not_exists`, `neq`, `not_in`, `not_contains`. */
export function compare(actual: unknown, cmp: Comparison, now: number): boolean {
  switch (cmp.op) {
    case 'exists':
      return actual !== undefined && actual !== null;
    case 'not_exists':
      return actual === undefined || actual === null;
    case 'eq':
      return scalarEquals(actual, cmp.value);
    case 'neq':
      return !scalarEquals(actual, cmp.value);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const n = asNumber(actual);
      if (n === null) return false;
      if (cmp.op === 'gt') return n > cmp.value;
      if (cmp.op === 'gte') return n >= cmp.value;
      if (cmp.op === 'lt') return n < cmp.value;
      return n <= cmp.value;
    }
    case 'in':
      return cmp.value.some((v) => scalarEquals(actual, v));
    case 'not_in':
      return !cmp.value.some((v) => scalarEquals(actual, v));
    case 'contains':
      return containsValue(actual, cmp.value);
    case 'not_contains':
      return !containsValue(actual, cmp.value);
    case 'starts_with':
      return typeof actual === 'string' && actual.startsWith(cmp.value);
    case 'ends_with':
      return typeof actual === 'string' && actual.endsWith(cmp.value);
    case 'matches':
      return typeof actual === 'string' && cmp.regex.test(actual);
    case 'before':
    case 'after': {
      const t = asTime(actual);
      if (t === null) return false;
      return cmp.op === 'before' ? t < cmp.value : t > cmp.value;
    }
    case 'within_last_days':
    case 'more_than_days_ago': {
      const t = asTime(actual);
      if (t === null) return false;
      const inside = t >= now - cmp.value * DAY;
      return cmp.op === 'within_last_days' ? inside : !inside;
    }
  }
}

function containsValue(actual: unknown, needle: string): boolean {
  if (typeof actual === 'string') return actual.includes(needle);
  if (Array.isArray(actual)) return actual.some((v) => v === needle);
  return false;
}
