/**
 * The reports half of the store port (docs/reports.md): the scans behind funnels, retention, stage
 * flow, message performance and attribution. Each adapter does the filtering and counting its
 * database is good at and hands the domain (src/domain/reports) plain rows; none of these writes.
 */
import type { PerformanceCounts } from '../domain/reports/performance.js';
import type { RetentionCounts } from '../domain/reports/retention.js';
import type { Transition } from '../domain/reports/stage-flow.js';
import type { Touch } from '../domain/reports/attribution.js';
import type { FunnelPath, FunnelSpec } from '../domain/reports/funnel.js';

export interface ReportEventQuery {
  /** track, page and screen events with these names; null: every track, page and screen event */
  readonly names: readonly string[] | null;
  /** event timestamps from `from` (inclusive) to `to` (exclusive) */
  readonly from: number;
  readonly to: number;
  /** read each event's `properties` (costs a JSON parse per event; ask only when a filter needs it) */
  readonly properties: boolean;
}

export interface ReportEventRow {
  readonly profileId: string;
  readonly name: string;
  readonly at: number;
  readonly properties: Record<string, unknown> | null;
}

/** Where a page of report events ended: pass it as `after` for the next. */
export interface ReportCursor {
  readonly profileId: string;
  readonly at: number;
  readonly id: number;
}

/** Event names for report sequences (no property filters: those need each event's properties). */
export interface SequenceQuery {
  /** track, page and screen events with these names (1 to 10, distinct) */
  readonly names: readonly string[];
  /** event timestamps from `from` (inclusive) to `to` (exclusive), each within ±2^48 ms of 1970 */
  readonly from: number;
  readonly to: number;
  /**
   * Only customers who can enter a funnel: with a track, page or screen event named `name` from
   * `from` to `before`. SQLite finds them in the activity rollup (to the month) before reading their
   * events; either way only those who meet the rule are handed over, so a page may hold fewer than
   * `limit` customers, even none, and still have a `next`.
   */
  readonly entering?: { readonly name: string; readonly before: number } | null;
}

/** One customer's matching events, in time order (storage order on equal times). */
export interface CustomerSequence {
  readonly profileId: string;
  /** per event, its name as an index into the query's `names` */
  readonly names: readonly number[];
  /** per event, its timestamp */
  readonly times: readonly number[];
}

/** A funnel without property filters, for a store that finds the paths itself (`funnelPaths`). */
export interface FunnelPathQuery {
  /**
   * the step names' events of the range, of the customers who can enter: `entering` is the first
   * step's name before `spec.to`, and `from` is `spec.from`, so those who enter are exactly those with
   * a path (a store may read customers who cannot enter and drop them by their empty path)
   */
  readonly sequence: SequenceQuery & {
    readonly entering: { readonly name: string; readonly before: number };
  };
  /** per step, the index of its event name in `sequence.names` */
  readonly stepOf: readonly number[];
  readonly spec: Pick<FunnelSpec, 'windowMs' | 'from' | 'to'>;
}

export type RetentionAnchor =
  { readonly kind: 'first_seen' } | { readonly kind: 'first_event'; readonly name: string };

export interface RetentionQuery {
  readonly anchor: RetentionAnchor;
  /** the event that makes a customer count as returning; null: any track, page or screen event */
  readonly activity: string | null;
  /** cohort starts, then the following period ends (domain/reports/retention.ts retentionFrame) */
  readonly bounds: readonly number[];
  readonly cohorts: number;
}

export interface ReportStore {
  /**
   * One page of events (`limit` ≤ 50,000) of canonical customers, ordered by profile id, then
   * timestamp, then storage order, after `after`. Reads what is committed; a scan over many pages is
   * not one snapshot, so events stored meanwhile may or may not be in it.
   */
  reportEvents(
    ws: string,
    q: ReportEventQuery,
    page: { after: ReportCursor | null; limit: number },
  ): Promise<{ rows: ReportEventRow[]; next: ReportCursor | null }>;
  /**
   * One page of customers (`limit` ≤ 10,000 customers) with at least one matching event, each with
   * all of theirs, ordered by profile id after `after`: what funnels read when no step filters on
   * properties. One row per customer instead of one per event, so the database does the grouping.
   * Same snapshot rules as `reportEvents`.
   */
  reportSequences(
    ws: string,
    q: SequenceQuery,
    page: { after: string | null; limit: number },
  ): Promise<{ rows: CustomerSequence[]; next: string | null }>;
  /**
   * Optional (SQLite): the deepest path (domain/reports/funnel.ts `sequencePath`) of every customer
   * `reportSequences` would hand over for `q.sequence`, found on scan threads from ranges of customers
   * read at once, so a large funnel uses every core. Hands `each` the customers whose path has at least
   * one step, a range at a time, one call at a time, ranges in no set order. False when it declines
   * (no scan threads, or few customers can enter): the caller reads `reportSequences` itself. Same
   * snapshot rules as `reportSequences` (each range reads on its own connection).
   */
  funnelPaths?(
    ws: string,
    q: FunnelPathQuery,
    each: (chunk: { ids: string[]; paths: FunnelPath[] }) => Promise<void>,
  ): Promise<boolean>;
  /**
   * The current stage (by 'stage') or segment ids (by 'segment') of each customer asked for; unknown
   * ids are absent. At most 1,000 ids per call.
   */
  profileGroups(ws: string, ids: readonly string[], by: 'stage' | 'segment'): Promise<Map<string, string[]>>;
  /**
   * Cohort sizes and returning customers per (cohort, period) over `bounds`: a customer belongs to the
   * cohort whose period holds their anchor (first seen, or first `anchor.name` event ever), and is
   * active in each later period (their own included) in which they performed the activity event.
   */
  retentionCounts(ws: string, q: RetentionQuery): Promise<RetentionCounts>;
  /**
   * Every stage transition recorded before `before`, grouped by customer in profile-id order, each
   * customer's in time order.
   */
  stageTransitions(ws: string, before: number): Promise<Transition[]>;
  /**
   * Per journey step and channel, the messages created from `from` to `to` and what became of them
   * (each state counted once per message); and per in-app message, the impressions and clicks of
   * customers whose last interaction with it falls in the range (in-app keeps counters, not a log).
   */
  messagePerformance(ws: string, from: number, to: number): Promise<PerformanceCounts[]>;
  /**
   * The messages created from `from` to `to` that went out (were sent), each with its first send,
   * open and click times, ordered by profile id.
   */
  messageTouches(ws: string, from: number, to: number): Promise<(Touch & { readonly profileId: string })[]>;
}

/** The customer has an event named `entering.name` from `from` to `entering.before`. */
export function entersFunnel(c: CustomerSequence, q: SequenceQuery): boolean {
  const name = q.entering ? q.names.indexOf(q.entering.name) : -1;
  if (name < 0) return false;
  for (let i = 0; i < c.names.length; i++)
    if (c.names[i] === name && c.times[i]! >= q.from && c.times[i]! < q.entering!.before) return true;
  return false;
}
