/**
 * Rule conditions in plain English, for explanations ("why is this customer in this segment"), stage
 * change reasons and the dashboard. Dates are shown as ISO-8601 UTC so they read the same everywhere.
 */
import type { Comparison } from './compare.js';
import type { EventSelector, Rule, Window } from './types.js';

const SHOWN_LIST_VALUES = 5;

function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

function days(n: number): string {
  return n === 1 ? '1 day' : `${n} days`;
}

function list(values: readonly unknown[]): string {
  const shown = values.slice(0, SHOWN_LIST_VALUES).map(show).join(', ');
  const rest = values.length - SHOWN_LIST_VALUES;
  return rest > 0 ? `${shown} (and ${rest} more)` : shown;
}

/** `equals "gold"`, `is at least 100`, `within the last 30 days`. */
export function describeComparison(cmp: Comparison): string {
  switch (cmp.op) {
    case 'eq':
      return `equals ${show(cmp.value)}`;
    case 'neq':
      return `does not equal ${show(cmp.value)}`;
    case 'gt':
      return `is greater than ${cmp.value}`;
    case 'gte':
      return `is at least ${cmp.value}`;
    case 'lt':
      return `is less than ${cmp.value}`;
    case 'lte':
      return `is at most ${cmp.value}`;
    case 'in':
      return `is one of ${list(cmp.value)}`;
    case 'not_in':
      return `is not one of ${list(cmp.value)}`;
    case 'contains':
      return `contains ${show(cmp.value)}`;
    case 'not_contains':
      return `does not contain ${show(cmp.value)}`;
    case 'starts_with':
      return `starts with ${show(cmp.value)}`;
    case 'ends_with':
      return `ends with ${show(cmp.value)}`;
    case 'matches':
      return `matches ${String(cmp.regex)}`;
    case 'exists':
      return 'exists';
    case 'not_exists':
      return 'does not exist';
    case 'before':
      return `before ${iso(cmp.value)}`;
    case 'after':
      return `after ${iso(cmp.value)}`;
    case 'within_last_days':
      return `within the last ${days(cmp.value)}`;
    case 'more_than_days_ago':
      return `more than ${days(cmp.value)} ago`;
  }
}

/** ` where category equals "shoes" and price is at least 10`, or nothing. */
function describeWhere(sel: EventSelector): string {
  if (sel.where.length === 0) return '';
  return ` where ${sel.where.map((f) => `${f.path} ${describeComparison(f.cmp)}`).join(' and ')}`;
}

/** `track "Order Completed" where category equals "shoes"`. */
export function describeSelector(sel: EventSelector): string {
  return `${sel.type} ${show(sel.name)}${describeWhere(sel)}`;
}

function describeWindow(w: Window): string {
  switch (w.kind) {
    case 'all':
      return '';
    case 'last_days':
      // Relative windows count whole UTC days, today included: one day is today.
      return w.days === 1 ? ' today' : ` in the last ${days(w.days)}`;
    case 'between':
      return ` between ${iso(w.from)} and ${iso(w.to)}`;
  }
}

function times(n: number): string {
  return n === 1 ? 'once' : `${n} times`;
}

function describeCount(c: Extract<Rule, { kind: 'event_count' }>['count']): string {
  switch (c.op) {
    case 'gte':
      return `at least ${times(c.value)}`;
    case 'gt':
      return `more than ${times(c.value)}`;
    case 'lte':
      return `at most ${times(c.value)}`;
    case 'lt':
      return `fewer than ${times(c.value)}`;
    case 'eq':
      return `exactly ${times(c.value)}`;
  }
}

/** A leaf condition, or a composite one from its children's descriptions (already computed by the caller). */
export function describeNode(rule: Rule, children: readonly string[]): string {
  switch (rule.kind) {
    case 'and':
    case 'or': {
      if (children.length === 1) return children[0]!;
      const parts = rule.rules.map((r, i) => {
        const text = children[i]!;
        return (r.kind === 'and' || r.kind === 'or') && r.rules.length > 1 ? `(${text})` : text;
      });
      return parts.join(rule.kind === 'and' ? ' and ' : ' or ');
    }
    case 'not': {
      const inner = rule.rule;
      const text = children[0]!;
      return (inner.kind === 'and' || inner.kind === 'or') && inner.rules.length > 1
        ? `not (${text})`
        : `not ${text}`;
    }
    case 'trait':
      return `trait ${show(rule.path)} ${describeComparison(rule.cmp)}`;
    case 'computed':
      return `computed trait ${show(rule.name)} ${describeComparison(rule.cmp)}`;
    case 'event_count': {
      const { event, count, window } = rule;
      if (count.op === 'eq' && count.value === 0)
        return `never performed ${describeSelector(event)}${describeWindow(window)}`;
      return `performed ${describeSelector(event)} ${describeCount(count)}${describeWindow(window)}`;
    }
    case 'event_time': {
      const { event } = rule;
      // `track` is the usual kind of event, so it goes unsaid here: `first "Order Completed" before ...`.
      const what = `${event.type === 'track' ? '' : `${event.type} `}${show(event.name)}${describeWhere(event)}`;
      if (rule.cmp.op === 'exists') return `has performed ${what}`;
      if (rule.cmp.op === 'not_exists') return `has never performed ${what}`;
      return `${rule.which} ${what} ${describeComparison(rule.cmp)}`;
    }
    case 'stage': {
      const which = rule.field === 'current' ? 'current' : 'previous';
      return rule.anyOf.length === 1
        ? `${which} stage is ${show(rule.anyOf[0])}`
        : `${which} stage is one of ${list(rule.anyOf)}`;
    }
    case 'segment':
      return `${rule.member ? 'is' : 'is not'} in segment ${show(rule.id)}`;
    case 'identity':
      return `has ${rule.identity}`;
    case 'consent':
      return `consented to ${show(rule.purpose)}`;
  }
}

/** The whole rule in words. */
export function describeRule(rule: Rule): string {
  switch (rule.kind) {
    case 'and':
    case 'or':
      return describeNode(rule, rule.rules.map(describeRule));
    case 'not':
      return describeNode(rule, [describeRule(rule.rule)]);
    default:
      return describeNode(rule, []);
  }
}
