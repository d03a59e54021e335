/**
 * Segment rules as users write them (JSON), validated into the `Rule` tree. Every problem is reported
 * with the field it is in, all at once; a broken node is reported once, not once per consequence.
 *
 * ## Rule syntax
 *
 * A rule is one condition; a condition is an object with exactly one of these keys:
 *
 * | condition | example |
 * |---|---|
 * | all of | `{"and": [cond, ...]}` (1–300 conditions) |
 * | any of | `{"or": [cond, ...]}` |
 * | negation | `{"not": cond}` |
 * | profile trait | `{"trait": "plan", "op": "eq", "value": "gold"}` — `trait` may be a dotted path (`address.city`) |
 * | computed trait | `{"computed": "revenue_total", "op": "gte", "value": 100}` |
 * | event count | `{"event": "Order Completed", "type": "track", "where": [...], "count": {...}, "within": {...}}` |
 * | first/last event time | `{"event": "Order Completed", "first": {"op": "before", "value": "2026-01-01"}}` |
 * | lifecycle stage | `{"stage": "loyal"}`, `{"stage": {"in": ["loyal", "active"]}}` |
 * | previous stage | `{"stage_was": "dormant"}`, `{"stage_was": {"in": [...]}}` |
 * | segment membership | `{"segment": "seg_abc"}`, `{"segment": "seg_abc", "member": false}` |
 * | has an identity | `{"has": "email"}` — `user_id`, `email`, `phone`, `anonymous_id` or `push_token` |
 * | consent | `{"consent": "marketing_email"}` — 1–64 characters of `a-z`, `0-9`, `_` |
 *
 * Comparison operators (`op`) and their `value`, for traits, computed traits and event properties:
 * - `eq`, `neq`: a string, number, boolean or null (a number value also matches a numeric string:
 *   `"value": 5` matches "5")
 * - `gt`, `gte`, `lt`, `lte`: a number
 * - `in`, `not_in`: a non-empty array of up to 1,000 strings, numbers, booleans or nulls
 * - `contains`, `not_contains`, `starts_with`, `ends_with`: a non-empty string (`contains` also looks
 *   inside arrays)
 * - `matches`: a regular expression (see `regex.ts`), optional `"flags": "i"`
 * - `exists`, `not_exists`: no value
 * - `before`, `after`: a date `"2026-01-31"` (00:00 UTC), a date-time with zone
 *   `"2026-01-31T09:00:00+09:00"`, or epoch milliseconds
 * - `within_last_days`, `more_than_days_ago`: whole days, 1–3650
 *
 * Event conditions:
 * - `event`: the event name; `type`: `track` (default), `page` or `screen`
 * - `where`: up to 10 property filters, all must hold: `{"property": "category", "op": "eq", "value": "shoes"}`
 *   (`property` is a dotted path into the event's properties)
 * - `count`: `{"op": "gte" | "gt" | "lte" | "lt" | "eq", "value": whole number ≥ 0}`; default at least once
 * - `within`: `{"days": 1–3650}` (whole UTC days, today included) or `{"from": date, "to": date}`
 *   (from included, to excluded, from before to); absent means all time
 * - `"performed": false` means "never (in the window)", i.e. count eq 0; not combinable with `count`
 * - `first` / `last`: `{"op": ..., "value": ...}` with `before`, `after`, `within_last_days`,
 *   `more_than_days_ago`, `exists` or `not_exists` on the time of the first / last such event (all
 *   time); not combinable with `count`, `within`, `performed` or each other.
 *
 * Names are checked against the workspace: computed traits, stages, segments always; events and
 * top-level trait keys when the workspace knows them. Limits: 12 levels of nesting, 300 conditions,
 * 1,000 characters per string. Unknown keys are errors (a typo must not silently widen a segment).
 */
import type { ComparisonOp } from './compare.js';
import {
  checkKeys,
  dottedPath,
  fieldOf,
  isObject,
  Issues,
  LIMITS,
  parseComparison,
  parseDate,
  text,
  wholeDays,
  type Json,
  type RuleIssue,
} from './schema-values.js';
import {
  IDENTITY_PRESENCE,
  type EventKind,
  type PropertyFilter,
  type Rule,
  type RuleCatalog,
  type Window,
} from './types.js';

export type { RuleIssue } from './schema-values.js';

export type ParseResult = { ok: true; rule: Rule } | { ok: false; issues: RuleIssue[] };

