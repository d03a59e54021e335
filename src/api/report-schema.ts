/**
 * Validation of report queries (docs/reports.md): query strings and bodies become the engine's
 * queries, or a ValidationError naming each bad field. Event property filters use the segment rule
 * language's own parser, so `where` means the same in a funnel step as in a segment.
 */
import { z } from 'zod';
import { ValidationError, type FieldIssue } from '../errors.js';
import type { EventMatch } from '../domain/reports/events.js';
import { PERIODS } from '../domain/reports/periods.js';
import { parseDuration } from '../domain/journeys/time.js';
import {
  checkKeys,
  dottedPath,
  isObject,
  Issues,
  LIMITS,
  parseComparison,
} from '../domain/rules/schema-values.js';
import type { PropertyFilter } from '../domain/rules/types.js';
import type { AttributionQuery, FunnelQuery, RetentionReportQuery } from '../engine/reports.js';
import { parse } from './params.js';

const DAY = 86_400_000;

/** A date ("2026-11-01", midnight UTC) or a date-time with a zone. */
const instant = z
  .string({ error: 'must be a date "YYYY-MM-DD" or an ISO 8601 date-time with a zone' })
  .refine((v) => /^\d{4}-\d{2}-\d{2}(T.*(Z|[+-]\d{2}:\d{2}))?$/.test(v) && Number.isFinite(Date.parse(v)), {
    error: 'must be a date "YYYY-MM-DD" or an ISO 8601 date-time with a zone',
  })
  .transform((v) => Date.parse(/T/.test(v) ? v : `${v}T00:00:00Z`));

const duration = (what: string) =>
  z.string({ error: `must be a duration such as "24h" or "7d" (${what})` }).transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === null || ms <= 0) {
      ctx.addIssue({ code: 'custom', message: `must be a duration such as "24h" or "7d" (${what})` });
      return z.NEVER;
    }
    return ms;
  });

export const format = z.enum(['json', 'csv'], { error: 'must be json or csv' }).default('json');

/** The range [from, to): `to` defaults to now, `from` to `days` before `to`; at most 3 years. */
function range(q: { from?: number | undefined; to?: number | undefined }, now: number, days: number) {
  const to = q.to ?? now;
  const from = q.from ?? to - days * DAY;
  const issues: FieldIssue[] = [];
  if (from >= to) issues.push({ field: 'from', rule: 'must be before to' });
  else if (to - from > 3 * 366 * DAY)
    issues.push({ field: 'from', rule: 'the range must be at most 3 years' });
  if (issues.length > 0) throw new ValidationError(issues);
  return { from, to };
}

function where(v: unknown, field: string, issues: Issues, now: number): PropertyFilter[] | undefined {
  if (v === undefined) return [];
  if (!Array.isArray(v)) return issues.add(field, 'must be an array of property filters');
  if (v.length > LIMITS.whereFilters)
    return issues.add(field, `must have at most ${LIMITS.whereFilters} property filters`);
  const out: PropertyFilter[] = [];
  v.forEach((f, i) => {
    const at = `${field}[${i}]`;
    if (!isObject(f)) {
      issues.add(at, 'must be a property filter like {"property": "category", "op": "eq", "value": "shoes"}');
      return;
    }
    checkKeys(f, at, ['property', 'op', 'value', 'flags'], 'a property filter', issues);
    const path = dottedPath(f['property'], `${at}.property`, issues);
    const cmp = parseComparison(f, at, issues, now);
    if (path !== undefined && cmp) out.push({ path, cmp });
  });
  return out;
}

/** An event and its filters: `{event, where?}`. */
function eventMatch(v: unknown, field: string, issues: Issues, now: number): EventMatch | undefined {
  if (!isObject(v)) return issues.add(field, 'must be an object {event, where?}');
  checkKeys(v, field, ['event', 'where'], 'an event step', issues);
  const name = v['event'];
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200)
    issues.add(`${field}.event`, 'required: an event name (1 to 200 characters)');
  const w = where(v['where'], `${field}.where`, issues, now);
  return typeof name === 'string' && w ? { name, where: w } : undefined;
}

function done<T>(issues: Issues, value: T | undefined): T {
  if (issues.count > 0 || value === undefined)
    throw new ValidationError(issues.listed().map((i) => ({ field: i.field, rule: i.rule })));
  return value;
}

