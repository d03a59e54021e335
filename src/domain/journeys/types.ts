/**
 * Journeys as the runner sees them: a validated, compiled definition (parse.ts makes one from JSON) and
 * the position of one customer in one journey. Pure data; docs/journeys.md describes the JSON.
 */
import type { JsonObject } from '../event.js';
import type { EventSelector, Rule } from '../rules/types.js';

export type Trigger =
  | { readonly kind: 'event'; readonly event: EventSelector }
  | { readonly kind: 'segment_entered'; readonly segment: string }
  | { readonly kind: 'segment_exited'; readonly segment: string }
  | { readonly kind: 'stage_entered'; readonly stage: string }
  /** the segment's members enter at `at` (epoch ms), and again every `everyDays` days when given */
  | {
      readonly kind: 'schedule';
      readonly segment: string;
      readonly at: number;
      readonly everyDays: number | null;
    };

export type EntryLimit =
  | { readonly kind: 'once' }
  | { readonly kind: 'every_time' }
  | { readonly kind: 'once_per_days'; readonly days: number };

export interface LocalTime {
  readonly hour: number;
  readonly minute: number;
}

export type DelaySpec =
  | { readonly kind: 'duration'; readonly ms: number }
  | { readonly kind: 'until'; readonly at: number }
  /** the next `at` in the customer's time zone, on one of `days` (0 = Sunday) when given */
  | { readonly kind: 'local_time'; readonly at: LocalTime; readonly days: readonly number[] | null };

export interface SplitVariant {
  readonly name: string;
  readonly percent: number;
  /** a holdout: customers here are counted but get nothing from this step on (until `next`) */
  readonly control: boolean;
  readonly next: string;
}

export type Step =
  | { readonly type: 'delay'; readonly id: string; readonly delay: DelaySpec; readonly next: string }
  | {
      readonly type: 'wait_for_event';
      readonly id: string;
      readonly event: EventSelector;
      readonly timeoutMs: number;
      readonly next: string;
      readonly timeoutNext: string;
    }
  | {
      readonly type: 'condition';
      readonly id: string;
      readonly rule: Rule;
      readonly then: string;
      readonly else: string;
    }
  | {
      readonly type: 'branch';
      readonly id: string;
      readonly branches: readonly { readonly name: string; readonly rule: Rule; readonly next: string }[];
      readonly otherwise: string;
    }
  | { readonly type: 'split'; readonly id: string; readonly variants: readonly SplitVariant[] }
  | {
      readonly type: 'send';
      readonly id: string;
      readonly channel: string;
      readonly template: string;
      /** which message wins when frequency caps allow only some of a batch's */
      readonly priority: 'high' | 'normal' | 'low';
      /** during the customer's quiet hours: wait for the window to open, drop the message, or send */
      readonly quietHours: 'hold' | 'drop' | 'ignore';
      readonly next: string;
    }
  | {
      readonly type: 'update_profile';
      readonly id: string;
      readonly traits: JsonObject;
      readonly next: string;
    }
  | {
      readonly type: 'webhook';
      readonly id: string;
      readonly url: string;
      readonly body: JsonObject | null;
      readonly next: string;
    }
  | {
      readonly type: 'list';
      readonly id: string;
      readonly op: 'add' | 'remove';
      readonly list: string;
      readonly next: string;
    }
  | { readonly type: 'exit'; readonly id: string };

export type StepType = Step['type'];

export interface Goal {
  readonly event: EventSelector;
  readonly withinMs: number;
}

export interface ExitCriteria {
  readonly events: readonly EventSelector[];
  readonly segments: readonly string[];
}

export interface Journey {
  readonly name: string;
  readonly description: string;
  readonly trigger: Trigger;
  readonly entry: { readonly limit: EntryLimit; readonly segment: string | null };
  /** IANA zone for customers without a valid `timezone` trait */
  readonly timezone: string;
  readonly start: string;
  readonly steps: ReadonlyMap<string, Step>;
  readonly goal: Goal | null;
  readonly exitWhen: ExitCriteria;
  /** scheduled entries are spread out to at most this many per minute (null: all at once) */
  readonly throttlePerMinute: number | null;
}

export type EntryState = 'active' | 'completed' | 'exited';

/**
 * Where one customer is in one journey. `phase` 'enter' means the step has not started (the runner
 * starts it when due); 'waiting' means it started and waits for `dueAt` (a delay's end, a wait's timeout)
 * or, for wait_for_event, for `signal`.
 */
export interface Position {
  readonly step: string;
  readonly phase: 'enter' | 'waiting';
  /** steps executed so far in this entry: part of every side effect's idempotency key */
  readonly stepsTaken: number;
  readonly signal: Signal | null;
}

/** What woke a waiting entry: the awaited event arrived. */
export interface Signal {
  readonly event: string;
  readonly messageId: string;
  readonly at: number;
}
