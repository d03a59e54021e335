/**
 * Evaluates a rule against one profile. `evaluate` is the hot path — every segment, every ingested
 * event — so it short-circuits and allocates nothing of its own; `explain` evaluates everything and
 * reports what it saw. Both decide leaves with the same two functions (`observe`, then `holds`), so an
 * explanation can never disagree with the decision it explains.
 */
import { compare } from './compare.js';
import { describeNode } from './describe.js';
import type { Explanation, Rule, RuleContext, Window } from './types.js';

type Leaf = Exclude<Rule, { kind: 'and' | 'or' | 'not' }>;

/** event_time looks at the whole history; one shared window object saves an allocation per call. */
const ALL_TIME: Window = Object.freeze({ kind: 'all' });

/** The one value a leaf decides on: a trait value, an event count or time (ms or null), a stage, a flag. */
function observe(rule: Leaf, ctx: RuleContext): unknown {
  switch (rule.kind) {
    case 'trait':
      return ctx.trait(rule.path);
    case 'computed':
      return ctx.computed(rule.name);
    case 'event_count':
      return ctx.events(rule.event, rule.window).count;
    case 'event_time': {
      const stats = ctx.events(rule.event, ALL_TIME);
      return rule.which === 'first' ? stats.first : stats.last;
    }
    case 'stage': {
      const s = ctx.stage();
      return rule.field === 'current' ? s.current : s.previous;
    }
    case 'segment':
      return ctx.inSegment(rule.id);
    case 'identity':
      return ctx.hasIdentity(rule.identity);
    case 'consent':
      return ctx.consent(rule.purpose);
  }
}

function holds(rule: Leaf, value: unknown, now: number): boolean {
  switch (rule.kind) {
    case 'trait':
    case 'computed':
      return compare(value, rule.cmp, now);
    case 'event_count':
      return countHolds(value as number, rule.count);
    case 'event_time':
      // No such event: null becomes undefined, which `exists` fails and `not_exists` passes.
      return compare(value ?? undefined, rule.cmp, now);
    case 'stage':
      return typeof value === 'string' && rule.anyOf.includes(value);
    case 'segment':
      return value === rule.member;
    case 'identity':
    case 'consent':
      return value === true;
  }
}

function countHolds(n: number, count: Extract<Rule, { kind: 'event_count' }>['count']): boolean {
  switch (count.op) {
    case 'gte':
      return n >= count.value;
    case 'gt':
      return n > count.value;
    case 'lte':
      return n <= count.value;
    case 'lt':
      return n < count.value;
    case 'eq':
      return n === count.value;
  }
}

/** An event time as the explanation shows it; a time the Date type cannot hold is shown as the number. */
function shownTime(ms: number): string | number {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? ms : d.toISOString();
}

/** Does the profile behind `ctx` satisfy `rule`? */
export function evaluate(rule: Rule, ctx: RuleContext): boolean {
  switch (rule.kind) {
    case 'and':
      for (const r of rule.rules) if (!evaluate(r, ctx)) return false;
      return true;
    case 'or':
      for (const r of rule.rules) if (evaluate(r, ctx)) return true;
      return false;
    case 'not':
      return !evaluate(rule.rule, ctx);
    default:
      return holds(rule, observe(rule, ctx), ctx.now);
  }
}

/** The whole tree evaluated (no short-circuit), each node with its condition in words and what it saw. */
export function explain(rule: Rule, ctx: RuleContext): Explanation {
  switch (rule.kind) {
    case 'and':
    case 'or': {
      const children = rule.rules.map((r) => explain(r, ctx));
      const pass = rule.kind === 'and' ? children.every((c) => c.pass) : children.some((c) => c.pass);
      const condition = describeNode(
        rule,
        children.map((c) => c.condition),
      );
      return { at: rule.at, kind: rule.kind, pass, condition, children };
    }
    case 'not': {
      const child = explain(rule.rule, ctx);
      return {
        at: rule.at,
        kind: 'not',
        pass: !child.pass,
        condition: describeNode(rule, [child.condition]),
        children: [child],
      };
    }
    default: {
      const value = observe(rule, ctx);
      const actual = rule.kind === 'event_time' && typeof value === 'number' ? shownTime(value) : value;
      return {
        at: rule.at,
        kind: rule.kind,
        pass: holds(rule, value, ctx.now),
        condition: describeNode(rule, []),
        actual,
      };
    }
  }
}
