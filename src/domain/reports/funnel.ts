/**
 * Funnels (docs/reports.md#funnels): ordered steps, each an event name with optional property
 * filters, completed within a conversion window that starts at the first step. Pure: the store scans
 * the events, this decides how far each customer got and tallies the groups.
 *
 * A customer enters the funnel with a first-step event inside the date range. From each such start
 * the later steps are matched greedily, each at the earliest event at or after the previous step's
 * time (and later in the timeline) and no later than start + window; the customer's path is the
 * start that goes deepest, the earliest of those on a tie.
 */
import { inTimeOrder, matches, type EventMatch, type ReportEvent } from './events.js';
import { median } from './periods.js';

export interface FunnelSpec {
  readonly steps: readonly EventMatch[];
  readonly windowMs: number;
  /** first-step events count from `from` (inclusive) to `to` (exclusive) */
  readonly from: number;
  readonly to: number;
}

export interface FunnelPath {
  /** how many steps the customer completed (0: never entered) */
  readonly depth: number;
  /** when each completed step happened */
  readonly times: readonly number[];
}

export function funnelPath(events: readonly ReportEvent[], spec: FunnelSpec, now: number): FunnelPath {
  const ordered = inTimeOrder(events);
  // hits[s] = indexes of the events matching step s, ascending
  const hits: number[][] = spec.steps.map(() => []);
  ordered.forEach((e, i) => spec.steps.forEach((s, k) => matches(e, s, now) && hits[k]!.push(i)));
  return deepestPath(
    ordered.map((e) => e.at),
    hits,
    spec,
  );
}

/**
 * The same path from a customer's events already in time order (ascending `times`), and, per step, the
 * indexes of the events that match it (ascending). What funnels use when the store has matched the
 * steps by name, so no event object is made.
 */
export function deepestPath(
  times: readonly number[],
  hits: readonly (readonly number[])[],
  spec: Pick<FunnelSpec, 'windowMs' | 'from' | 'to'>,
): FunnelPath {
  const n = hits.length;
  let best: FunnelPath = { depth: 0, times: [] };
  for (const start of hits[0]!) {
    const t0 = times[start]!;
    if (t0 < spec.from || t0 >= spec.to) continue;
    const path = [t0];
    let idx = start;
    const deadline = t0 + spec.windowMs;
    for (let k = 1; k < n; k++) {
      // Times ascend, so the first match after the previous step's event is the earliest at or
      // after its time; if that one is past the deadline, every later one is too.
      const next = firstAfter(hits[k]!, idx);
      if (next === undefined || times[next]! > deadline) break;
      idx = next;
      path.push(times[next]!);
    }
    if (path.length > best.depth) best = { depth: path.length, times: path };
    if (best.depth === n) break;
  }
  return best;
}

/**
 * The same path from a sequence whose events are name numbers (store/report-store.ts
 * CustomerSequence): step k matches the events whose name is `stepOf[k]`. What funnels without
 * property filters use, on the request's thread or on a store's scan thread alike.
 */
export function sequencePath(
  names: readonly number[],
  times: readonly number[],
  stepOf: readonly number[],
  spec: Pick<FunnelSpec, 'windowMs' | 'from' | 'to'>,
): FunnelPath {
  const hits = stepOf.map((): number[] => []);
  for (let i = 0; i < names.length; i++)
    for (let k = 0; k < stepOf.length; k++) if (stepOf[k] === names[i]) hits[k]!.push(i);
  return deepestPath(times, hits, spec);
}

/** The first value greater than `x` in an ascending list (binary search). */
function firstAfter(list: readonly number[], x: number): number | undefined {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return list[lo];
}

export interface FunnelTally {
  /** customers who reached each step */
  readonly reached: number[];
  /** per step after the first: the times from the previous step of those who reached it */
  readonly gaps: number[][];
}

export function emptyTally(steps: number): FunnelTally {
  return { reached: Array<number>(steps).fill(0), gaps: Array.from({ length: steps }, () => []) };
}

export function tallyPath(t: FunnelTally, p: FunnelPath): void {
  for (let k = 0; k < p.depth; k++) {
    t.reached[k]!++;
    if (k > 0) t.gaps[k]!.push(p.times[k]! - p.times[k - 1]!);
  }
}

export interface FunnelStepResult {
  readonly step: number;
  readonly event: string;
  readonly customers: number;
  /** of those who reached the previous step (1 for the first step with anyone in it) */
  readonly conversionFromPrevious: number;
  /** of those who reached the first step */
  readonly conversionFromFirst: number;
  /** median time from the previous step, in ms; null for the first step or when nobody got here */
  readonly medianMsFromPrevious: number | null;
}

export function funnelSteps(t: FunnelTally, steps: readonly EventMatch[]): FunnelStepResult[] {
  const first = t.reached[0] ?? 0;
  return steps.map((s, k) => {
    const n = t.reached[k]!;
    const prev = k === 0 ? first : t.reached[k - 1]!;
    return {
      step: k + 1,
      event: s.name,
      customers: n,
      conversionFromPrevious: prev > 0 ? n / prev : 0,
      conversionFromFirst: first > 0 ? n / first : 0,
      medianMsFromPrevious: k === 0 ? null : median(t.gaps[k]!),
    };
  });
}