const funnelBody = z.strictObject(
  {
    steps: z
      .array(z.unknown(), { error: 'required: an array of 2 to 10 steps {event, where?}' })
      .min(2, { error: 'must have 2 to 10 steps' })
      .max(10, { error: 'must have 2 to 10 steps' }),
    window: duration('the conversion window, from the first step').default(7 * DAY),
    from: instant.optional(),
    to: instant.optional(),
    breakdown: z.enum(['stage', 'segment'], { error: 'must be stage or segment' }).optional(),
  },
  { error: 'the body must be a JSON object' },
);

export function funnelQuery(body: unknown, now: number): FunnelQuery {
  const b = parse(funnelBody, body);
  const r = range(b, now, 30);
  const issues = new Issues();
  const steps = b.steps.map((s, i) => eventMatch(s, `steps[${i}]`, issues, now));
  const ok = steps.every((s): s is EventMatch => s !== undefined) ? steps : undefined;
  return { steps: done(issues, ok), windowMs: b.window, ...r, breakdown: b.breakdown ?? null };
}

const retentionParams = z.strictObject({
  cohort: z
    .enum(['first_seen', 'first_purchase'], { error: 'must be first_seen or first_purchase' })
    .default('first_seen'),
  purchase_event: z.string().min(1).max(200).default('Order Completed'),
  event: z.string({ error: 'must be an event name' }).min(1).max(200).optional(),
  period: z.enum(['week', 'month'], { error: 'must be week or month' }).default('month'),
  periods: z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be 1 to 52' })
    .max(52, { error: 'must be 1 to 52' })
    .default(12),
  from: instant.optional(),
  to: instant.optional(),
  format,
});

export function retentionQuery(
  query: unknown,
  now: number,
): RetentionReportQuery & { format: 'json' | 'csv' } {
  const q = parse(retentionParams, query);
  const r = range(q, now, q.period === 'week' ? 12 * 7 : 365);
  return {
    anchor:
      q.cohort === 'first_seen' ? { kind: 'first_seen' } : { kind: 'first_event', name: q.purchase_event },
    activity: q.event ?? null,
    unit: q.period,
    periods: q.periods,
    ...r,
    format: q.format,
  };
}

const flowParams = z.strictObject({
  period: z.enum(PERIODS, { error: 'must be day, week or month' }).default('week'),
  from: instant.optional(),
  to: instant.optional(),
  format,
});

export function stageFlowQuery(query: unknown, now: number) {
  const q = parse(flowParams, query);
  const r = range(q, now, 12 * 7);
  const span = r.to - r.from;
  if (q.period === 'day' && span > 400 * DAY)
    throw new ValidationError([{ field: 'from', rule: 'at most 400 days by day: ask by week or month' }]);
  return { unit: q.period, ...r, format: q.format };
}

const rangeParams = z.strictObject({ from: instant.optional(), to: instant.optional(), format });

export function performanceQuery(query: unknown, now: number) {
  const q = parse(rangeParams, query);
  return { ...range(q, now, 30), format: q.format };
}

const attributionBody = z.strictObject(
  {
    goal: z.unknown(),
    value_property: z
      .string({ error: 'must be a dotted property path such as "revenue"' })
      .regex(/^[^.\s]+(\.[^.\s]+)*$/, { error: 'must be a dotted property path such as "revenue"' })
      .max(200)
      .optional(),
    model: z.enum(['last', 'first'], { error: 'must be last or first' }).default('last'),
    after_send: duration('how long after a send a conversion counts').optional(),
    after_open: duration('how long after an open or click a conversion counts').optional(),
    from: instant.optional(),
    to: instant.optional(),
  },
  { error: 'the body must be a JSON object' },
);

export function attributionQuery(body: unknown, now: number): AttributionQuery {
  const b = parse(attributionBody, body);
  const r = range(b, now, 30);
  if (b.after_send === undefined && b.after_open === undefined) {
    throw new ValidationError([
      {
        field: 'after_send',
        rule: 'give after_send, after_open or both (e.g. "7d" after send, "24h" after open)',
      },
    ]);
  }
  const issues = new Issues();
  const goal = done(issues, eventMatch(b.goal, 'goal', issues, now));
  return {
    goal,
    valueProperty: b.value_property ?? null,
    rule: { model: b.model, afterSendMs: b.after_send ?? null, afterEngageMs: b.after_open ?? null },
    ...r,
  };
}
