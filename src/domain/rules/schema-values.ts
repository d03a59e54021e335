/**
 * The value-level half of rule validation (`schema.ts` does the condition nodes): comparisons, dates,
 * day counts, dotted paths and the issue list they all report into. Hand-written rather than zod so each
 * issue names the exact field (`rule.and[2].within.days`) and says the rule in the user's terms.
 */
import { COMPARISON_OPS, type Comparison, type ComparisonOp } from './compare.js';
import { SafeRegex } from './regex.js';

/** One problem with a rule: where it is and what it must be (same shape as the API's field issues). */
export interface RuleIssue {
  readonly field: string;
  readonly rule: string;
}

export const LIMITS = {
  depth: 12,
  nodes: 300,
  string: 1000,
  inValues: 1000,
  whereFilters: 10,
  days: 3650,
  count: 1_000_000_000,
  issues: 100,
} as const;

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `rule.where` + `category` → `rule.where.category`; keys that are not identifiers get brackets. */
export function fieldOf(at: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${at}.${key}` : `${at}[${JSON.stringify(key)}]`;
}

/**
 * The issues found so far. All are counted, but only the first 100 are kept: enough to fix a rule by,
 * while a hostile body (1,000 bad `in` values in each of 300 conditions) cannot get a huge answer.
 */
export class Issues {
  private readonly list: RuleIssue[] = [];
  private total = 0;
  add(field: string, rule: string): undefined {
    if (this.total++ < LIMITS.issues) this.list.push({ field, rule });
    return undefined;
  }
  get count(): number {
    return this.total;
  }
  /** The kept issues, plus a last one saying how many were left out, if any were. */
  listed(): RuleIssue[] {
    const left = this.total - this.list.length;
    return left > 0 ? [...this.list, { field: 'rule', rule: `${left} more issues not listed` }] : this.list;
  }
}

/** Reports keys of `obj` outside `allowed`, naming each one (they do not stop the rest of the checks). */
export function checkKeys(
  obj: Json,
  at: string,
  allowed: readonly string[],
  what: string,
  issues: Issues,
): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      issues.add(fieldOf(at, key), `unknown key "${key}" (${what} takes: ${allowed.join(', ')})`);
    }
  }
}

export function text(v: unknown, field: string, issues: Issues): string | undefined {
  if (typeof v !== 'string') return issues.add(field, 'must be a string');
  if (v.length === 0) return issues.add(field, 'must not be empty');
  if (v.length > LIMITS.string) return issues.add(field, `must be at most ${LIMITS.string} characters`);
  return v;
}

/** `plan`, `address.city`: non-empty names joined by dots. */
export function dottedPath(v: unknown, field: string, issues: Issues): string | undefined {
  const s = text(v, field, issues);
  if (s === undefined) return undefined;
  if (s.split('.').some((part) => part === '')) {
    return issues.add(field, 'must be a name or a dotted path such as "address.city" (no empty parts)');
  }
  return s;
}

export function wholeDays(v: unknown, field: string, issues: Issues): number | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > LIMITS.days) {
    return issues.add(field, `must be a whole number of days from 1 to ${LIMITS.days}`);
  }
  return v;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2}))?$/;
const DATE_RULE =
  'must be an ISO-8601 date ("2026-01-31"), a date-time with a time zone ("2026-01-31T09:00:00+09:00") or epoch milliseconds';
const EARLIEST = Date.UTC(1900, 0, 1);
const CENTURY = 100 * 365.25 * 86_400_000;

/**
 * Epoch ms from an ISO-8601 string or a number. Stricter than `Date.parse`, which accepts February 30
 * and reads zone-less date-times in the server's local time: a date means 00:00 UTC, a date-time must
 * carry its zone. Dates before 1900 or (given `now`) more than 100 years ahead are taken for typos.
 */
export function parseDate(
  v: unknown,
  field: string,
  issues: Issues,
  now: number | undefined,
): number | undefined {
  let t: number;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return issues.add(field, DATE_RULE);
    if (Math.abs(v) < 1e11) {
      return issues.add(field, 'looks like seconds since 1970; use milliseconds or an ISO-8601 string');
    }
    t = v;
  } else if (typeof v === 'string') {
    const m = ISO.exec(v);
    if (!m) return issues.add(field, DATE_RULE);
    const [y, mo, d, h, mi, s, frac, zone] = m.slice(1).map((x) => x ?? '');
    const [year, month, day] = [Number(y), Number(mo), Number(d)];
    const [hour, minute, second] = [Number(h || 0), Number(mi || 0), Number(s || 0)];
    const ms = Number((frac ?? '').padEnd(3, '0'));
    const date = new Date(Date.UTC(year, month - 1, day));
    if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
      return issues.add(field, `${v} is not a calendar date`);
    }
    if (hour > 23 || minute > 59 || second > 59) return issues.add(field, `${v} is not a valid time of day`);
    let offset = 0;
    if (zone && zone !== 'Z') {
      const [oh, om] = [Number(zone.slice(1, 3)), Number(zone.slice(4, 6))];
      if (oh > 23 || om > 59) return issues.add(field, `${v} has an invalid time zone offset`);
      offset = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om) * 60_000;
    }
    t = date.getTime() + ((hour * 60 + minute) * 60 + second) * 1000 + ms - offset;
  } else return issues.add(field, DATE_RULE);
  if (t < EARLIEST) return issues.add(field, 'must not be before 1900-01-01');
  if (now !== undefined && t > now + CENTURY)
    return issues.add(field, 'must not be more than 100 years from now');
  return t;
}

type Scalar = string | number | boolean | null;

function scalar(v: unknown, field: string, issues: Issues): Scalar | undefined {
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : issues.add(field, 'must be a finite number');
  if (typeof v === 'string') {
    return v.length > LIMITS.string ? issues.add(field, `must be at most ${LIMITS.string} characters`) : v;
  }
  return issues.add(field, 'must be a string, number, boolean or null');
}

/**
 * The comparison in `obj.op` / `obj.value` / `obj.flags` (the caller has checked the keys), limited to
 * `ops`. Reports every problem and returns undefined if there was one.
 */
export function parseComparison(
  obj: Json,
  at: string,
  issues: Issues,
  now: number | undefined,
  ops: readonly ComparisonOp[] = COMPARISON_OPS,
): Comparison | undefined {
  const op = obj.op as ComparisonOp;
  if (typeof obj.op !== 'string' || !ops.includes(op)) {
    return issues.add(`${at}.op`, `must be one of ${ops.join(', ')}`);
  }
  const before = issues.count;
  const field = `${at}.value`;
  const v = obj.value;
  if (obj.flags !== undefined && op !== 'matches') issues.add(`${at}.flags`, 'only applies to op "matches"');
  if (v === undefined && op !== 'exists' && op !== 'not_exists')
    return issues.add(field, `is required by op "${op}"`);
  const cmp = comparisonValue(op, v, obj.flags, field, `${at}.flags`, issues, now);
  return issues.count > before ? undefined : cmp;
}

function comparisonValue(
  op: ComparisonOp,
  v: unknown,
  flags: unknown,
  field: string,
  flagsField: string,
  issues: Issues,
  now: number | undefined,
): Comparison | undefined {
  switch (op) {
    case 'exists':
    case 'not_exists':
      return v === undefined ? { op } : issues.add(field, `op "${op}" takes no value`);
    case 'eq':
    case 'neq': {
      const s = scalar(v, field, issues);
      return s === undefined ? undefined : { op, value: s };
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return typeof v === 'number' && Number.isFinite(v)
        ? { op, value: v }
        : issues.add(field, 'must be a number');
    case 'in':
    case 'not_in': {
      if (!Array.isArray(v) || v.length === 0) return issues.add(field, 'must be a non-empty array');
      if (v.length > LIMITS.inValues) return issues.add(field, `must have at most ${LIMITS.inValues} values`);
      const values = v.map((x, i) => scalar(x, `${field}[${i}]`, issues));
      return values.includes(undefined) ? undefined : { op, value: values as Scalar[] };
    }
    case 'contains':
    case 'not_contains':
    case 'starts_with':
    case 'ends_with': {
      const s = text(v, field, issues);
      return s === undefined ? undefined : { op, value: s };
    }
    case 'matches': {
      if (flags !== undefined && flags !== 'i')
        return issues.add(flagsField, 'must be "i" (case-insensitive)');
      if (typeof v !== 'string') return issues.add(field, 'must be a regular expression (a string)');
      const regex = SafeRegex.compile(v, flags === 'i' ? 'i' : '');
      return typeof regex === 'string' ? issues.add(field, regex) : { op, value: v, regex };
    }
    case 'before':
    case 'after': {
      const t = parseDate(v, field, issues, now);
      return t === undefined ? undefined : { op, value: t };
    }
    case 'within_last_days':
    case 'more_than_days_ago': {
      const d = wholeDays(v, field, issues);
      return d === undefined ? undefined : { op, value: d };
    }
  }
}