/** The keys a condition may have, by its discriminating key. */
const NODE_KEYS = {
  and: ['and'],
  or: ['or'],
  not: ['not'],
  trait: ['trait', 'op', 'value', 'flags'],
  computed: ['computed', 'op', 'value', 'flags'],
  event: ['event', 'type', 'where', 'count', 'within', 'performed', 'first', 'last'],
  stage: ['stage'],
  stage_was: ['stage_was'],
  segment: ['segment', 'member'],
  has: ['has'],
  consent: ['consent'],
} as const;
type NodeKey = keyof typeof NODE_KEYS;
const DISCRIMINATORS = Object.keys(NODE_KEYS) as NodeKey[];

const EVENT_TYPES: readonly EventKind[] = ['track', 'page', 'screen'];
const COUNT_OPS = ['gte', 'gt', 'lte', 'lt', 'eq'] as const;
const TIME_OPS: readonly ComparisonOp[] = [
  'before',
  'after',
  'within_last_days',
  'more_than_days_ago',
  'exists',
  'not_exists',
];
const CONSENT_PURPOSE = /^[a-z0-9_]{1,64}$/;

/** Validates `json` as a segment rule. Cycles through `segment` conditions are the caller's check (`graph.ts`). */
export function parseRule(json: unknown, catalog: RuleCatalog, opts: { now?: number } = {}): ParseResult {
  const p = new RuleParser(catalog, opts.now);
  const rule = p.node(json, 'rule', 1);
  if (p.issues.count > 0) return { ok: false, issues: p.issues.listed() };
  if (rule === undefined) throw new Error('parseRule: no rule and no issue');
  return { ok: true, rule };
}

class RuleParser {
  readonly issues = new Issues();
  private nodes = 0;
  private tooDeep = false;
  private tooMany = false;

  constructor(
    private readonly catalog: RuleCatalog,
    private readonly now: number | undefined,
  ) {}

  node(v: unknown, at: string, depth: number): Rule | undefined {
    if (++this.nodes > LIMITS.nodes) {
      if (!this.tooMany) this.issues.add('rule', `a rule may have at most ${LIMITS.nodes} conditions`);
      this.tooMany = true;
      return undefined;
    }
    if (!isObject(v)) {
      return this.issues.add(
        at,
        'must be a condition object, e.g. {"trait": "plan", "op": "eq", "value": "gold"}',
      );
    }
    if (depth > LIMITS.depth) {
      if (!this.tooDeep) this.issues.add(at, `conditions may be nested at most ${LIMITS.depth} levels deep`);
      this.tooDeep = true;
      return undefined;
    }
    const found = DISCRIMINATORS.filter((k) => Object.hasOwn(v, k));
    if (found.length !== 1) {
      const list = DISCRIMINATORS.join(', ');
      return this.issues.add(
        at,
        found.length === 0
          ? `must have one of the keys ${list}`
          : `has ${found.map((k) => `"${k}"`).join(' and ')}; a condition has exactly one of ${list}`,
      );
    }
    const kind = found[0]!;
    checkKeys(v, at, NODE_KEYS[kind], `a "${kind}" condition`, this.issues);
    switch (kind) {
      case 'and':
      case 'or':
        return this.list(kind, v[kind], at, depth);
      case 'not': {
        const rule = this.node(v.not, `${at}.not`, depth + 1);
        return rule && { kind: 'not', at, rule };
      }
      case 'trait':
        return this.trait(v, at);
      case 'computed': {
        const name = text(v.computed, `${at}.computed`, this.issues);
        if (name !== undefined && !this.catalog.computedTraits.has(name)) {
          this.issues.add(`${at}.computed`, `unknown computed trait "${name}"`);
        }
        const cmp = parseComparison(v, at, this.issues, this.now);
        return name !== undefined && cmp && this.catalog.computedTraits.has(name)
          ? { kind: 'computed', at, name, cmp }
          : undefined;
      }
      case 'event':
        return this.event(v, at);
      case 'stage':
      case 'stage_was':
        return this.stage(v[kind], `${at}.${kind}`, at, kind === 'stage' ? 'current' : 'previous');
      case 'segment': {
        const before = this.issues.count;
        const id = text(v.segment, `${at}.segment`, this.issues);
        if (id !== undefined && !this.catalog.segments.has(id)) {
          this.issues.add(`${at}.segment`, `unknown segment "${id}"`);
        }
        if (v.member !== undefined && typeof v.member !== 'boolean') {
          this.issues.add(`${at}.member`, 'must be true or false');
        }
        return this.issues.count > before || id === undefined
          ? undefined
          : { kind: 'segment', at, id, member: v.member !== false };
      }
      case 'has': {
        const identity = IDENTITY_PRESENCE.find((k) => k === v.has);
        return identity
          ? { kind: 'identity', at, identity }
          : this.issues.add(`${at}.has`, `must be one of ${IDENTITY_PRESENCE.join(', ')}`);
      }
      case 'consent':
        return typeof v.consent === 'string' && CONSENT_PURPOSE.test(v.consent)
          ? { kind: 'consent', at, purpose: v.consent }
          : this.issues.add(`${at}.consent`, 'must be a consent purpose: 1–64 characters of a-z, 0-9 and _');
    }
  }

