/**
 * The segment rule language after validation: the tree `rules/schema.ts` produces from JSON and
 * `rules/evaluate.ts` evaluates against one profile. Every node keeps `at`, its location in the source
 * JSON (e.g. `rule.and[2].where[0]`), so errors and explanations can point at it.
 */
import type { Comparison } from './compare.js';

export type EventKind = 'track' | 'page' | 'screen';

/** A span of time an event condition looks at. Relative windows count whole UTC days, today included. */
export type Window =
  { kind: 'all' } | { kind: 'last_days'; days: number } | { kind: 'between'; from: number; to: number };

export interface PropertyFilter {
  /** dotted path into the event's `properties`. */
  readonly path: string;
  readonly cmp: Comparison;
}

/** Which events a condition counts: one type and name, optionally narrowed by property filters (all must hold). */
export interface EventSelector {
  readonly type: EventKind;
  readonly name: string;
  readonly where: readonly PropertyFilter[];
}

export const IDENTITY_PRESENCE = ['user_id', 'email', 'phone', 'anonymous_id', 'push_token'] as const;
export type IdentityPresence = (typeof IDENTITY_PRESENCE)[number];

export type Rule =
  | { kind: 'and'; at: string; rules: readonly Rule[] }
  | { kind: 'or'; at: string; rules: readonly Rule[] }
  | { kind: 'not'; at: string; rule: Rule }
  | { kind: 'trait'; at: string; path: string; cmp: Comparison }
  | { kind: 'computed'; at: string; name: string; cmp: Comparison }
  | {
      kind: 'event_count';
      at: string;
      event: EventSelector;
      window: Window;
      count: { op: 'gte' | 'lte' | 'eq' | 'gt' | 'lt'; value: number };
    }
  | {
      kind: 'event_time';
      at: string;
      event: EventSelector;
      which: 'first' | 'last';
      cmp: Extract<
        Comparison,
        { op: 'before' | 'after' | 'within_last_days' | 'more_than_days_ago' | 'exists' | 'not_exists' }
      >;
    }
  | { kind: 'stage'; at: string; field: 'current' | 'previous'; anyOf: readonly string[] }
  | { kind: 'segment'; at: string; id: string; member: boolean }
  | { kind: 'identity'; at: string; identity: IdentityPresence }
  | { kind: 'consent'; at: string; purpose: string };

export interface EventStats {
  readonly count: number;
  /** time of the first / last matching event in the window; null when there is none. */
  readonly first: number | null;
  readonly last: number | null;
}

/**
 * What the evaluator may ask about one profile. The store builds it from the profile row and its
 * incrementally maintained facts; tests build it by hand. Every method is cheap (no I/O).
 */
export interface RuleContext {
  readonly now: number;
  /** a profile trait by dotted path; undefined when absent. */
  trait(path: string): unknown;
  /** a computed trait (built-in or user-defined) by name; undefined when it has no value. */
  computed(name: string): unknown;
  hasIdentity(kind: IdentityPresence): boolean;
  consent(purpose: string): boolean;
  events(selector: EventSelector, window: Window): EventStats;
  stage(): { current: string | null; previous: string | null };
  inSegment(segmentId: string): boolean;
}

/** The evaluated rule tree: the answer to "why is this customer in / not in this segment". */
export interface Explanation {
  readonly at: string;
  readonly kind: Rule['kind'];
  readonly pass: boolean;
  /** the condition in words, e.g. `performed "Order Completed" at least 2 times in the last 30 days`. */
  readonly condition: string;
  /** what the profile actually has (a trait value, an event count, a stage); absent for and/or/not. */
  readonly actual?: unknown;
  readonly children?: readonly Explanation[];
}

/** What validation may check names against; a null set means "do not check". */
export interface RuleCatalog {
  readonly computedTraits: ReadonlySet<string>;
  /** `type:name` of events seen in the workspace. */
  readonly events: ReadonlySet<string> | null;
  readonly stages: ReadonlySet<string>;
  /** segment id → ids of the segments its rule refers to. */
  readonly segments: ReadonlyMap<string, ReadonlySet<string>>;
  readonly traitKeys: ReadonlySet<string> | null;
}
