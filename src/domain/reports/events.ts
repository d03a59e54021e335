/**
 * What report scans hand the domain: one customer's events (name, time, properties when asked for),
 * and the property filters a report step may put on them. Pure.
 */
import { compare, getPath } from '../rules/compare.js';
import type { PropertyFilter } from '../rules/types.js';

export interface ReportEvent {
  readonly name: string;
  readonly at: number;
  /** the event's `properties`; null when the scan was not asked for them */
  readonly properties: Record<string, unknown> | null;
}

/** An event name with property filters that must all hold. */
export interface EventMatch {
  readonly name: string;
  readonly where: readonly PropertyFilter[];
}

export function matches(e: ReportEvent, m: EventMatch, now: number): boolean {
  if (e.name !== m.name) return false;
  for (const f of m.where) if (!compare(getPath(e.properties ?? {}, f.path), f.cmp, now)) return false;
  return true;
}

/**
 * The events in time order. A scan returns them ordered already, but timestamps are client-given and
 * ties are common, so the domain does not depend on it: equal times keep the order they came in.
 */
export function inTimeOrder<T extends { readonly at: number }>(events: readonly T[]): T[] {
  for (let i = 1; i < events.length; i++) {
    if (events[i]!.at < events[i - 1]!.at) return [...events].sort((a, b) => a.at - b.at);
  }
  return events as T[];
}