  private list(kind: 'and' | 'or', v: unknown, at: string, depth: number): Rule | undefined {
    const field = `${at}.${kind}`;
    if (!Array.isArray(v) || v.length === 0)
      return this.issues.add(field, 'must be a non-empty array of conditions');
    if (v.length > LIMITS.nodes)
      return this.issues.add(field, `must have at most ${LIMITS.nodes} conditions`);
    const rules = v.map((child, i) => this.node(child, `${field}[${i}]`, depth + 1));
    return rules.every((r) => r !== undefined) ? { kind, at, rules } : undefined;
  }

  private trait(v: Json, at: string): Rule | undefined {
    const before = this.issues.count;
    const path = dottedPath(v.trait, `${at}.trait`, this.issues);
    const top = path?.split('.')[0];
    if (top !== undefined && this.catalog.traitKeys && !this.catalog.traitKeys.has(top)) {
      this.issues.add(`${at}.trait`, `unknown trait "${top}" (no profile in this workspace has it)`);
    }
    const cmp = parseComparison(v, at, this.issues, this.now);
    return this.issues.count > before || path === undefined || !cmp
      ? undefined
      : { kind: 'trait', at, path, cmp };
  }

  private stage(v: unknown, field: string, at: string, which: 'current' | 'previous'): Rule | undefined {
    const before = this.issues.count;
    let names: { name: unknown; field: string }[];
    if (typeof v === 'string') names = [{ name: v, field }];
    else if (isObject(v) && Array.isArray(v.in) && v.in.length > 0 && v.in.length <= LIMITS.inValues) {
      checkKeys(v, field, ['in'], 'a stage list', this.issues);
      names = (v.in as unknown[]).map((name, i) => ({ name, field: `${field}.in[${i}]` }));
    } else {
      return this.issues.add(field, 'must be a stage name or {"in": [stage names]} (1–1000 names)');
    }
    for (const n of names) {
      const name = text(n.name, n.field, this.issues);
      if (name !== undefined && !this.catalog.stages.has(name))
        this.issues.add(n.field, `unknown stage "${name}"`);
    }
    if (this.issues.count > before) return undefined;
    return { kind: 'stage', at, field: which, anyOf: [...new Set(names.map((n) => n.name as string))] };
  }

  private event(v: Json, at: string): Rule | undefined {
    const before = this.issues.count;
    const name = text(v.event, `${at}.event`, this.issues);
    const type = v.type === undefined ? 'track' : EVENT_TYPES.find((t) => t === v.type);
    if (!type) this.issues.add(`${at}.type`, `must be one of ${EVENT_TYPES.join(', ')}`);
    if (name !== undefined && type && this.catalog.events && !this.catalog.events.has(`${type}:${name}`)) {
      const what = type === 'track' ? 'event' : `${type} event`;
      this.issues.add(`${at}.event`, `unknown ${what} "${name}" (never received in this workspace)`);
    }
    const where = this.where(v.where, `${at}.where`);

    const timeKey = v.first !== undefined ? 'first' : v.last !== undefined ? 'last' : undefined;
    if (timeKey) {
      for (const other of ['last', 'count', 'within', 'performed'] as const) {
        if (other !== timeKey && v[other] !== undefined) {
          this.issues.add(fieldOf(at, other), `cannot be combined with "${timeKey}"`);
        }
      }
      const spec = v[timeKey];
      const field = `${at}.${timeKey}`;
      let cmp;
      if (!isObject(spec))
        this.issues.add(field, 'must be an object like {"op": "before", "value": "2026-01-01"}');
      else {
        checkKeys(spec, field, ['op', 'value'], `"${timeKey}"`, this.issues);
        cmp = parseComparison(spec, field, this.issues, this.now, TIME_OPS);
      }
      if (this.issues.count > before || !name || !type || !where || !cmp) return undefined;
      return {
        kind: 'event_time',
        at,
        event: { type, name, where },
        which: timeKey,
        cmp: cmp as Extract<Rule, { kind: 'event_time' }>['cmp'],
      };
    }

    let count: { op: (typeof COUNT_OPS)[number]; value: number } | undefined = { op: 'gte', value: 1 };
    if (v.performed !== undefined) {
      if (typeof v.performed !== 'boolean') this.issues.add(`${at}.performed`, 'must be true or false');
      else if (v.count !== undefined) this.issues.add(`${at}.performed`, 'cannot be combined with "count"');
      else if (!v.performed) count = { op: 'eq', value: 0 };
    }
    if (v.count !== undefined) count = this.count(v.count, `${at}.count`);
    const window = this.window(v.within, `${at}.within`);
    if (this.issues.count > before || !name || !type || !where || !count || !window) return undefined;
    return { kind: 'event_count', at, event: { type, name, where }, window, count };
  }

  private where(v: unknown, field: string): PropertyFilter[] | undefined {
    if (v === undefined) return [];
    if (!Array.isArray(v)) return this.issues.add(field, 'must be an array of property filters');
    if (v.length > LIMITS.whereFilters) {
      return this.issues.add(field, `must have at most ${LIMITS.whereFilters} property filters`);
    }
    const before = this.issues.count;
    const filters = v.map((f, i) => {
      const at = `${field}[${i}]`;
      if (!isObject(f)) {
        return this.issues.add(
          at,
          'must be a property filter like {"property": "category", "op": "eq", "value": "shoes"}',
        );
      }
      checkKeys(f, at, ['property', 'op', 'value', 'flags'], 'a property filter', this.issues);
      const path = dottedPath(f.property, `${at}.property`, this.issues);
      const cmp = parseComparison(f, at, this.issues, this.now);
      return path !== undefined && cmp ? { path, cmp } : undefined;
    });
    return this.issues.count > before ? undefined : filters.filter((f) => f !== undefined);
  }

  private count(v: unknown, field: string): { op: (typeof COUNT_OPS)[number]; value: number } | undefined {
    if (!isObject(v)) return this.issues.add(field, 'must be an object like {"op": "gte", "value": 2}');
    checkKeys(v, field, ['op', 'value'], '"count"', this.issues);
    const op = COUNT_OPS.find((o) => o === v.op);
    if (!op) return this.issues.add(`${field}.op`, `must be one of ${COUNT_OPS.join(', ')}`);
    const n = v.value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > LIMITS.count) {
      return this.issues.add(`${field}.value`, 'must be a whole number from 0 to 1,000,000,000');
    }
    if (op === 'lt' && n === 0) {
      return this.issues.add(`${field}.value`, 'a count is never below 0, so "lt 0" can never be true');
    }
    return { op, value: n };
  }

  private window(v: unknown, field: string): Window | undefined {
    if (v === undefined) return { kind: 'all' };
    if (!isObject(v)) return this.issues.add(field, 'must be {"days": N} or {"from": date, "to": date}');
    checkKeys(v, field, ['days', 'from', 'to'], '"within"', this.issues);
    if (v.days !== undefined) {
      if (v.from !== undefined || v.to !== undefined) {
        return this.issues.add(field, 'use either "days" or "from"/"to", not both');
      }
      const days = wholeDays(v.days, `${field}.days`, this.issues);
      return days === undefined ? undefined : { kind: 'last_days', days };
    }
    if (v.from === undefined && v.to === undefined) {
      return this.issues.add(field, 'must be {"days": N} or {"from": date, "to": date}');
    }
    const from =
      v.from === undefined
        ? this.issues.add(`${field}.from`, 'is required with "to"')
        : parseDate(v.from, `${field}.from`, this.issues, this.now);
    const to =
      v.to === undefined
        ? this.issues.add(`${field}.to`, 'is required with "from"')
        : parseDate(v.to, `${field}.to`, this.issues, this.now);
    if (from === undefined || to === undefined) return undefined;
    if (from >= to) return this.issues.add(`${field}.to`, 'must be after "from"');
    return { kind: 'between', from, to };
  }
}
